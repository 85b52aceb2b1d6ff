import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts'],
    reporters: ['default', './scripts/count-reporter.ts'],
    coverage: {
      provider: 'v8',
      // The codec is the part every runtime shares: its coverage is a gate.
      include: ['packages/codec/src/**/*.ts'],
      // Entry points that only re-export.
      exclude: ['packages/codec/src/index.ts', 'packages/codec/src/frames.ts', 'packages/codec/src/http.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      thresholds: { lines: 95, branches: 90 },
    },
  },
});
