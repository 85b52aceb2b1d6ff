// An app can load this package's ESM build and its CJS build at once (and,
// through them, both builds of the codec): two copies of every class. The
// error classes must answer `instanceof` across copies, since errors are
// caught far from where they were thrown. Reads dist/: run after the build.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@rfc6455/codec';
import { describe, expect, test } from 'vitest';

type Client = typeof import('../src/index.js');

// Not literal specifiers, so type-checking does not depend on a build.
const esmEntry = new URL('../dist/index.js', import.meta.url).href;
const cjsEntry = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));
const esm: Client = await import(esmEntry);
const cjs: Client = createRequire(import.meta.url)(cjsEntry);
const builds = { esm, cjs };
const pairs = [
  ['esm', 'cjs'],
  ['cjs', 'esm'],
] as const;

/** The error a WebSocket of this build reports when it has no transport to dial with (the main entry has none). */
function handshakeErrorOf(build: Client): Promise<unknown> {
  return new Promise((resolve) => {
    const ws = new build.WebSocket('ws://127.0.0.1:9/');
    ws.onerror = (ev) => resolve(ev.error);
  });
}

test('the two builds really are two copies', () => {
  expect(esm.HandshakeError).not.toBe(cjs.HandshakeError);
  expect(esm.WebSocketError).not.toBe(cjs.WebSocketError);
});

describe.each(pairs)('errors of the %s build', (from, to) => {
  test(`a HandshakeError the client reports is instanceof the ${to} build's HandshakeError`, async () => {
    const error = await handshakeErrorOf(builds[from]);
    expect(error instanceof builds[to].HandshakeError).toBe(true);
    expect(error instanceof builds[to].WebSocketError).toBe(false);
    if (error instanceof builds[to].HandshakeError) expect(error.code).toBe('transport');
  });

  test(`a WebSocketError is instanceof the ${to} build's WebSocketError only`, () => {
    const error = new builds[from].WebSocketError('unclean', { closeCode: 1006, reason: '' });
    expect(error instanceof builds[to].WebSocketError).toBe(true);
    expect(error instanceof builds[to].HandshakeError).toBe(false);
    expect(error instanceof Error).toBe(true);
  });

  test("the codec's UsageError thrown through this build is instanceof the codec's ESM UsageError", () => {
    let error: unknown;
    try {
      new builds[from].WebSocket('ws://127.0.0.1:9/', undefined, { perMessageDeflate: { serverMaxWindowBits: 99 } });
    } catch (caught) {
      error = caught;
    }
    expect(error instanceof UsageError).toBe(true);
  });
});

test('look-alikes and subclasses: the brand is per class, subclasses keep the ordinary check', () => {
  const lookAlike = Object.assign(new Error('x'), { name: 'HandshakeError', code: 'rejected' });
  expect(lookAlike instanceof esm.HandshakeError).toBe(false);
  expect(lookAlike instanceof cjs.HandshakeError).toBe(false);
  class RedirectError extends esm.HandshakeError {}
  const sub = new RedirectError('rejected', 'moved');
  expect(sub instanceof cjs.HandshakeError).toBe(true);
  expect(new cjs.HandshakeError('rejected', 'x') instanceof RedirectError).toBe(false);
});
