/**
 * Compression off the calling thread (a backend with `createAsyncDeflater`
 * and an endpoint with `onOutgoing`) changes when bytes are ready, never
 * which bytes or their order: for any messages, streamed chunks, pings and a
 * close, any moment the compressions complete and any moment the output is
 * taken, a server sends exactly the bytes the synchronous path sends, every
 * take is a prefix of them, and a client's frames decode to the same events.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  type Endpoint,
  type EndpointEvent,
  type FrameCommand,
  type PerMessageDeflateParams,
  pakoBackend,
  UsageError,
} from '../src/index.js';
import { DeferredBackend } from './deferred-backend.js';
import { openDeflatePair, seededRandom } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? 150);

const params: fc.Arbitrary<PerMessageDeflateParams> = fc.record({
  serverNoContextTakeover: fc.boolean(),
  clientNoContextTakeover: fc.boolean(),
  serverMaxWindowBits: fc.integer({ min: 9, max: 15 }),
  clientMaxWindowBits: fc.integer({ min: 9, max: 15 }),
});

type Action =
  | { type: 'text' | 'binary'; size: number; seed: number; chunks: number }
  | { type: 'ping' }
  | { type: 'run'; jobs: number }
  | { type: 'take' };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constantFrom('text' as const, 'binary' as const),
      // Around the 64-byte threshold used below: some messages are sent plain, between compressed ones.
      size: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1_000, max: 40_000 })),
      seed: fc.integer({ min: 0, max: 255 }),
      chunks: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'ping' as const }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('run' as const), jobs: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.constant({ type: 'take' as const }) },
);

/** Compressible payloads: runs of a few letters, so windows and context matter. */
function payload(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = 0x61 + ((i * 7 + seed + (i >> 5)) % 5);
  return out;
}

function perform(conn: Endpoint, a: Action): void {
  if (a.type === 'ping') {
    conn.send({ type: 'ping', data: 'p' });
    return;
  }
  if (a.type !== 'text' && a.type !== 'binary') return;
  const bytes = payload(a.size, a.seed);
  const step = Math.ceil(bytes.length / a.chunks) || 1;
  // Text as bytes: the payloads are ASCII, so any cut is at a character boundary.
  for (let i = 0; i < a.chunks; i++) {
    conn.send({ type: a.type, data: bytes.slice(i * step, (i + 1) * step), fin: i === a.chunks - 1 } as FrameCommand);
  }
}

function decode(conn: Endpoint, bytes: Uint8Array): EndpointEvent[] {
  conn.receive(bytes.slice());
  return conn.events();
}

/** Runs `actions` on a deferred and a synchronous pair from `role`'s side; returns what each sent, and what was observed on the way. */
function run(role: 'server' | 'client', p: PerMessageDeflateParams, actions: readonly Action[], closeAtEnd: boolean) {
  const backend = new DeferredBackend();
  let notified = 0;
  const tuning = { threshold: 64 };
  const deferred = openDeflatePair(p, {
    tuning: { ...tuning, backend },
    [role]: { onOutgoing: () => notified++, random: seededRandom(7) },
  });
  // A backend object of its own: its pool of idle deflaters starts empty, as the deferred side's deflaters
  // start fresh (pako's reset state differs from a fresh one's, so a pooled deflater may emit other valid bytes).
  const reference = { ...pakoBackend, name: 'pako, own pool' };
  const sync = openDeflatePair(p, { tuning: { ...tuning, backend: reference }, [role]: { random: seededRandom(7) } });
  const sender = deferred[role];
  const syncSender = sync[role];
  const taken: Uint8Array[] = [];
  for (const a of actions) {
    perform(sender, a);
    perform(syncSender, a);
    if (a.type === 'run') backend.run(a.jobs);
    if (a.type === 'take') taken.push(...sender.takeOutgoing());
    // One notification per finished compression, and output pending only while one is unfinished.
    expect(notified).toBe(backend.compressions);
    if (sender.outputPending) expect(backend.waiting).toBeGreaterThan(0);
  }
  if (closeAtEnd) {
    sender.send({ type: 'close', code: 1000, reason: 'done' });
    syncSender.send({ type: 'close', code: 1000, reason: 'done' });
  }
  const partial = concat(taken);
  backend.run();
  expect(sender.outputPending).toBe(false);
  taken.push(...sender.takeOutgoing());
  expect(sender.bufferedAmount).toBe(0);
  return {
    sent: concat(taken),
    partial,
    expected: concat(syncSender.takeOutgoing()),
    peer: role === 'server' ? sync.client : sync.server,
    otherPeer: role === 'server' ? deferred.client : deferred.server,
  };
}

describe('compression off the calling thread', () => {
  it('a server sends the bytes of the synchronous path, in order, whenever the compressions complete', () => {
    fc.assert(
      fc.property(params, fc.array(action, { maxLength: 14 }), fc.boolean(), (p, actions, closeAtEnd) => {
        const r = run('server', p, actions, closeAtEnd);
        expect(r.sent).toEqual(r.expected);
        // Whatever was taken before the last compressions completed is a prefix of it.
        expect(r.expected.subarray(0, r.partial.length)).toEqual(r.partial);
      }),
      {
        numRuns: RUNS,
        examples: [
          [
            {
              serverNoContextTakeover: true,
              clientNoContextTakeover: false,
              serverMaxWindowBits: 9,
              clientMaxWindowBits: 9,
            },
            [{ type: 'text', size: 9, seed: 0, chunks: 2 }],
            false,
          ],
        ],
      },
    );
  });

  it("a client's frames, masked with keys drawn when each is made, decode to the synchronous path's events", () => {
    fc.assert(
      fc.property(params, fc.array(action, { maxLength: 14 }), fc.boolean(), (p, actions, closeAtEnd) => {
        const r = run('client', p, actions, closeAtEnd);
        // Each stream goes to a server of its own pair: the inflater's context must follow its own client.
        expect(decode(r.otherPeer, r.sent)).toEqual(decode(r.peer, r.expected));
      }),
      { numRuns: RUNS },
    );
  });

  it('holds a pong and a close frame behind a message still being compressed', () => {
    const backend = new DeferredBackend();
    const { server, client } = openDeflatePair({}, { tuning: { backend }, server: { onOutgoing: () => {} } });
    server.send({ type: 'text', data: 'x'.repeat(5_000) });
    expect(server.outputPending).toBe(true);
    expect(server.bufferedAmount).toBe(5_000);
    client.send({ type: 'ping', data: 'are you there' });
    server.receive(concat(client.takeOutgoing()));
    expect(server.events()).toEqual([{ type: 'ping', data: new TextEncoder().encode('are you there') }]);
    server.send({ type: 'close', code: 1000 });
    expect(server.takeOutgoing()).toEqual([]);
    backend.run();
    client.receive(concat(server.takeOutgoing()));
    expect(client.events().map((e) => e.type)).toEqual(['text', 'pong', 'close']);
  });

  it('a failed compression ends the connection with 1011 right after what was sent before it', () => {
    const backend = new DeferredBackend();
    let notified = 0;
    const { server, client } = openDeflatePair({}, { tuning: { backend }, server: { onOutgoing: () => notified++ } });
    server.send({ type: 'text', data: 'first '.repeat(500) });
    backend.run();
    server.send({ type: 'binary', data: new Uint8Array(4_000) });
    server.send({ type: 'text', data: 'short' });
    server.send({ type: 'close', code: 1000 });
    backend.failing = true;
    backend.run();
    expect(notified).toBe(2);
    expect(server.outputPending).toBe(false);
    expect(server.state).toBe('closed');
    expect(server.shouldCloseTransport).toBe(true);
    expect(server.events()).toEqual([
      {
        type: 'protocol-error',
        phase: 'frames',
        code: CloseCode.InternalError,
        reason: 'compression failed: deflate engine failed',
      },
    ]);
    expect(() => server.send({ type: 'text', data: 'late' })).toThrow(UsageError);
    client.receive(concat(server.takeOutgoing()));
    const events = client.events();
    // Nothing queued after the failed message is sent: not the short text, not the 1000.
    expect(events.map((e) => e.type)).toEqual(['text', 'close']);
    expect(events[1]).toMatchObject({ type: 'close', code: 1011 });
  });

  it('an endpoint without onOutgoing compresses synchronously even when the backend can do it later', () => {
    const backend = new DeferredBackend();
    const { server } = openDeflatePair({}, { tuning: { backend } });
    server.send({ type: 'text', data: 'y'.repeat(5_000) });
    expect(server.outputPending).toBe(false);
    expect(backend.queues).toEqual([]);
    expect(server.takeOutgoing().length).toBeGreaterThan(0);
  });
});
