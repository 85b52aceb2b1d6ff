/**
 * encodeFrame's small frames and encodeFrameHeader's headers are carved out
 * of a shared ArrayBuffer. What a caller may rely on all the same: every
 * result is its bytes alone through its own offset and length, results never
 * alias one another (writing into one changes no other, across the point
 * where a used-up pool is replaced), and a pool whose buffer a caller
 * transferred against the documentation does not break later calls.
 */
import fc from 'fast-check';
import { equals } from 'uint8arrays/equals';
import { describe, expect, it } from 'vitest';
import { encodedFrameLength, encodeFrame, encodeFrameHeader } from '../src/frames.js';

const RUNS = Number(process.env.FC_RUNS ?? 100);

type Call = { readonly api: 'frame' | 'header'; readonly n: number; readonly masked: boolean };

const call: fc.Arbitrary<Call> = fc.record({
  api: fc.constantFrom('frame', 'header'),
  n: fc.oneof(
    { arbitrary: fc.nat({ max: 130 }), weight: 3 },
    // Up to a little past the largest pooled frame, so pools fill up and are replaced within a run.
    { arbitrary: fc.integer({ min: 126, max: 4200 }), weight: 2 },
  ),
  masked: fc.boolean(),
});

const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

function encode({ api, n, masked }: Call, seed: number): Uint8Array {
  const init = { opcode: 2, ...(masked && { maskKey: KEY }) };
  if (api === 'header') return encodeFrameHeader(init, n);
  return encodeFrame(
    init,
    Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff),
  );
}

describe("encodeFrame's shared pool", () => {
  it('hands out results that never alias: filling each in turn leaves every other as it was filled', () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 60 }), (calls) => {
        const results = calls.map((c, i) => encode(c, i));
        for (const [i, r] of results.entries()) {
          const c = calls[i] as Call;
          const frame = encodedFrameLength(c.n, c.masked);
          expect(r.length).toBe(c.api === 'header' ? frame - c.n : frame);
        }
        // A distinct marker per result (at most 60 < 255): if two results shared
        // a byte, the later fill would show through in the earlier one.
        for (const [i, r] of results.entries()) r.fill(i + 1);
        for (const [i, r] of results.entries()) expect(r.every((b) => b === i + 1)).toBe(true);
      }),
      {
        numRuns: RUNS,
        examples: [
          // Twenty frames of 4 KiB: more than one 64 KiB pool.
          [Array.from({ length: 20 }, () => ({ api: 'frame' as const, n: 4088, masked: true }))],
          [
            Array.from({ length: 40 }, (_, i) => ({
              api: i % 2 ? ('header' as const) : ('frame' as const),
              n: 3000,
              masked: false,
            })),
          ],
        ],
      },
    );
  });

  it('keeps a result intact while later calls carve up the rest of its pool and the next', () => {
    const first = encodeFrame({ opcode: 1 }, new TextEncoder().encode('kept'));
    const copy = first.slice();
    for (let i = 0; i < 100; i++) encodeFrame({ opcode: 2 }, new Uint8Array(4000).fill(0xee));
    expect(equals(first, copy)).toBe(true);
  });

  it('recovers from a transferred pool: later frames are right, though the ones that shared it are gone', () => {
    const payload = Uint8Array.of(1, 2, 3);
    let victim = encodeFrame({ opcode: 2 }, payload);
    let transferred = encodeFrame({ opcode: 2 }, payload);
    // Two results from one pool (unless the pool was replaced in between, as it may be once).
    while (victim.buffer !== transferred.buffer) {
      victim = transferred;
      transferred = encodeFrame({ opcode: 2 }, payload);
    }
    // What the documentation forbids: it detaches every result carved from that pool.
    structuredClone(transferred.buffer, { transfer: [transferred.buffer] });
    expect(victim.length).toBe(0);
    const next = encodeFrame({ opcode: 2 }, payload);
    expect([...next]).toEqual([0x82, 3, 1, 2, 3]);
    expect([...encodeFrameHeader({ opcode: 1 }, 5)]).toEqual([0x81, 5]);
  });
});
