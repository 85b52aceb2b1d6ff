import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import type { Endpoint, FrameCommand, Role } from '../src/index.js';
import { feed, openPair, type PlainEvent, seededRandom, senderAndReceiver, split } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);

type Step =
  | { kind: 'text'; data: string }
  | { kind: 'binary'; data: Uint8Array }
  | { kind: 'streamed-text'; parts: string[] }
  | { kind: 'streamed-binary'; parts: Uint8Array[] }
  | { kind: 'ping'; data: Uint8Array };

const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 20_000, maxLength: 30_000 }) },
);
const bytes = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 65_536, max: 70_000 })
      .map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 31) & 0xff)),
  },
);

const step: fc.Arbitrary<Step> = fc.oneof(
  text.map((data) => ({ kind: 'text' as const, data })),
  bytes.map((data) => ({ kind: 'binary' as const, data })),
  fc
    .array(fc.string({ unit: 'binary', maxLength: 50 }), { minLength: 1, maxLength: 5 })
    .map((parts) => ({ kind: 'streamed-text' as const, parts })),
  fc
    .array(fc.uint8Array({ maxLength: 100 }), { minLength: 1, maxLength: 5 })
    .map((parts) => ({ kind: 'streamed-binary' as const, parts })),
  fc.uint8Array({ maxLength: 125 }).map((data) => ({ kind: 'ping' as const, data })),
);

/** Sends the steps; returns the events the receiving side must see (pings inside streams included). */
function sendAll(sender: Endpoint, steps: readonly Step[]): PlainEvent[] {
  const expected: PlainEvent[] = [];
  const send = (c: FrameCommand) => sender.send(c);
  for (const s of steps) {
    switch (s.kind) {
      case 'text':
        send({ type: 'text', data: s.data });
        expected.push({ type: 'text', data: s.data });
        break;
      case 'binary':
        send({ type: 'binary', data: s.data });
        expected.push({ type: 'binary', data: Array.from(s.data) });
        break;
      case 'streamed-text':
        s.parts.forEach((p, i) => {
          send({ type: 'text', data: p, fin: i === s.parts.length - 1 });
          // A ping in the middle of a fragmented message (§5.4).
          if (i === 0 && s.parts.length > 1) send({ type: 'ping', data: new Uint8Array([7]) });
        });
        if (s.parts.length > 1) expected.push({ type: 'ping', data: [7] });
        expected.push({ type: 'text', data: s.parts.join('') });
        break;
      case 'streamed-binary':
        for (const [i, p] of s.parts.entries()) send({ type: 'binary', data: p, fin: i === s.parts.length - 1 });
        expected.push({ type: 'binary', data: Array.from(concat(s.parts)) });
        break;
      case 'ping':
        send({ type: 'ping', data: s.data });
        expected.push({ type: 'ping', data: Array.from(s.data) });
        break;
    }
  }
  return expected;
}

const cuts = fc.array(fc.nat(), { maxLength: 40 });
const fragmentSize = fc.option(fc.integer({ min: 1, max: 70_000 }), { nil: undefined });

describe.each<Role>(['client', 'server'])('messages sent by the %s role', (role) => {
  it('arrive exactly as sent, under any chunking and fragmentation', () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 12 }),
        cuts,
        fragmentSize,
        fc.integer(),
        (steps, cutPoints, size, seed) => {
          const { sender, receiver } = senderAndReceiver(
            role,
            { fragmentSize: size, random: seededRandom(seed) },
            { random: seededRandom(seed + 1) },
          );
          const expected = sendAll(sender, steps);
          const wire = concat(sender.takeOutgoing());
          const scaled = cutPoints.map((c) => c % (wire.length + 1));
          expect(feed(receiver, split(wire, scaled))).toEqual(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('arrive one byte at a time', () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 4 }).filter((s) => s.every((x) => !('data' in x) || x.data.length < 1000)),
        (steps) => {
          const { sender, receiver } = senderAndReceiver(role, { random: seededRandom(1) });
          const expected = sendAll(sender, steps);
          const wire = concat(sender.takeOutgoing());
          const chunks = Array.from(wire, (b) => new Uint8Array([b]));
          expect(feed(receiver, chunks)).toEqual(expected);
        },
      ),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it("arrive in parts mode as parts whose concatenation is the message, and the message's end is marked", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 8 }), cuts, fragmentSize, (steps, cutPoints, size) => {
        const { sender, receiver } = senderAndReceiver(
          role,
          { fragmentSize: size, random: seededRandom(3) },
          { messageMode: 'parts' },
        );
        const expected = sendAll(sender, steps);
        const wire = concat(sender.takeOutgoing());
        const events = feed(
          receiver,
          split(
            wire,
            cutPoints.map((c) => c % (wire.length + 1)),
          ),
        );
        // Join parts back into messages.
        const joined: PlainEvent[] = [];
        let pending: { type: string; text: string; bytes: number[] } | undefined;
        for (const ev of events) {
          if (ev.type === 'text-part' || ev.type === 'binary-part') {
            pending ??= { type: ev.type === 'text-part' ? 'text' : 'binary', text: '', bytes: [] };
            if (ev.type === 'text-part') pending.text += ev.data as string;
            else pending.bytes.push(...(ev.data as number[]));
            if (ev.last) {
              joined.push({ type: pending.type, data: pending.type === 'text' ? pending.text : pending.bytes });
              pending = undefined;
            }
          } else {
            joined.push(ev);
          }
        }
        expect(pending).toBeUndefined();
        expect(joined).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('zero-copy receive', () => {
  it('hands out an unmasked binary payload that arrived whole as a view into the received chunk', () => {
    const { server: s, client: c } = openPair();
    s.send({ type: 'binary', data: new Uint8Array(5000).fill(9) });
    const chunk = concat(s.takeOutgoing());
    c.receive(chunk);
    const ev = c.nextEvent();
    expect(ev?.type).toBe('binary');
    if (ev?.type !== 'binary') return;
    expect(ev.data.buffer).toBe(chunk.buffer);
    expect(ev.data.byteOffset).toBe(4);
    expect(ev.data.length).toBe(5000);
  });

  it('hands out a masked payload unmasked in place inside the received chunk (the chunk is owned by the codec)', () => {
    const { server: s, client: c } = openPair({ client: { random: seededRandom(5) } });
    c.send({ type: 'binary', data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    const chunk = concat(c.takeOutgoing());
    s.receive(chunk);
    const ev = s.nextEvent();
    if (ev?.type !== 'binary') throw new Error(`expected binary, got ${ev?.type}`);
    expect(Array.from(ev.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ev.data.buffer).toBe(chunk.buffer);
  });
});

describe('many endpoints writing at once', () => {
  it('keep their streams apart however their sends and takes interleave (they share the write slab)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat({ max: 3 }),
            fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 60 })),
            fc.boolean(),
          ),
          { maxLength: 60 },
        ),
        (ops) => {
          const pairs = [0, 1, 2, 3].map((i) =>
            senderAndReceiver(i % 2 === 0 ? 'server' : 'client', { random: seededRandom(i + 1) }),
          );
          const senders = pairs.map((p) => p.sender);
          const wires: Uint8Array[][] = senders.map(() => []);
          const expected: PlainEvent[][] = senders.map(() => []);
          for (const [who, data, take] of ops) {
            const conn = senders[who]!;
            if (typeof data === 'string') conn.send({ type: 'text', data });
            else conn.send({ type: 'binary', data });
            expected[who]!.push(
              typeof data === 'string' ? { type: 'text', data } : { type: 'binary', data: Array.from(data) },
            );
            // Taken buffers are kept as they are: a region of the shared slab must never be written again.
            if (take) wires[who]!.push(...conn.takeOutgoing());
          }
          senders.forEach((conn, i) => {
            wires[i]!.push(...conn.takeOutgoing());
            expect(feed(pairs[i]!.receiver, wires[i]!)).toEqual(expected[i]);
          });
        },
      ),
      { numRuns: RUNS },
    );
  });
});
