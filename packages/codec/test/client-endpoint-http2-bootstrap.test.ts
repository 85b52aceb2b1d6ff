/**
 * RFC 8441 from the client's side: an endpoint that opens a WebSocket with an
 * HTTP/2 extended CONNECT. It hands out the request's fields for the host's
 * HTTP/2 stack, takes the response's status and fields, and from then on runs
 * the frame phase an HTTP/1.1 bootstrap leads to.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClientEndpoint,
  type EndpointEvent,
  HandshakeFailure,
  permessageDeflate,
  ServerEndpoint,
  UsageError,
} from '../src/index.js';
import { chunking, invalidInput, validStream } from '../src/testing.js';

/** The server side of the same bootstrap answers: its `response` event is what an HTTP/2 stack would carry. */
function serverAnswer(
  requestHeaders: Readonly<Record<string, string>>,
  decide: (server: ServerEndpoint) => void,
): { status: number; headers: ReadonlyArray<readonly [string, string]>; body: Uint8Array } {
  const server = ServerEndpoint.fromExtendedConnect({ headers: requestHeaders }, { extensions: [permessageDeflate()] });
  expect(server.nextEvent()?.type).toBe('request');
  decide(server);
  const response = server.nextEvent();
  if (response?.type !== 'response') throw new Error(`expected a response event, got ${response?.type}`);
  return response;
}

describe('a client endpoint for an extended CONNECT', () => {
  it('exposes the RFC 8441 §4 request fields and queues no bytes', () => {
    const client = ClientEndpoint.forExtendedConnect('wss://server.example.com:8443/chat?room=1', {
      protocols: ['chat', 'v2'],
      extensions: [permessageDeflate()],
      origin: 'https://example.com',
      headers: [
        ['Authorization', 'Bearer x'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
      ],
    });
    expect(client.requestHeaders).toEqual({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': '/chat?room=1',
      ':authority': 'server.example.com:8443',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'chat, v2',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      origin: 'https://example.com',
      authorization: 'Bearer x',
      cookie: 'a=1; b=2',
    });
    // No key in HTTP/2 (§5): nothing identifies the response but the stream.
    expect(client.requestHeaders).not.toHaveProperty('sec-websocket-key');
    expect(client.key).toBe('');
    expect(client.httpVersion).toBe('2');
    expect(client.takeOutgoing()).toEqual([]);
    expect(client.state).toBe('connecting');
    expect(ClientEndpoint.forExtendedConnect('ws://h/').requestHeaders).toMatchObject({
      ':scheme': 'http',
      ':path': '/',
      ':authority': 'h',
    });
  });

  it('refuses fields HTTP/2 forbids or the bootstrap sets, and a bad URL, with typed errors', () => {
    for (const name of ['Connection', 'Upgrade', 'Host', 'TE', 'Sec-WebSocket-Key', 'Transfer-Encoding']) {
      expect(() => ClientEndpoint.forExtendedConnect('wss://h/', { headers: { [name]: 'x' } })).toThrow(UsageError);
    }
    expect(() => ClientEndpoint.forExtendedConnect('ftp://h/')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_URL' }),
    );
  });

  it('opens on a 2xx answered by a server endpoint, agreeing the subprotocol and permessage-deflate', () => {
    const client = ClientEndpoint.forExtendedConnect('wss://h/chat', {
      protocols: ['chat'],
      extensions: [permessageDeflate()],
    });
    const answer = serverAnswer(client.requestHeaders ?? {}, (s) => s.send({ type: 'accept', protocol: 'chat' }));
    expect(answer.status).toBe(200);
    client.receiveResponseHeaders({ status: answer.status, headers: answer.headers });
    const open = client.nextEvent();
    expect(open).toMatchObject({ type: 'open', protocol: 'chat', extensions: 'permessage-deflate' });
    expect(client.state).toBe('open');
    expect(client.protocol).toBe('chat');
    expect(client.extensions.map((e) => e.name)).toEqual(['permessage-deflate']);
  });

  it('reads :status from a record of fields as Node’s http2 delivers them', () => {
    const client = ClientEndpoint.forExtendedConnect('ws://h/');
    client.receiveResponseHeaders({ headers: { ':status': 200, date: 'x', 'set-cookie': ['a=1', 'b=2'] } });
    const open = client.nextEvent();
    expect(open?.type).toBe('open');
    if (open?.type === 'open') expect(open.headers.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
  });

  it('reports a non-2xx as rejected, with the body the stream carried until END_STREAM', () => {
    const client = ClientEndpoint.forExtendedConnect('wss://h/');
    const answer = serverAnswer(client.requestHeaders ?? {}, (s) =>
      s.send({ type: 'reject', status: 403, body: 'go away', headers: { 'x-why': 'origin' } }),
    );
    client.receiveResponseHeaders({ status: answer.status, headers: answer.headers });
    expect(client.nextEvent()).toBeUndefined();
    client.receive(answer.body.slice(0, 3));
    client.receive(answer.body.slice(3));
    client.receiveEof();
    const [rejected, closed] = client.events();
    expect(rejected).toMatchObject({ type: 'rejected', status: 403, httpVersion: '2.0', bodyComplete: true });
    if (rejected?.type === 'rejected') {
      expect(new TextDecoder().decode(rejected.body)).toBe('go away');
      expect(rejected.headers.get('x-why')).toBe('origin');
    }
    expect(closed).toMatchObject({ type: 'closed', code: 1006, wasClean: false });
    expect(client.shouldCloseTransport).toBe(true);
  });

  it('caps a refusal body at maxBodySize and reports it incomplete', () => {
    const client = ClientEndpoint.forExtendedConnect('wss://h/', { maxBodySize: 4 });
    client.receiveResponseHeaders({ status: 503, headers: [] });
    client.receive(new TextEncoder().encode('0123456789'));
    expect(client.nextEvent()).toMatchObject({ type: 'rejected', status: 503, bodyComplete: false });
    expect(client.state).toBe('closed');
  });

  it.each([
    [
      'a subprotocol that was not offered',
      { status: 200, headers: [['sec-websocket-protocol', 'other']] as const },
      HandshakeFailure.InvalidProtocol,
    ],
    [
      'an extension that was not offered',
      { status: 200, headers: [['sec-websocket-extensions', 'x-unknown']] as const },
      HandshakeFailure.InvalidExtensions,
    ],
    [
      'permessage-deflate parameters out of range',
      { status: 200, headers: [['sec-websocket-extensions', 'permessage-deflate; server_max_window_bits=7']] as const },
      HandshakeFailure.InvalidExtensions,
    ],
    ['a 101 (HTTP/2 has none)', { status: 101, headers: [] as const }, HandshakeFailure.MalformedResponse],
    [
      'an upper-case field name',
      { status: 200, headers: [['X-Upper', 'a']] as const },
      HandshakeFailure.MalformedResponse,
    ],
    ['a control character', { status: 200, headers: [['x-a', 'a\nb']] as const }, HandshakeFailure.MalformedResponse],
    ['no status at all', { headers: [] as const }, HandshakeFailure.MalformedResponse],
  ])('fails the handshake on %s', (_name, response, failure) => {
    const client = ClientEndpoint.forExtendedConnect('wss://h/', {
      protocols: ['chat'],
      extensions: [permessageDeflate()],
    });
    client.receiveResponseHeaders(response);
    expect(client.nextEvent()).toMatchObject({ type: 'protocol-error', phase: 'handshake', failure });
    expect(client.state).toBe('closed');
    expect(client.shouldCloseTransport).toBe(true);
    expect(client.takeOutgoing()).toEqual([]);
  });

  it('fails on more fields than maxHeaderCount, as response-too-large', () => {
    const client = ClientEndpoint.forExtendedConnect('wss://h/', { maxHeaderCount: 2 });
    client.receiveResponseHeaders({
      status: 200,
      headers: [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ],
    });
    expect(client.nextEvent()).toMatchObject({ failure: HandshakeFailure.ResponseTooLarge });
  });

  it('skips interim 1xx responses, and fails when the stream ends before a response (RST_STREAM)', () => {
    const client = ClientEndpoint.forExtendedConnect('wss://h/');
    client.receiveResponseHeaders({ status: 103, headers: [['link', '</a>']] });
    expect(client.nextEvent()).toBeUndefined();
    expect(client.state).toBe('connecting');
    client.receiveEof();
    expect(client.events()).toMatchObject([
      { type: 'protocol-error', phase: 'handshake', failure: HandshakeFailure.ConnectionClosed },
      { type: 'closed', code: 1006, wasClean: false },
    ]);
  });

  it('fails when DATA arrives before the response headers', () => {
    const client = ClientEndpoint.forExtendedConnect('wss://h/');
    client.receive(new Uint8Array([0x81, 0x00]));
    expect(client.nextEvent()).toMatchObject({ failure: HandshakeFailure.MalformedResponse });
  });

  it('throws typed errors for a response fed twice or to an HTTP/1.1 endpoint', () => {
    const client = ClientEndpoint.forExtendedConnect('wss://h/');
    client.receiveResponseHeaders({ status: 200, headers: [] });
    expect(() => client.receiveResponseHeaders({ status: 200, headers: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE' }),
    );
    expect(() => new ClientEndpoint('ws://h/').receiveResponseHeaders({ status: 200, headers: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE' }),
    );
  });

  it('runs the same frame phase as an HTTP/1.1 bootstrap, for any stream (valid or not) and any split', () => {
    // Zero masking keys on both sides, so the masked bytes a client writes (pongs, close replies) compare equal.
    const zeros = (bytes: Uint8Array): void => {
      bytes.fill(0);
    };
    const frameEvents = (client: ClientEndpoint, chunks: Uint8Array[]): [unknown[], number[][]] => {
      const seen: unknown[] = [];
      const keep = (ev: EndpointEvent): void => {
        if (ev.type === 'open') return;
        seen.push(
          ev.type === 'binary' || ev.type === 'ping' || ev.type === 'pong' ? { ...ev, data: Array.from(ev.data) } : ev,
        );
      };
      client.events().forEach(keep);
      for (const c of chunks) {
        client.receive(c.slice());
        client.events().forEach(keep);
      }
      client.receiveEof();
      client.events().forEach(keep);
      return [seen, client.takeOutgoing().map((b) => Array.from(b))];
    };
    const bootstraps = (options: { maxMessageSize?: number }) => {
      const viaHttp2 = ClientEndpoint.forExtendedConnect('wss://h/', { random: zeros, ...options });
      viaHttp2.receiveResponseHeaders({ status: 200, headers: [] });
      const http1 = new ClientEndpoint('wss://h/', { random: zeros, ...options });
      http1.takeOutgoing();
      http1.receive(
        new TextEncoder().encode(
          // The accept value for the all-zero key the client sends with this random source.
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=\r\n\r\n',
        ),
      );
      return { viaHttp2, http1 };
    };
    // Invalid input fails the same way too: the same protocol-error and the same close frame queued.
    fc.assert(
      fc.property(invalidInput({ receiver: 'client' }), chunking(), (bad, split) => {
        const { viaHttp2, http1 } = bootstraps(
          bad.maxMessageSize === undefined ? {} : { maxMessageSize: bad.maxMessageSize },
        );
        const [h2Events, h2Out] = frameEvents(viaHttp2, split(bad.bytes));
        const [events, out] = frameEvents(http1, [bad.bytes]);
        expect(events.some((ev) => (ev as { type: string }).type === 'protocol-error')).toBe(true);
        expect(h2Events).toEqual(events);
        expect(h2Out).toEqual(out);
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(validStream({ sender: 'server' }), chunking(), (stream, split) => {
        const { viaHttp2, http1 } = bootstraps({});
        const [h2Events, h2Out] = frameEvents(viaHttp2, split(stream.bytes));
        const [events, out] = frameEvents(http1, [stream.bytes]);
        expect(events.slice(0, stream.expected.length)).toEqual(
          stream.expected.map((ev) =>
            'data' in ev && ev.data instanceof Uint8Array ? { ...ev, data: Array.from(ev.data) } : ev,
          ),
        );
        expect(h2Events).toEqual(events);
        expect(h2Out).toEqual(out);
      }),
      { numRuns: 100 },
    );
  });
});
