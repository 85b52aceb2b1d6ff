/**
 * A client endpoint and a server endpoint run whole sessions against each
 * other in memory, with and without permessage-deflate, their bytes cut at
 * random: every message arrives once, in order and intact, and the closing
 * handshake leaves both sides closed cleanly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientEndpoint, type Endpoint, type EndpointEvent, permessageDeflate, ServerEndpoint } from '../src/index.js';
import { chunking } from '../src/testing.js';
import { seededRandom } from './helpers.js';

type Step =
  | { readonly from: 'client' | 'server'; readonly type: 'text'; readonly data: string }
  | { readonly from: 'client' | 'server'; readonly type: 'binary'; readonly data: Uint8Array }
  | { readonly from: 'client' | 'server'; readonly type: 'ping'; readonly data: Uint8Array };

const side = fc.constantFrom('client' as const, 'server' as const);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    from: side,
    type: fc.constant('text' as const),
    data: fc.oneof(fc.string({ maxLength: 300 }), fc.constant('x'.repeat(3000))),
  }),
  fc.record({ from: side, type: fc.constant('binary' as const), data: fc.uint8Array({ maxLength: 2000 }) }),
  fc.record({ from: side, type: fc.constant('ping' as const), data: fc.uint8Array({ maxLength: 125 }) }),
);

const deflateSetup = fc.option(
  fc.record({
    serverNoContextTakeover: fc.boolean(),
    clientNoContextTakeover: fc.boolean(),
    serverMaxWindowBits: fc.integer({ min: 9, max: 15 }),
    threshold: fc.constantFrom(0, 16, 1024),
  }),
  { nil: undefined },
);

/** Moves bytes one way, cut by `split`, and collects what the receiver reports. */
function pump(from: Endpoint, to: Endpoint, split: (b: Uint8Array) => Uint8Array[], seen: EndpointEvent[]): void {
  for (const buf of from.takeOutgoing()) {
    for (const piece of split(buf)) {
      to.receive(piece.slice());
      for (let ev = to.nextEvent(); ev !== undefined; ev = to.nextEvent()) {
        // Binary data is a view into the chunk: keep a copy.
        seen.push(
          ev.type === 'binary' || ev.type === 'ping' || ev.type === 'pong' ? { ...ev, data: ev.data.slice() } : ev,
        );
      }
    }
  }
}

describe('a client and a server endpoint against each other', () => {
  it('deliver every message once, in order, and close cleanly', () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 12 }),
        deflateSetup,
        chunking(),
        fc.integer({ min: 1 }),
        side,
        (steps, deflate, split, seed, closer) => {
          const server = new ServerEndpoint({ extensions: deflate === undefined ? [] : [permessageDeflate(deflate)] });
          const client = new ClientEndpoint('ws://localhost/', {
            extensions: [permessageDeflate({ threshold: deflate?.threshold ?? 1024 })],
            random: seededRandom(seed),
          });
          const atServer: EndpointEvent[] = [];
          const atClient: EndpointEvent[] = [];
          pump(client, server, split, atServer);
          expect(atServer[0]?.type).toBe('request');
          server.send({ type: 'accept' });
          atServer.push(...server.events());
          pump(server, client, split, atClient);
          expect(atClient.shift()).toMatchObject({
            type: 'open',
            extensions: deflate === undefined ? '' : expect.stringContaining('permessage-deflate'),
          });
          expect(atServer.splice(0, 2).map((e) => e.type)).toEqual(['request', 'open']);
          expect(client.extensions.length).toBe(server.extensions.length);

          for (const s of steps) {
            const [from, to, seen] = s.from === 'client' ? [client, server, atServer] : [server, client, atClient];
            from.send(s);
            pump(from, to, split, seen);
            // Auto-pongs go back the other way.
            pump(to, from, split, s.from === 'client' ? atClient : atServer);
          }
          const expected = (from: 'client' | 'server'): unknown[] =>
            steps.filter((s) => s.from === from).map((s) => ({ type: s.type, data: s.data }));
          const messages = (seen: EndpointEvent[]): unknown[] =>
            seen
              .filter((e) => e.type === 'text' || e.type === 'binary' || e.type === 'ping')
              .map((e) => ({ type: e.type, data: (e as { data: unknown }).data }));
          expect(messages(atServer)).toEqual(expected('client'));
          expect(messages(atClient)).toEqual(expected('server'));
          const pongs = (seen: EndpointEvent[]): number => seen.filter((e) => e.type === 'pong').length;
          expect(pongs(atClient)).toBe(steps.filter((s) => s.from === 'client' && s.type === 'ping').length);
          expect(pongs(atServer)).toBe(steps.filter((s) => s.from === 'server' && s.type === 'ping').length);

          // The closing handshake, started by either side.
          const [a, b, atA, atB] =
            closer === 'client' ? [client, server, atClient, atServer] : [server, client, atServer, atClient];
          a.send({ type: 'close', code: 1000, reason: 'done' });
          expect(a.state).toBe('closing');
          pump(a, b, split, atB);
          expect(atB.at(-1)).toEqual({ type: 'close', code: 1000, reason: 'done' });
          pump(b, a, split, atA);
          expect(atA.at(-1)).toEqual({ type: 'close', code: 1000, reason: 'done' });
          expect([client.state, server.state]).toEqual(['closed', 'closed']);
          // RFC 6455 §7.1.1: the server closes TCP first; the client waits for it.
          expect(server.shouldCloseTransport).toBe(true);
          expect(client.shouldCloseTransport).toBe(false);
          for (const [e, seen] of [
            [client, atClient],
            [server, atServer],
          ] as const) {
            e.receiveEof();
            expect(e.nextEvent()).toEqual({ type: 'closed', code: 1000, reason: 'done', wasClean: true });
            expect(e.nextEvent()).toBeUndefined();
            expect(seen.some((ev) => ev.type === 'protocol-error')).toBe(false);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
