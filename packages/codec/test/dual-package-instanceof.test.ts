// An app can load the codec's ESM build (import) and its CJS build (require,
// e.g. through a CJS dependency) at once: two copies of every class. Errors
// are caught far from where they were thrown, so `instanceof UsageError` must
// hold whichever copy threw and whichever copy is asked. Reads dist/: run
// after the build.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as src from '../src/index.js';
import type { UsageErrorCode } from '../src/index.js';

type Codec = typeof import('../src/index.js');

// Not literal specifiers, so type-checking does not depend on a build.
const esmEntry = new URL('../dist/index.js', import.meta.url).href;
const cjsEntry = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));
const esm: Codec = await import(esmEntry);
const cjs: Codec = createRequire(import.meta.url)(cjsEntry);
// The sources, as the other tests load them, are a third copy.
const builds = { esm, cjs, src };
const pairs = [
  ['esm', 'cjs'],
  ['cjs', 'esm'],
  ['esm', 'esm'],
  ['cjs', 'cjs'],
  ['src', 'cjs'],
  ['esm', 'src'],
] as const;

const codes: readonly UsageErrorCode[] = [
  'ERR_SEND_AFTER_CLOSE',
  'ERR_INVALID_CLOSE_CODE',
  'ERR_CLOSE_REASON_TOO_LONG',
  'ERR_CONTROL_PAYLOAD_TOO_LONG',
  'ERR_MESSAGE_INTERLEAVED',
  'ERR_INVALID_ARGUMENT',
  'ERR_INVALID_URL',
  'ERR_INVALID_STATE',
];

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

test('the builds really are separate copies', () => {
  expect(esm.UsageError).not.toBe(cjs.UsageError);
  expect(src.UsageError).not.toBe(esm.UsageError);
  expect(src.UsageError).not.toBe(cjs.UsageError);
  expect(Object.getPrototypeOf(new esm.UsageError('ERR_INVALID_STATE', 'x'))).not.toBe(cjs.UsageError.prototype);
});

describe.each(pairs)('a UsageError of the %s build', (from, to) => {
  test(`is instanceof the ${to} build's UsageError (and Error), for every code and message`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...codes), fc.string(), (code, message) => {
        const error = new builds[from].UsageError(code, message);
        expect(error instanceof builds[to].UsageError).toBe(true);
        expect(error instanceof Error).toBe(true);
        expect(error.code).toBe(code);
      }),
    );
  });

  test(`thrown by the library's own code is instanceof the ${to} build's UsageError`, () => {
    const error = thrownBy(() => builds[from].permessageDeflate({ serverMaxWindowBits: 99 }));
    expect(error instanceof builds[to].UsageError).toBe(true);
    if (!(error instanceof builds[to].UsageError)) return;
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
  });
});

test('nothing else is a UsageError of either build: other errors, look-alikes, any value', () => {
  const lookAlike = Object.assign(new Error('x'), { name: 'UsageError', code: 'ERR_INVALID_STATE' });
  fc.assert(
    fc.property(fc.oneof(fc.anything(), fc.constant(lookAlike), fc.constant(new TypeError('x'))), (value) => {
      expect(value instanceof esm.UsageError).toBe(false);
      expect(value instanceof cjs.UsageError).toBe(false);
      expect(value instanceof src.UsageError).toBe(false);
    }),
  );
});

test('a subclass keeps the ordinary check: its instances are UsageErrors of both builds, not the reverse', () => {
  for (const base of [esm, src]) {
    class RetryableUsageError extends base.UsageError {}
    const sub = new RetryableUsageError('ERR_INVALID_STATE', 'x');
    expect(sub instanceof RetryableUsageError).toBe(true);
    expect(sub instanceof esm.UsageError).toBe(true);
    expect(sub instanceof cjs.UsageError).toBe(true);
    expect(sub instanceof src.UsageError).toBe(true);
    expect(new base.UsageError('ERR_INVALID_STATE', 'x') instanceof RetryableUsageError).toBe(false);
    expect(new cjs.UsageError('ERR_INVALID_STATE', 'x') instanceof RetryableUsageError).toBe(false);
  }
});
