import { defineConfig } from 'tsup';

export default defineConfig({
  // The library (the dissector, reusable by other tools) and the binary.
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
