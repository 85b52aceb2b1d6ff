import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { maskInto, unmaskInPlace, useSimd } from '../src/mask.js';

/** The definition (RFC 6455 §5.3), byte by byte. */
function reference(src: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = (src[i] as number) ^ (key[(offset + i) % 4] as number);
  return out;
}

/** Index of the first differing byte, or -1 (vitest's deep equality is slow on large arrays). */
function diff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Deterministic filler, so large buffers need not come from fast-check arrays. */
function fill(bytes: Uint8Array, seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < bytes.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    bytes[i] = s & 0xff;
  }
}

const length = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 5 },
  { arbitrary: fc.integer({ min: 300, max: 5000 }), weight: 3 },
  // Beyond one 64 KiB block of the WebAssembly kernel.
  { arbitrary: fc.integer({ min: 65_536 - 70, max: 200_000 }), weight: 1 },
);

const input = fc.record({
  length,
  srcAt: fc.integer({ min: 0, max: 31 }),
  dstAt: fc.integer({ min: 0, max: 31 }),
  dstStart: fc.integer({ min: 0, max: 19 }),
  key: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  offset: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat()),
  seed: fc.integer(),
});

const runs = { numRuns: 300 };

for (const backend of ['default', 'js'] as const) {
  describe(`masking (${backend} path)`, () => {
    const simd = useSimd(backend === 'default');
    afterAll(() => {
      useSimd(true);
    });

    it(`uses ${backend === 'js' ? 'no' : 'the WebAssembly'} SIMD kernel where the runtime has one`, () => {
      expect(simd).toBe(backend === 'default' && typeof WebAssembly === 'object');
    });

    it('maskInto matches the reference at any length, alignment and key offset', () => {
      fc.assert(
        fc.property(input, ({ length: n, srcAt, dstAt, dstStart, key, offset, seed }) => {
          useSimd(backend === 'default');
          const srcMem = new Uint8Array(srcAt + n + 7);
          fill(srcMem, seed);
          const src = srcMem.subarray(srcAt, srcAt + n);
          const before = srcMem.slice();
          const dstMem = new Uint8Array(dstAt + dstStart + n + 9).fill(0xa5);
          const dst = dstMem.subarray(dstAt);
          maskInto(src, dst, dstStart, key, offset);
          expect(diff(dst.subarray(dstStart, dstStart + n), reference(src, key, offset))).toBe(-1);
          // Nothing outside the destination range was touched, and the source is unchanged.
          expect(dstMem.subarray(0, dstAt + dstStart).findIndex((b) => b !== 0xa5)).toBe(-1);
          expect(dstMem.subarray(dstAt + dstStart + n).findIndex((b) => b !== 0xa5)).toBe(-1);
          expect(diff(srcMem, before)).toBe(-1);
        }),
        runs,
      );
    });

    it('unmaskInPlace matches the reference and touches nothing around the view', () => {
      fc.assert(
        fc.property(input, ({ length: n, srcAt, key, offset, seed }) => {
          useSimd(backend === 'default');
          const mem = new Uint8Array(srcAt + n + 5);
          fill(mem, seed);
          const original = mem.slice();
          const data = mem.subarray(srcAt, srcAt + n);
          const expected = reference(data, key, offset);
          unmaskInPlace(data, key, offset);
          expect(diff(data, expected)).toBe(-1);
          expect(diff(mem.subarray(0, srcAt), original.subarray(0, srcAt))).toBe(-1);
          expect(diff(mem.subarray(srcAt + n), original.subarray(srcAt + n))).toBe(-1);
        }),
        runs,
      );
    });

    it('maskInto in place (src and dst the same view) equals unmaskInPlace', () => {
      fc.assert(
        fc.property(input, ({ length: n, srcAt, key, offset, seed }) => {
          useSimd(backend === 'default');
          const mem = new Uint8Array(srcAt + n);
          fill(mem, seed);
          const data = mem.subarray(srcAt);
          const expected = reference(data, key, offset);
          maskInto(data, data, 0, key, offset);
          expect(diff(data, expected)).toBe(-1);
          // The same memory addressed through a wider destination view.
          maskInto(data, mem, srcAt, key, offset);
          expect(diff(mem.subarray(srcAt), reference(expected, key, offset))).toBe(-1);
        }),
        runs,
      );
    });

    it('unmasking in pieces with running offsets equals unmasking the whole', () => {
      fc.assert(
        fc.property(
          input,
          fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 6 }),
          ({ length: n, srcAt, key, seed }, cuts) => {
            useSimd(backend === 'default');
            const mem = new Uint8Array(srcAt + n);
            fill(mem, seed);
            const data = mem.subarray(srcAt);
            const expected = reference(data, key, 0);
            const points = [...new Set([0, n, ...cuts.map((c) => c % (n + 1))])].sort((a, b) => a - b);
            const copy = new Uint8Array(n + 3);
            for (let i = 1; i < points.length; i++) {
              const a = points[i - 1] as number;
              const b = points[i] as number;
              // Alternate between copying out and unmasking in place.
              if (i % 2) maskInto(data.subarray(a, b), copy, 3 + a, key, a);
              else {
                unmaskInPlace(data.subarray(a, b), key, a);
                copy.set(data.subarray(a, b), 3 + a);
              }
            }
            expect(diff(copy.subarray(3), expected)).toBe(-1);
          },
        ),
        runs,
      );
    });

    it('reads a key that lives in the destination buffer, just before the payload', () => {
      for (const n of [0, 5, 127, 128, 1000, 70_000]) {
        const payload = new Uint8Array(n);
        fill(payload, n);
        const out = new Uint8Array(3 + 4 + n);
        out.set([0x12, 0x34, 0x56, 0x78], 3);
        const key = out.subarray(3, 7);
        maskInto(payload, out, 7, key, 0);
        expect(diff(out.subarray(7), reference(payload, Uint8Array.of(0x12, 0x34, 0x56, 0x78), 0))).toBe(-1);
      }
    });
  });
}
