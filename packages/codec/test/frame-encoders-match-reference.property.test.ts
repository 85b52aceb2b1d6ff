/**
 * Every public frame encoder writes the bytes RFC 6455 §5.2 specifies, as
 * `@rfc6455/codec/testing`'s encoder builds them field by field (it shares
 * no code with the codec's encoders): encodeFrame's whole frame,
 * encodeFrameHeader's header, and encodeFrameInto's frame in the caller's
 * buffer, for any header fields, mask and payload length — each length
 * encoding, small frames from the shared pool and larger ones on their own,
 * masked frames assembled in scratch memory — and parseFrameHeader reads
 * every length the reference writes.
 */
import fc from 'fast-check';
import { equals } from 'uint8arrays/equals';
import { describe, expect, it } from 'vitest';
import {
  encodedFrameLength,
  encodeFrame,
  encodeFrameHeader,
  encodeFrameInto,
  type FrameInit,
  parseFrameHeader,
} from '../src/frames.js';
import { encodeFrame as referenceFrame, type FrameSpec } from '../src/testing.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const SENTINEL = 0xa5;

/** Payload lengths around every boundary that changes how a frame is made. */
const length = fc.oneof(
  // The 7-bit length field, and the first 16-bit lengths.
  { arbitrary: fc.integer({ min: 0, max: 130 }), weight: 6 },
  { arbitrary: fc.integer({ min: 126, max: 5000 }), weight: 3 },
  // Around 4 KiB, the largest frame taken from the shared pool.
  { arbitrary: fc.integer({ min: 4070, max: 4100 }), weight: 2 },
  // The 64-bit length field, and past 16 KiB, from which masked frames go through scratch memory.
  { arbitrary: fc.integer({ min: 65_530, max: 70_000 }), weight: 1 },
);

interface Case {
  readonly init: FrameInit;
  readonly payload: Uint8Array;
}

/** Header fields as a caller writes them: fin and rsv may be left to their defaults (true, 0). */
const frameCase: fc.Arbitrary<Case> = fc
  .record(
    {
      fin: fc.boolean(),
      rsv: fc.integer({ min: 0, max: 7 }).map((bits) => bits << 4),
      opcode: fc.integer({ min: 0, max: 15 }),
      maskKey: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    },
    { requiredKeys: ['opcode'] },
  )
  .chain((init) => fc.tuple(fc.constant(init), length, fc.nat()))
  .map(([init, n, seed]) => ({ init, payload: Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed) & 0xff) }));

function reference({ init, payload }: Case): Uint8Array {
  const spec: FrameSpec = {
    fin: init.fin ?? true,
    rsv: init.rsv ?? 0,
    opcode: init.opcode,
    payload,
    maskKey: init.maskKey ?? null,
  };
  return referenceFrame(spec);
}

describe('the frame encoders against an independent reference encoding', () => {
  it('encodeFrame returns the whole frame, and leaves the payload as it was', () => {
    fc.assert(
      fc.property(frameCase, (c) => {
        const before = c.payload.slice();
        const frame = encodeFrame(c.init, c.payload);
        expect(equals(frame, reference(c))).toBe(true);
        expect(equals(c.payload, before)).toBe(true);
      }),
      {
        numRuns: RUNS,
        examples: [
          [{ init: { opcode: 2 }, payload: new Uint8Array(0) }],
          // The largest pooled frame, masked, and one byte more.
          [{ init: { opcode: 2, maskKey: Uint8Array.of(1, 2, 3, 4) }, payload: new Uint8Array(4088).fill(7) }],
          [{ init: { opcode: 2, maskKey: Uint8Array.of(1, 2, 3, 4) }, payload: new Uint8Array(4089).fill(7) }],
        ],
      },
    );
  });

  it('encodeFrameHeader returns the frame up to its payload', () => {
    fc.assert(
      fc.property(frameCase, (c) => {
        const n = c.payload.length;
        const expected = reference(c);
        expect(equals(encodeFrameHeader(c.init, n), expected.subarray(0, expected.length - n))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('encodeFrameHeader writes any length up to 2^53 - 1, and parseFrameHeader reads it back', () => {
    const huge = fc.oneof(fc.integer({ min: 0, max: 0x1_0000_0000 }), fc.maxSafeNat());
    fc.assert(
      fc.property(huge, fc.boolean(), (n, masked) => {
        const init = { opcode: 2, ...(masked && { maskKey: Uint8Array.of(9, 8, 7, 6) }) };
        // The reference header alone: no payload, the length declared.
        const spec = { fin: true, rsv: 0, opcode: 2, payload: new Uint8Array(0), maskKey: init.maskKey ?? null };
        const expected = referenceFrame({ ...spec, declaredLength: n });
        expect(equals(encodeFrameHeader(init, n), expected)).toBe(true);
        const parsed = parseFrameHeader(expected);
        if (parsed.type !== 'header') throw new Error(parsed.type);
        expect(parsed.header.payloadLength).toBe(n);
      }),
      {
        numRuns: RUNS,
        examples: [
          // Found: the header was 9 bytes, the frame's length (which rounds near 2^53) minus the payload's.
          [Number.MAX_SAFE_INTEGER, false],
          // Found: the two most significant length bytes were always written as 0.
          [2 ** 48, false],
          [Number.MAX_SAFE_INTEGER, true],
          [65_536, false],
          [2 ** 32, true],
          [2 ** 32 - 1, false],
        ],
      },
    );
  });

  it('encodeFrameInto writes the frame at the offset it is given, and nothing else', () => {
    fc.assert(
      fc.property(frameCase, fc.nat({ max: 40 }), fc.nat({ max: 20 }), (c, offset, slack) => {
        const expected = reference(c);
        expect(encodedFrameLength(c.payload.length, c.init.maskKey !== undefined)).toBe(expected.length);
        const target = new Uint8Array(offset + expected.length + slack).fill(SENTINEL);
        const end = encodeFrameInto(c.init, c.payload, target, offset);
        expect(end).toBe(offset + expected.length);
        expect(equals(target.subarray(offset, end), expected)).toBe(true);
        expect(target.subarray(0, offset).every((b) => b === SENTINEL)).toBe(true);
        expect(target.subarray(end).every((b) => b === SENTINEL)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
