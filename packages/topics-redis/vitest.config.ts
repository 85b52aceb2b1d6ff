import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'topics-redis',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
