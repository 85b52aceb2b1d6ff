/**
 * `transfer: true` on a binary send only changes where the endpoint masks
 * (in the caller's buffer instead of a copy): for any payloads, fragment
 * size, streaming and role, the bytes on the wire are exactly those of the
 * same sends without it, and a peer reads back the original payloads.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../src/index.js';
import { client, server } from './helpers.js';

const payloadSize = fc.oneof(
  fc.integer({ min: 0, max: 140 }),
  fc.integer({ min: 500, max: 4000 }),
  fc.integer({ min: 65536 - 8, max: 65536 + 8 }),
);

const send = fc.record({
  size: payloadSize,
  seed: fc.integer(),
  /** False: this part streams, more of the message follows. */
  fin: fc.boolean(),
});

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function wire(endpoint: Endpoint, parts: readonly Uint8Array[], fins: readonly boolean[], transfer: boolean) {
  const out: Uint8Array[] = [];
  parts.forEach((part, i) => {
    endpoint.send({ type: 'binary', data: transfer ? part.slice() : part, fin: fins[i] ?? true, transfer });
    // Taken now and then, as an adapter does: some frames wait in the queue behind others.
    if (i % 2 === 1) out.push(...endpoint.takeOutgoing());
  });
  out.push(...endpoint.takeOutgoing());
  return concat(out);
}

describe('a binary message sent with transfer', () => {
  it.each(['client', 'server'] as const)('leaves as the same bytes as without it (%s)', (role) => {
    fc.assert(
      fc.property(
        fc.array(send, { minLength: 1, maxLength: 6 }),
        fc.option(fc.integer({ min: 1, max: 70000 }), { nil: undefined }),
        (sends, fragmentSize) => {
          const parts = sends.map((s) => bytes(s.size, s.seed));
          // The last send ends the message, so the peer has whole messages to read back.
          const fins = sends.map((s, i) => s.fin || i === sends.length - 1);
          const make = () => (role === 'client' ? client({ fragmentSize }) : server({ fragmentSize }));
          const copied = wire(make(), parts, fins, false);
          const transferred = wire(make(), parts, fins, true);
          expect(Buffer.from(transferred).equals(Buffer.from(copied))).toBe(true);

          // And the peer reads the payloads given, joined into the messages they made.
          const peer = role === 'client' ? server({ maxMessageSize: 1 << 20 }) : client({ maxMessageSize: 1 << 20 });
          peer.receive(transferred);
          const received = peer
            .events()
            .flatMap((e) => (e.type === 'binary' ? [Buffer.from(e.data).toString('hex')] : []));
          const expected: string[] = [];
          let message: Uint8Array[] = [];
          parts.forEach((part, i) => {
            message.push(part);
            if (fins[i]) {
              expected.push(Buffer.from(concat(message)).toString('hex'));
              message = [];
            }
          });
          expect(received).toEqual(expected);
        },
      ),
      { numRuns: 60, examples: [[[{ size: 600, seed: 1, fin: true }], undefined]] },
    );
  });
});
