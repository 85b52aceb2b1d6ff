/**
 * A client's large binary messages (RFC 6455 §5.3: every client frame is
 * masked with a fresh key): masked in 64 KiB blocks past 64 KiB, in scratch
 * memory below. ws's Receiver, as a server, must read back the very bytes
 * sent, whatever the size around the block boundaries, and the caller's
 * payload must be left as it was.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { equals } from 'uint8arrays/equals';
import { describe, expect, it } from 'vitest';
import { client } from './helpers.js';

const ws = createRequire(import.meta.url)('ws') as {
  Receiver: new (
    options: object,
  ) => {
    on(event: string, fn: (...args: unknown[]) => void): void;
    _write(chunk: Buffer, encoding: string, cb: (err?: Error) => void): void;
  };
};

const BLOCK = 65536;
const size = fc.oneof(
  fc.integer({ min: BLOCK - 20, max: BLOCK + 20 }),
  fc.integer({ min: 2 * BLOCK - 3, max: 2 * BLOCK + 3 }),
  fc.integer({ min: BLOCK, max: 5 * BLOCK + 7 }),
);

describe('large masked messages from a client', () => {
  it('are read back by ws byte for byte, and the payload given is not changed', () => {
    const endpoint = client();
    fc.assert(
      fc.property(size, fc.integer(), (n, seed) => {
        const payload = new Uint8Array(n);
        let s = seed >>> 0 || 1;
        for (let i = 0; i < n; i++) {
          s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
          payload[i] = s >>> 24;
        }
        const before = payload.slice();
        endpoint.send({ type: 'binary', data: payload });
        const wire = concat(endpoint.takeOutgoing());
        expect(equals(payload, before)).toBe(true);
        const received: Buffer[] = [];
        let failure: Error | undefined;
        const receiver = new ws.Receiver({ isServer: true, maxPayload: 0, allowSynchronousEvents: true });
        receiver.on('message', (data) => received.push(data as Buffer));
        receiver._write(Buffer.from(wire), 'buffer', (err) => {
          failure ??= err;
        });
        expect(failure).toBeUndefined();
        expect(received).toHaveLength(1);
        // equals(), not toEqual(): a deep diff of 300 000 elements is what would make a failure slow.
        expect(equals(new Uint8Array(received[0] as Buffer), before)).toBe(true);
      }),
      {
        numRuns: 40,
        examples: [
          [BLOCK + 1, 1],
          [2 * BLOCK, 2],
          [BLOCK - 1, 3],
        ],
      },
    );
  });
});
