/**
 * The `allocate` accelerator (a platform allocator that skips zero-filling,
 * such as Node's `Buffer.allocUnsafeSlow`): messages are the same as with the
 * default for any payload, fragmentation and split of the byte stream; it is
 * asked only for buffers of a message's exact size; and memory it never
 * cleared (filled here with a marker) never shows in a message.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/frames.js';
import { type EndpointEvent, Opcode, UsageError } from '../src/index.js';
import { openPair, split } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? 150);

/** The frames of one message: `payload` cut at `cuts`, masked (a client's) or not (a server's). */
function messageFrames(opcode: number, payload: Uint8Array, cuts: number[], masked: boolean): Uint8Array {
  const points = [...new Set(cuts.map((c) => Math.min(c, payload.length)))].sort((a, b) => a - b);
  const pieces = split(payload, points);
  if (pieces.length === 0) pieces.push(new Uint8Array(0));
  return concat(
    pieces.map((piece, i) =>
      encodeFrame(
        {
          fin: i === pieces.length - 1,
          opcode: i === 0 ? opcode : Opcode.Continuation,
          ...(masked && { maskKey: new Uint8Array([1, 2, 3, 4]) }),
        },
        piece,
      ),
    ),
  );
}

/** Feeds `bytes` in `reads` to a server (masked frames) or a client (unmasked ones) made with `allocate`. */
function receiveAll(
  allocate: ((n: number) => Uint8Array) | undefined,
  bytes: Uint8Array,
  reads: number[],
  masked: boolean,
) {
  const options = allocate === undefined ? {} : { allocate };
  const pair = openPair(masked ? { server: options } : { client: options });
  const receiver = masked ? pair.server : pair.client;
  const events: EndpointEvent[] = [];
  for (const chunk of split(bytes, reads)) {
    receiver.receive(chunk.slice());
    events.push(...receiver.events());
  }
  return events;
}

describe('a message allocator that skips zero-filling', () => {
  it('changes no message, whatever the fragmentation and the reads, and is asked for exact sizes only', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(Opcode.Binary, Opcode.Text),
        fc.integer({ min: 0, max: 30_000 }),
        fc.array(fc.nat({ max: 30_000 }), { maxLength: 4 }),
        fc.array(fc.nat({ max: 40_000 }), { maxLength: 8 }),
        fc.boolean(),
        (opcode, size, cuts, reads, masked) => {
          const payload = new Uint8Array(size);
          for (let i = 0; i < size; i++) payload[i] = 0x20 + (i % 90);
          const bytes = messageFrames(opcode, payload, cuts, masked);
          const asked: number[] = [];
          const dirty = (n: number) => {
            asked.push(n);
            return new Uint8Array(n).fill(0xaa); // what an unzeroed allocation may hold
          };
          const withAllocator = receiveAll(dirty, bytes, reads, masked);
          expect(withAllocator).toEqual(receiveAll(undefined, bytes, reads, masked));
          expect(withAllocator).toHaveLength(1);
          for (const n of asked) expect(n).toBe(size);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("a server's one-frame message split across reads is assembled in a buffer from the allocator", () => {
    let asked = 0;
    const payload = new Uint8Array(100_000).fill(7);
    const bytes = messageFrames(Opcode.Binary, payload, [], false);
    const events = receiveAll(
      (n) => {
        asked++;
        return new Uint8Array(n).fill(0xaa);
      },
      bytes,
      [30_000, 60_000],
      false,
    );
    expect(asked).toBe(1);
    expect(events).toEqual([{ type: 'binary', data: payload }]);
  });

  it('an allocator returning the wrong size is a usage error, not corrupt data', () => {
    const bytes = messageFrames(Opcode.Binary, new Uint8Array(10_000), [], false);
    expect(() => receiveAll((n) => new Uint8Array(n - 1), bytes, [5_000], false)).toThrow(UsageError);
  });
});
