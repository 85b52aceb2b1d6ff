/**
 * The npm `ws` package as an independent oracle: frames it encodes must decode
 * here to the same messages, and frames encoded here must decode in `ws`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import { createRequire } from 'node:module';
import type { Role } from '../src/index.js';
import { feed, openEndpoint, type PlainEvent, rawFrame, seededRandom, split } from './helpers.js';

// ws exports its frame Receiver and Sender from its CommonJS entry; they carry no types.
const ws = createRequire(import.meta.url)('ws') as {
  Receiver: new (options: object) => WsReceiver;
  Sender: { frame(data: Buffer, options: object): Buffer[] };
};
const { Receiver, Sender } = ws;

const RUNS = Number(process.env.FC_RUNS ?? 200);

interface WsReceiver {
  on(event: string, fn: (...args: unknown[]) => void): void;
  /** The Writable's own write step: it reports a protocol error synchronously through `cb`. */
  _write(chunk: Buffer, encoding: string, cb: (err?: Error) => void): void;
}

/** Decodes bytes with ws's Receiver; returns its events in our event shape and its error, if any. */
function wsDecode(
  chunks: readonly Uint8Array[],
  isServer: boolean,
  maxPayload = 0,
): { events: PlainEvent[]; error?: number } {
  const r = new Receiver({ isServer, maxPayload, allowSynchronousEvents: true });
  const events: PlainEvent[] = [];
  let error: number | undefined;
  r.on('message', (data, isBinary) => {
    const bytes = data as Buffer;
    events.push(
      isBinary ? { type: 'binary', data: Array.from(bytes) } : { type: 'text', data: bytes.toString('utf8') },
    );
  });
  r.on('ping', (data) => events.push({ type: 'ping', data: Array.from(data as Buffer) }));
  r.on('pong', (data) => events.push({ type: 'pong', data: Array.from(data as Buffer) }));
  r.on('conclude', (code, reason) => events.push({ type: 'close', code, reason: (reason as Buffer).toString('utf8') }));
  const onError = (err?: Error) => {
    if (!err || error !== undefined) return;
    const key = Object.getOwnPropertySymbols(err).find((s) => s.description === 'status-code');
    error = key === undefined ? -1 : (err as unknown as Record<symbol, number>)[key];
  };
  for (const c of chunks) {
    if (error !== undefined) break;
    r._write(Buffer.from(c), 'buffer', onError);
  }
  return { events, error };
}

type Msg =
  | { type: 'text'; data: string; frag: number }
  | { type: 'binary'; data: Uint8Array; frag: number }
  | { type: 'ping'; data: Uint8Array };

const msg: fc.Arbitrary<Msg> = fc.oneof(
  fc.record({
    type: fc.constant('text' as const),
    data: fc.string({ unit: 'binary', maxLength: 300 }),
    frag: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    type: fc.constant('binary' as const),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.integer({ min: 65_536, max: 66_000 }).map((n) => new Uint8Array(n).fill(0x5a)),
    ),
    frag: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ type: fc.constant('ping' as const), data: fc.uint8Array({ maxLength: 125 }) }),
);

function expectedEvents(msgs: readonly Msg[]): PlainEvent[] {
  return msgs.map((m) =>
    m.type === 'text' ? { type: 'text', data: m.data } : { type: m.type, data: Array.from(m.data) },
  );
}

/** Encodes messages with ws's Sender.frame, fragmenting each into `frag` frames. */
function wsEncode(msgs: readonly Msg[], mask: boolean): Uint8Array {
  const out: Uint8Array[] = [];
  const frame = (data: Buffer, opcode: number, fin: boolean) => {
    const parts = Sender.frame(data, { fin, opcode, mask, readOnly: false, rsv1: false });
    out.push(...parts.map((p) => new Uint8Array(p)));
  };
  for (const m of msgs) {
    if (m.type === 'ping') {
      frame(Buffer.from(m.data), 0x9, true);
      continue;
    }
    const bytes = m.type === 'text' ? Buffer.from(m.data, 'utf8') : Buffer.from(m.data);
    const step = Math.ceil(bytes.length / m.frag) || 1;
    let at = 0;
    do {
      const end = Math.min(bytes.length, at + step);
      frame(bytes.subarray(at, end), at === 0 ? (m.type === 'text' ? 1 : 2) : 0, end === bytes.length);
      at = end;
    } while (at < bytes.length);
  }
  return concat(out);
}

describe.each<Role>(['client', 'server'])('against ws, as the %s role', (role) => {
  const weAreServer = role === 'server';

  it('decodes what ws encodes, under any chunking', () => {
    fc.assert(
      fc.property(fc.array(msg, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (msgs, cuts) => {
        const wire = wsEncode(msgs, weAreServer);
        const conn = openEndpoint(role);
        expect(
          feed(
            conn,
            split(
              wire,
              cuts.map((c) => c % (wire.length + 1)),
            ),
          ),
        ).toEqual(expectedEvents(msgs));
      }),
      { numRuns: RUNS },
    );
  });

  it('encodes what ws decodes, including our fragmentation and masking', () => {
    fc.assert(
      fc.property(
        fc.array(msg, { maxLength: 8 }),
        fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
        fc.integer(),
        (msgs, fragmentSize, seed) => {
          const conn = openEndpoint(role, { fragmentSize, random: seededRandom(seed) });
          for (const m of msgs)
            conn.send(
              m.type === 'ping'
                ? { type: 'ping', data: m.data }
                : m.type === 'text'
                  ? { type: 'text', data: m.data }
                  : { type: 'binary', data: m.data },
            );
          conn.send({ type: 'close', code: 4000, reason: 'fin' });
          const result = wsDecode(conn.takeOutgoing(), !weAreServer);
          expect(result.error).toBeUndefined();
          expect(result.events).toEqual([...expectedEvents(msgs), { type: 'close', code: 4000, reason: 'fin' }]);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('agreement with ws on invalid input', () => {
  const wild = fc
    .record({
      fin: fc.boolean(),
      rsv: fc.constantFrom(0, 0, 0, 0x40),
      opcode: fc.integer({ min: 0, max: 15 }),
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 130 }),
        fc
          .tuple(fc.integer({ min: 0, max: 5100 }), fc.uint8Array({ maxLength: 6 }))
          .map(([code, r]) => concat([new Uint8Array([code >> 8, code & 0xff]), r])),
      ),
    })
    .map((f) => rawFrame({ ...f, mask: [1, 2, 3, 4] }));

  it('fails with the same close code whenever ws fails (we may fail earlier: UTF-8 is checked per fragment)', () => {
    fc.assert(
      fc.property(fc.array(wild, { minLength: 1, maxLength: 6 }), (frames) => {
        const wire = concat(frames);
        const theirs = wsDecode([wire], true, 100_000);
        const ours = feed(openEndpoint('server', { maxMessageSize: 100_000 }), [wire]);
        const ourError = ours.find((e) => e.type === 'protocol-error') as { code: number } | undefined;
        const before = ours.filter((e) => e.type !== 'protocol-error');
        if (ourError?.code === 1007 && theirs.error !== 1007) {
          // Fail-fast UTF-8: we stopped at the bad fragment, before ws noticed anything (or noticed something later).
          expect(theirs.events.slice(0, before.length)).toEqual(before);
        } else if (theirs.error !== undefined) {
          expect(ourError?.code).toBe(theirs.error);
          expect(before).toEqual(theirs.events);
        } else {
          expect(ourError).toBeUndefined();
          expect(ours).toEqual(theirs.events);
        }
      }),
      { numRuns: RUNS * 5 },
    );
  });
});
