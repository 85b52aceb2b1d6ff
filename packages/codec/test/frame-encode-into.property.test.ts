/**
 * encodeFrameInto() writes into the caller's buffer exactly the frame
 * encodeFrame() would allocate, at any offset and touching nothing else; the
 * frames parse back with parseFrameHeader(), and ws's Receiver, an
 * independent decoder, reads frames written back to back into one buffer.
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { equals } from 'uint8arrays/equals';
import {
  encodedFrameLength,
  encodeFrame,
  encodeFrameHeader,
  encodeFrameInto,
  type FrameInit,
  parseFrameHeader,
} from '../src/frames.js';

// ws's frame Receiver, from its CommonJS entry; it carries no types.
const { Receiver } = createRequire(import.meta.url)('ws') as {
  Receiver: new (
    options: object,
  ) => {
    on(event: string, fn: (...args: unknown[]) => void): void;
    _write(chunk: Buffer, encoding: string, cb: (err?: Error) => void): void;
  };
};

const SENTINEL = 0xa5;

const length = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 130 }), weight: 5 },
  { arbitrary: fc.integer({ min: 126, max: 5000 }), weight: 2 },
  // The 64-bit length encoding, and past the size from which masked frames go through scratch memory.
  { arbitrary: fc.integer({ min: 65_530, max: 70_000 }), weight: 1 },
);

const init: fc.Arbitrary<FrameInit> = fc.record(
  {
    fin: fc.boolean(),
    rsv: fc.constantFrom(0, 0x40, 0x20, 0x10, 0x70),
    opcode: fc.integer({ min: 0, max: 15 }),
    maskKey: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  },
  { requiredKeys: ['opcode'] },
);

function payloadOf(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

describe('encodeFrameInto', () => {
  it('writes the bytes encodeFrame allocates, where it is told, and nothing else', () => {
    fc.assert(
      fc.property(
        init,
        length,
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 20 }),
        fc.nat(),
        (frame, n, offset, slack, seed) => {
          const payload = payloadOf(n, seed);
          const before = payload.slice();
          const size = encodedFrameLength(n, frame.maskKey !== undefined);
          const target = new Uint8Array(offset + size + slack).fill(SENTINEL);
          const end = encodeFrameInto(frame, payload, target, offset);
          expect(end).toBe(offset + size);
          expect(equals(target.subarray(offset, end), encodeFrame(frame, payload))).toBe(true);
          expect(target.subarray(0, offset).every((b) => b === SENTINEL)).toBe(true);
          expect(target.subarray(end).every((b) => b === SENTINEL)).toBe(true);
          // The payload is the caller's: masking it into the target leaves it as it was.
          expect(equals(payload, before)).toBe(true);
          const parsed = parseFrameHeader(target, offset, { allowedRsv: 0x70 });
          // Reserved opcodes and fragmented control frames are 'invalid', with the header read all the same.
          if (parsed.type === 'need-more' || parsed.header === null) throw new Error(`no header read: ${parsed.type}`);
          const h = parsed.header;
          expect(h).toMatchObject({
            fin: frame.fin ?? true,
            rsv: frame.rsv ?? 0,
            opcode: frame.opcode,
            masked: frame.maskKey !== undefined,
            payloadLength: n,
          });
          expect(equals(target.subarray(offset, offset + h.headerLength), encodeFrameHeader(frame, n))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  for (const role of ['client', 'server'] as const) {
    it(`frames a ${role} writes back to back into one buffer are the messages for ws's Receiver`, () => {
      const masked = role === 'client';
      fc.assert(
        fc.property(
          fc.array(fc.tuple(length, fc.boolean(), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat()), {
            minLength: 1,
            maxLength: 6,
          }),
          (specs) => {
            const payloads = specs.map(([n, , , seed]) => payloadOf(n, seed));
            const total = payloads.reduce((sum, p) => sum + encodedFrameLength(p.length, masked), 0);
            const buf = new Uint8Array(total + 3);
            let at = 3;
            specs.forEach(([, text, maskKey], i) => {
              const payload = payloads[i] as Uint8Array;
              // Text frames carry ASCII, which is valid UTF-8.
              const data = text ? payload.map((b) => b & 0x7f) : payload;
              payloads[i] = data;
              at = encodeFrameInto({ opcode: text ? 1 : 2, ...(masked && { maskKey }) }, data, buf, at);
            });
            expect(at).toBe(buf.length);
            const received: Uint8Array[] = [];
            let error: Error | undefined;
            const receiver = new Receiver({ isServer: masked, maxPayload: 0, allowSynchronousEvents: true });
            receiver.on('message', (data) => received.push(new Uint8Array(data as Buffer)));
            receiver._write(Buffer.from(buf.subarray(3)), 'buffer', (err) => {
              error ??= err;
            });
            expect(error).toBeUndefined();
            expect(received).toHaveLength(payloads.length);
            for (const [i, r] of received.entries()) expect(equals(r, payloads[i] as Uint8Array)).toBe(true);
          },
        ),
        { numRuns: 100 },
      );
    });
  }

  it('refuses a target without room, a bad offset or a key that is not 4 bytes, writing nothing', () => {
    const payload = payloadOf(10, 1);
    const target = new Uint8Array(20).fill(SENTINEL);
    const refused = expect.objectContaining({ name: 'UsageError', code: 'ERR_INVALID_ARGUMENT' });
    expect(() => encodeFrameInto({ opcode: 2 }, payload, target, 9)).toThrow(refused);
    expect(() => encodeFrameInto({ opcode: 2, maskKey: new Uint8Array(4) }, payload, target, 5)).toThrow(refused);
    expect(() => encodeFrameInto({ opcode: 2 }, payload, target, -1)).toThrow(refused);
    expect(() => encodeFrameInto({ opcode: 2 }, payload, target, 0.5)).toThrow(refused);
    expect(() => encodeFrameInto({ opcode: 2, maskKey: new Uint8Array(3) }, payload, target, 0)).toThrow(refused);
    expect(target.every((b) => b === SENTINEL)).toBe(true);
    // Exactly enough room is enough.
    expect(encodeFrameInto({ opcode: 2 }, payload, target, 8)).toBe(20);
  });

  it('encodedFrameLength counts the shortest length encoding and the key, and refuses impossible lengths', () => {
    expect([0, 125, 126, 65_535, 65_536].map((n) => encodedFrameLength(n, false) - n)).toEqual([2, 2, 4, 4, 10]);
    expect(encodedFrameLength(125, true)).toBe(131);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => encodedFrameLength(bad, false)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });
});
