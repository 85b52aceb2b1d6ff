/**
 * Frames assembled in scratch memory: maskIntoScratch() masks as RFC 6455
 * §5.3 defines at any length, position and key offset, with the WebAssembly
 * kernel and without it, touching nothing before the copy and at most the
 * kernel's 64 bytes of overrun after it; copyOf() is an independent copy.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { equals } from 'uint8arrays/equals';
import { copyOf } from '../src/byte-copy.js';
import { maskIntoScratch, SCRATCH_LIMIT, scratch, useSimd } from '../src/mask.js';

function reference(src: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  return src.map((b, i) => b ^ (key[(offset + i) % 4] as number));
}

const SENTINEL = 0xa5;
const OVERRUN = 64;

for (const backend of ['default', 'js'] as const) {
  describe(`masking into scratch memory (${backend} path)`, () => {
    afterAll(() => {
      useSimd(true);
    });

    it('matches the reference and leaves the bytes around the copy alone', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 60_000, max: 140_000 })),
          fc.integer({ min: 0, max: 100 }),
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
          (n, at, key, offset, fillByte) => {
            useSimd(backend === 'default');
            const src = new Uint8Array(n).map((_, i) => (i * 7 + fillByte) & 0xff);
            const mem = scratch(at + n + OVERRUN);
            if (mem === null) throw new Error('scratch memory for this size exists');
            mem.fill(SENTINEL, 0, at + n + 2 * OVERRUN);
            maskIntoScratch(src, mem, at, key, offset);
            expect(equals(mem.subarray(at, at + n), reference(src, key, offset))).toBe(true);
            expect(mem.subarray(0, at).every((b) => b === SENTINEL)).toBe(true);
            expect(mem.subarray(at + n + OVERRUN, at + n + 2 * OVERRUN).every((b) => b === SENTINEL)).toBe(true);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
}

describe('scratch memory', () => {
  it('holds a 1 MiB payload with the longest header, and no more', () => {
    expect(scratch(1024 * 1024 + 14)?.length).toBeGreaterThanOrEqual(1024 * 1024 + 14);
    expect(scratch(SCRATCH_LIMIT + 1)).toBeNull();
  });

  it('leaves in a copy that later use of the scratch memory does not change', () => {
    const mem = scratch(1000);
    if (mem === null) throw new Error('scratch memory for 1000 bytes exists');
    mem.fill(7, 0, 1000);
    const copy = copyOf(mem.subarray(0, 1000));
    mem.fill(9, 0, 1000);
    expect(copy.length).toBe(1000);
    expect(copy.every((b) => b === 7)).toBe(true);
    expect(copy.buffer).not.toBe(mem.buffer);
  });
});
