import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'topics',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
