/**
 * Properties of permessage-deflate on open endpoints: any message sequence
 * round-trips in both directions under every parameter combination the
 * endpoints negotiate, any chunking of the stream and any fragment size;
 * arbitrary bytes with RSV1 set never make an endpoint throw.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import {
  type Endpoint,
  type EndpointEvent,
  type FrameCommand,
  Opcode,
  type PerMessageDeflateParams,
} from '../src/index.js';
import { deflateParams, openDeflatePair, rawFrame, seededRandom, split } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? 150);

// Windows from 9: neither side of this codec agrees to deflate with 8, and
// an agreed 8 is deflated and inflated with 9 anyway (zlib cannot do 8).
const params: fc.Arbitrary<PerMessageDeflateParams> = fc.record({
  serverNoContextTakeover: fc.boolean(),
  clientNoContextTakeover: fc.boolean(),
  serverMaxWindowBits: fc.integer({ min: 9, max: 15 }),
  clientMaxWindowBits: fc.integer({ min: 9, max: 15 }),
});

/** Endpoints that negotiated exactly `p`. */
function negotiated(p: PerMessageDeflateParams, options: Parameters<typeof openDeflatePair>[1]) {
  const pair = openDeflatePair(p, options);
  expect(deflateParams(pair.server)).toEqual(p);
  expect(deflateParams(pair.client)).toEqual(p);
  return pair;
}

type Msg = { type: 'text'; data: string; stream: number } | { type: 'binary'; data: Uint8Array; stream: number };

const message: fc.Arbitrary<Msg> = fc.oneof(
  fc.record({
    type: fc.constant('text' as const),
    data: fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀'), maxLength: 3000 }),
    ),
    stream: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({
    type: fc.constant('binary' as const),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.integer({ min: 0, max: 20_000 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
    ),
    stream: fc.integer({ min: 1, max: 3 }),
  }),
);

/** Sends `m`, streamed in `m.stream` chunks with fin:false when over 1 (strings cut at code point boundaries). */
function send(conn: Endpoint, m: Msg): void {
  if (m.stream === 1) {
    conn.send({ type: m.type, data: m.data } as FrameCommand);
    return;
  }
  if (m.type === 'text') {
    const cps = Array.from(m.data);
    const step = Math.ceil(cps.length / m.stream) || 1;
    for (let i = 0; i < m.stream; i++)
      conn.send({ type: 'text', data: cps.slice(i * step, (i + 1) * step).join(''), fin: i === m.stream - 1 });
  } else {
    const step = Math.ceil(m.data.length / m.stream) || 1;
    for (let i = 0; i < m.stream; i++)
      conn.send({ type: 'binary', data: m.data.slice(i * step, (i + 1) * step), fin: i === m.stream - 1 });
  }
}

function collect(conn: Endpoint, chunks: readonly Uint8Array[]): EndpointEvent[] {
  const out: EndpointEvent[] = [];
  for (const c of chunks) {
    conn.receive(c.slice());
    for (let ev = conn.nextEvent(); ev; ev = conn.nextEvent()) out.push(ev);
  }
  return out;
}

/** Joins parts-mode events into whole messages, so both modes compare alike. */
function whole(events: EndpointEvent[]): { type: string; data: string | number[] }[] {
  const out: { type: string; data: string | number[] }[] = [];
  let text = '';
  let bin: Uint8Array[] = [];
  for (const ev of events) {
    if (ev.type === 'text') out.push({ type: 'text', data: ev.data });
    else if (ev.type === 'binary') out.push({ type: 'binary', data: Array.from(ev.data) });
    else if (ev.type === 'text-part') {
      text += ev.data;
      if (ev.last) {
        out.push({ type: 'text', data: text });
        text = '';
      }
    } else if (ev.type === 'binary-part') {
      bin.push(ev.data);
      if (ev.last) {
        out.push({ type: 'binary', data: Array.from(concat(bin)) });
        bin = [];
      }
    } else out.push({ type: ev.type, data: JSON.stringify(ev) });
  }
  return out;
}

describe('permessage-deflate properties', () => {
  it('round-trips any message sequence, both roles, every parameter set, chunking and fragment size', () => {
    fc.assert(
      fc.property(
        params,
        fc.array(message, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 60_000 }), { maxLength: 8 }),
        fc.option(fc.integer({ min: 1, max: 700 }), { nil: undefined }),
        fc.constantFrom(0, 64, 1024),
        fc.constantFrom('whole' as const, 'parts' as const),
        fc.boolean(),
        (p, msgs, cuts, fragmentSize, threshold, messageMode, clientSends) => {
          const { client, server } = negotiated(p, {
            tuning: { threshold, level: 1 },
            server: { fragmentSize, messageMode },
            client: { fragmentSize, messageMode, random: seededRandom(9) },
          });
          const [from, to] = clientSends ? [client, server] : [server, client];
          for (const m of msgs) send(from, m);
          const wire = concat(from.takeOutgoing());
          const got = whole(collect(to, split(wire, cuts)));
          expect(got).toEqual(
            msgs.map((m) => ({ type: m.type, data: typeof m.data === 'string' ? m.data : Array.from(m.data) })),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never throws on arbitrary bytes with RSV1 set, in either role', () => {
    const frameArb = fc.record({
      fin: fc.boolean(),
      rsv: fc.constantFrom(0, 0x40, 0x40, 0x20),
      opcode: fc.constantFrom(Opcode.Text, Opcode.Binary, Opcode.Continuation, Opcode.Ping, Opcode.Close),
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), new Uint8Array([0])),
      ),
    });
    fc.assert(
      fc.property(
        params,
        fc.boolean(),
        fc.array(frameArb, { maxLength: 8 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(2000), { maxLength: 5 }),
        (p, asServer, frames, junk, cuts) => {
          const limit = { maxMessageSize: 4096 };
          const pair = negotiated(p, asServer ? { server: limit } : { client: limit });
          const conn = asServer ? pair.server : pair.client;
          const bytes = concat([...frames.map((f) => rawFrame({ ...f, mask: asServer ? [9, 8, 7, 6] : null })), junk]);
          const events = collect(conn, split(bytes, cuts));
          // Only the frame phase can fail here ('code' is a frame error's).
          for (const ev of events)
            if (ev.type === 'protocol-error') expect([1002, 1007, 1009]).toContain('code' in ev ? ev.code : ev.phase);
          conn.receiveEof();
          expect(conn.events().at(-1)?.type).toBe('closed');
        },
      ),
      { numRuns: RUNS * 4 },
    );
  });
});
