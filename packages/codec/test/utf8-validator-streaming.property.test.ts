/**
 * The streaming UTF-8 validator agrees with the platform's fatal TextDecoder
 * on every input, however it is cut into pieces and wherever the pieces sit
 * in memory (its ASCII scan reads aligned words), with or without a native
 * whole-input validator lending a hand: it refuses exactly the piece that
 * holds the first byte that cannot be UTF-8, and a refused piece changes
 * nothing.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import { isValidUtf8, Utf8Validator } from '../src/index.js';

const RUNS = Number(process.env.FC_RUNS ?? 500);
const encoder = new TextEncoder();

/** Index of the first byte that no valid UTF-8 could continue with; `length` when only the end is unfinished; -1 when valid. */
function firstBadByte(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length; i++) {
    try {
      decoder.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  try {
    decoder.decode();
    return -1;
  } catch {
    return bytes.length;
  }
}

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => encoder.encode(s)) },
  {
    weight: 2,
    arbitrary: fc.string({ unit: 'binary-ascii', minLength: 120, maxLength: 600 }).map((s) => encoder.encode(s)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xe0, 0x9f, 0xbf],
        [0xc1, 0xbf],
        [0xf0, 0x90],
        [0xe2],
      )
      .map((b) => Uint8Array.from(b)),
  },
);
const input = fc.array(piece, { maxLength: 8 }).map((p) => concat(p));

describe.each([
  ['its own scan', undefined],
  ['a native validator for runs', (bytes: Uint8Array) => isUtf8(bytes)],
] as const)('the UTF-8 validator with %s', (_name, whole) => {
  it('refuses exactly the piece holding the first bad byte, and a refused piece changes nothing', () => {
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 8 }), fc.nat(7), (bytes, cuts, offset) => {
        // The input sits at an arbitrary offset of a larger buffer, as a frame inside a read does.
        const memory = new Uint8Array(bytes.length + offset + 3);
        memory.set(bytes, offset);
        const view = memory.subarray(offset, offset + bytes.length);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...points.filter((p) => p > 0 && p < bytes.length), bytes.length];
        const bad = firstBadByte(bytes);
        const v = new Utf8Validator(whole);
        let refused = -1;
        for (let i = 0; i + 1 < bounds.length; i++) {
          const [from, to] = [bounds[i] as number, bounds[i + 1] as number];
          const before = v.incomplete;
          if (!v.feed(view, from, to, false)) {
            refused = i;
            // Nothing moved: the same piece is refused again.
            expect(v.incomplete).toBe(before);
            expect(v.feed(view, from, to, false)).toBe(false);
            expect(bad >= from && bad < to).toBe(true);
            break;
          }
        }
        if (bad === -1 || bad === bytes.length) {
          expect(refused).toBe(-1);
          expect(v.incomplete).toBe(bad === bytes.length);
        } else {
          expect(refused).toBeGreaterThanOrEqual(0);
        }
        expect(isValidUtf8(view)).toBe(bad === -1);
        expect(new Utf8Validator(whole).feed(view, 0, view.length, true)).toBe(bad === -1);
      }),
      { numRuns: RUNS },
    );
  });
});
