import { defineProject } from 'vitest/config';

// RFC6455_TEST=unit is the inner loop (`pnpm test:unit`): the codec's own tests
// from source in seconds. It leaves out what needs the built package or a
// peer implementation (the bundle and declaration checks, the ws oracles,
// sessions over real sockets) and runs each env-scaled property 25 times.
// The full run (`pnpm test`, CI) has every file at full strength.
const NEEDS_BUILD_OR_PEER = [
  'test/dual-package-instanceof.test.ts',
  'test/handshake-interop.test.ts',
  'test/internal-declarations-unpublished.test.ts',
  'test/permessage-deflate-ws.test.ts',
  'test/purity.test.ts',
  'test/session-over-bytes.test.ts',
  'test/ws-oracle.test.ts',
];

const unit = process.env.RFC6455_TEST === 'unit';

export default defineProject({
  test: {
    name: 'codec',
    include: ['test/**/*.test.ts'],
    exclude: unit ? NEEDS_BUILD_OR_PEER : [],
    env: unit ? { FC_RUNS: process.env.FC_RUNS ?? '25' } : {},
    testTimeout: 60_000,
  },
});
