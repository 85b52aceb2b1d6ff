/**
 * A binary message whose frame spans several reads arrives whole and
 * unmasked, however the bytes were cut, and no message handed out earlier
 * changes when a later one is put together from the same reads (the
 * receiver owns the chunks it is given and may reuse what it consumed, but
 * never bytes it handed out).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import { equals } from 'uint8arrays/equals';
import type { Endpoint, EndpointEvent } from '../src/index.js';
import { openPair, rawFrame, seededRandom, split } from './helpers.js';

type Msg =
  | { readonly type: 'binary'; readonly data: Uint8Array; readonly frag: number }
  | { readonly type: 'text'; readonly data: string }
  | { readonly type: 'ping'; readonly data: Uint8Array };

/** Bytes that differ from one message to the next, so a message overwritten by another shows. */
function filled(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  seededRandom(seed + 1)(out);
  return out;
}

const size = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 3 },
  // About one socket read (64 KiB), and a few reads' worth.
  { arbitrary: fc.integer({ min: 60_000, max: 70_000 }), weight: 3 },
  { arbitrary: fc.integer({ min: 120_000, max: 200_000 }), weight: 1 },
);

const msg: fc.Arbitrary<Msg> = fc.oneof(
  {
    arbitrary: fc.record({
      type: fc.constant('binary' as const),
      data: fc.tuple(size, fc.nat()).map(([n, s]) => filled(n, s)),
      frag: fc.constantFrom(1, 1, 1, 2, 3),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ type: fc.constant('text' as const), data: fc.string({ maxLength: 40 }) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('ping' as const), data: fc.uint8Array({ maxLength: 125 }) }), weight: 1 },
);

type Cutting =
  | { readonly type: 'reads'; readonly size: number }
  | { readonly type: 'anywhere'; readonly cuts: readonly number[] };

/** Where the stream is cut: reads of one size (as a socket delivers), or anywhere. */
const cutting: fc.Arbitrary<Cutting> = fc.oneof(
  fc.record({
    type: fc.constant('reads' as const),
    size: fc.constantFrom(1000, 4096, 16_384, 65_536, 65_546, 100_000),
  }),
  fc.record({ type: fc.constant('anywhere' as const), cuts: fc.array(fc.nat(), { maxLength: 30 }) }),
);

function cut(bytes: Uint8Array, how: Cutting): Uint8Array[] {
  if (how.type === 'anywhere')
    return split(
      bytes,
      how.cuts.map((c) => c % (bytes.length + 1)),
    );
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += how.size) out.push(bytes.slice(at, at + how.size));
  return out;
}

/** The wire bytes of `msgs` as `sender` encodes them. */
function encode(sender: Endpoint, msgs: readonly Msg[]): Uint8Array {
  for (const m of msgs) {
    if (m.type === 'binary' && m.frag > 1) {
      const step = Math.ceil(m.data.length / m.frag) || 1;
      for (let at = 0; at < m.data.length || at === 0; at += step) {
        const end = Math.min(m.data.length, at + step);
        sender.send({ type: 'binary', data: m.data.subarray(at, end), fin: end === m.data.length });
        if (end === m.data.length) break;
      }
    } else {
      sender.send(m);
    }
  }
  return concat(sender.takeOutgoing());
}

/** Feeds fresh copies of the chunks, keeping every event as it came (views and all), and compares them only at the end. */
function receiveAll(receiver: Endpoint, chunks: readonly Uint8Array[]): EndpointEvent[] {
  const events: EndpointEvent[] = [];
  for (const chunk of chunks) {
    receiver.receive(chunk.slice());
    for (let ev = receiver.nextEvent(); ev !== undefined; ev = receiver.nextEvent()) events.push(ev);
  }
  return events;
}

function expectMessages(events: readonly EndpointEvent[], msgs: readonly Msg[]): void {
  expect(events.map((e) => e.type)).toEqual(msgs.map((m) => m.type));
  events.forEach((ev, i) => {
    const m = msgs[i] as Msg;
    if (ev.type === 'text') expect(ev.data).toBe(m.data);
    else if (ev.type === 'binary' || ev.type === 'ping') {
      // equals(), not toEqual(): a diff of 200 000 elements is what would make this slow.
      if (!equals(ev.data, m.data as Uint8Array))
        throw new Error(`message ${i} (${ev.type}, ${ev.data.length} bytes) differs from what was sent`);
    }
  });
}

describe('binary messages across reads', () => {
  for (const role of ['client', 'server'] as const) {
    it(`arrive intact from a ${role} (${role === 'client' ? 'masked' : 'unmasked'}) however the reads cut them`, () => {
      fc.assert(
        fc.property(fc.array(msg, { minLength: 1, maxLength: 8 }), cutting, fc.nat(), (msgs, how, seed) => {
          const { server, client } = openPair({ client: { random: seededRandom(seed) } });
          const [sender, receiver] = role === 'client' ? [client, server] : [server, client];
          const events = receiveAll(receiver, cut(encode(sender, msgs), how));
          expectMessages(events, msgs);
        }),
        {
          numRuns: 60,
          examples: [
            // Frames as large as the reads: each one is put together in the read it starts in.
            [
              [
                { type: 'binary', data: filled(65_536, 1), frag: 1 },
                { type: 'binary', data: filled(65_536, 2), frag: 1 },
                { type: 'binary', data: filled(65_536, 3), frag: 1 },
              ],
              { type: 'reads', size: 65_536 },
              0,
            ],
            // Small messages handed out as views of a read, then a frame that starts in that read.
            [
              [
                { type: 'binary', data: filled(40, 4), frag: 1 },
                { type: 'ping', data: filled(5, 5) },
                { type: 'binary', data: filled(64_000, 6), frag: 1 },
              ],
              { type: 'reads', size: 65_536 },
              1,
            ],
          ],
        },
      );
    });
  }

  it('a frame past the 1 MiB assembly limit still arrives whole, in pieces put together by the message buffer', () => {
    for (const masked of [true, false]) {
      const payload = filled(1024 * 1024 + 100, 9);
      const frame = rawFrame({ opcode: 2, payload, mask: masked ? [9, 8, 7, 6] : null });
      const { server, client } = openPair();
      const events = receiveAll(masked ? server : client, cut(frame, { type: 'reads', size: 65_536 }));
      expectMessages(events, [{ type: 'binary', data: payload, frag: 1 }]);
    }
  });
});
