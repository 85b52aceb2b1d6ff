/**
 * An endpoint's events depend on the bytes, never on how the transport cut
 * them: for any split of a request head followed by frames (server) or of a
 * response head followed by frames (client), the events equal those of the
 * same bytes in one piece.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import { ClientEndpoint, type EndpointEvent, permessageDeflate, ServerEndpoint } from '../src/index.js';
import { chunking, invalidInput, upgradeRequest, validStream } from '../src/testing.js';
import { seededRandom } from './helpers.js';

/** Events in a comparable form: binary data copied out of the views the endpoint hands out. */
function snapshot(ev: EndpointEvent): unknown {
  if ('data' in ev && ev.data instanceof Uint8Array) return { ...ev, data: Array.from(ev.data) };
  if (
    ev.type === 'request' ||
    ev.type === 'open' ||
    ev.type === 'rejected' ||
    (ev.type === 'protocol-error' && ev.phase === 'handshake')
  ) {
    const { headers, ...rest } = ev;
    return { ...rest, headers: headers === null ? null : headers.entries() };
  }
  return ev;
}

/** Feeds `chunks` to a fresh server endpoint, accepting the request as soon as it is reported. */
function serverEvents(chunks: readonly Uint8Array[], eof: boolean): unknown[] {
  const server = new ServerEndpoint({ extensions: [permessageDeflate()] });
  const seen: unknown[] = [];
  const drain = (): void => {
    for (let ev = server.nextEvent(); ev !== undefined; ev = server.nextEvent()) {
      seen.push(snapshot(ev));
      if (ev.type === 'request') server.send({ type: 'accept', protocol: ev.protocols[0] ?? null });
    }
  };
  for (const chunk of chunks) {
    // The endpoint owns what it is given (it unmasks in place): each run gets its own copy.
    server.receive(chunk.slice());
    drain();
  }
  if (eof) server.receiveEof();
  drain();
  return seen;
}

describe('a server endpoint', () => {
  it('reports the same events for any split of request head + frames', () => {
    fc.assert(
      fc.property(
        upgradeRequest(),
        validStream({ sender: 'client' }),
        chunking(),
        fc.boolean(),
        (request, stream, split, eof) => {
          const bytes = concat([request.bytes, stream.bytes]);
          const whole = serverEvents([bytes], eof);
          expect(serverEvents(split(bytes), eof)).toEqual(whole);
          // And the frames are the stream's: request, open, then every expected message.
          const frames = whole.slice(2, 2 + stream.expected.length);
          expect(frames).toEqual(stream.expected.map((ev) => snapshot(ev as EndpointEvent)));
        },
      ),
    );
  });

  it('reports the same failure for any split of request head + invalid frames', () => {
    fc.assert(
      fc.property(upgradeRequest(), invalidInput({ receiver: 'server' }), chunking(), (request, bad, split) => {
        const bytes = concat([request.bytes, bad.bytes]);
        const whole = serverEvents([bytes], true);
        expect(serverEvents(split(bytes), true)).toEqual(whole);
        const failure = whole.find((ev) => (ev as { type: string }).type === 'protocol-error') as
          | { code: number }
          | undefined;
        if (bad.maxMessageSize === undefined) expect(failure?.code).toBe(bad.expectedCode);
      }),
    );
  });
});

/** A 101 (from a real server endpoint) for the client's request, then frames a server sends. */
function clientBytes(client: ClientEndpoint, frames: Uint8Array): Uint8Array {
  const server = new ServerEndpoint({ extensions: [permessageDeflate()] });
  for (const b of client.takeOutgoing()) server.receive(b.slice());
  const request = server.nextEvent();
  if (request?.type !== 'request') throw new Error(`expected a request, got ${request?.type}`);
  server.send({ type: 'accept', protocol: request.protocols[0] ?? null });
  return concat([...server.takeOutgoing(), frames]);
}

function clientEvents(chunks: readonly Uint8Array[], seed: number, eof: boolean): unknown[] {
  const client = new ClientEndpoint('ws://example.com/chat', {
    protocols: ['chat'],
    extensions: [permessageDeflate()],
    random: seededRandom(seed),
  });
  client.takeOutgoing();
  const seen: unknown[] = [];
  for (const chunk of chunks) {
    client.receive(chunk.slice());
    for (let ev = client.nextEvent(); ev !== undefined; ev = client.nextEvent()) seen.push(snapshot(ev));
  }
  if (eof) client.receiveEof();
  for (let ev = client.nextEvent(); ev !== undefined; ev = client.nextEvent()) seen.push(snapshot(ev));
  return seen;
}

describe('a client endpoint', () => {
  it('reports the same events for any split of response head + frames', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1 }),
        validStream({ sender: 'server' }),
        chunking(),
        fc.boolean(),
        (seed, stream, split, eof) => {
          const probe = new ClientEndpoint('ws://example.com/chat', {
            protocols: ['chat'],
            extensions: [permessageDeflate()],
            random: seededRandom(seed),
          });
          const bytes = clientBytes(probe, stream.bytes);
          const whole = clientEvents([bytes], seed, eof);
          expect(whole[0]).toMatchObject({ type: 'open', protocol: 'chat' });
          expect(clientEvents(split(bytes), seed, eof)).toEqual(whole);
          expect(whole.slice(1, 1 + stream.expected.length)).toEqual(
            stream.expected.map((ev) => snapshot(ev as EndpointEvent)),
          );
        },
      ),
    );
  });
});
