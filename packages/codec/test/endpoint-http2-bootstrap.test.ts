/**
 * RFC 8441: a server endpoint bootstrapped from an HTTP/2 extended CONNECT
 * that the host's HTTP/2 stack received. The answers become `response`
 * events for that stack (`:status` 200, no accept key), and the frame phase
 * is the one an HTTP/1.1 bootstrap leads to.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EndpointEvent, HandshakeFailure, permessageDeflate, ServerEndpoint } from '../src/index.js';
import { chunking, validStream } from '../src/testing.js';

const connect = (extra: Record<string, string> = {}): Record<string, string> => ({
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':path': '/chat?room=1',
  ':authority': 'server.example.com',
  'sec-websocket-version': '13',
  ...extra,
});

describe('a server endpoint from an extended CONNECT', () => {
  it('reports the request and answers accept with :status 200, the subprotocol and the agreed extensions', () => {
    const server = ServerEndpoint.fromExtendedConnect(
      {
        headers: connect({
          origin: 'https://example.com',
          'sec-websocket-protocol': 'chat, v2',
          'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
        }),
      },
      { extensions: [permessageDeflate()] },
    );
    expect(server.nextEvent()).toMatchObject({
      type: 'request',
      method: 'CONNECT',
      httpVersion: '2.0',
      path: '/chat',
      query: 'room=1',
      host: 'server.example.com',
      origin: 'https://example.com',
      protocols: ['chat', 'v2'],
      key: '',
    });
    server.send({ type: 'accept', protocol: 'v2', headers: { 'X-Served-By': 'a' } });
    const response = server.nextEvent();
    expect(response).toEqual({
      type: 'response',
      status: 200,
      headers: [
        ['sec-websocket-protocol', 'v2'],
        ['sec-websocket-extensions', 'permessage-deflate'],
        ['x-served-by', 'a'],
      ],
      body: new Uint8Array(0),
    });
    expect(server.nextEvent()).toMatchObject({ type: 'open', protocol: 'v2', extensions: 'permessage-deflate' });
    // Nothing for the stream's DATA yet: no 101 exists in HTTP/2.
    expect(server.takeOutgoing()).toEqual([]);
    expect(server.state).toBe('open');
  });

  it.each([
    ['no :protocol', { ':protocol': '' }],
    ['another :protocol', { ':protocol': 'h2c' }],
    [':method GET', { ':method': 'GET' }],
    ['no :path', { ':path': '' }],
    ['version 8', { 'sec-websocket-version': '8' }],
    ['an upper-case field name', { 'X-Upper': 'a' }],
  ])('refuses %s with a 400 response event and nothing on the stream', (_name, extra) => {
    const server = ServerEndpoint.fromExtendedConnect({ headers: connect(extra) });
    const [error, response] = server.events();
    expect(error).toMatchObject({
      type: 'protocol-error',
      phase: 'handshake',
      status: 400,
      failure: HandshakeFailure.BadRequest,
    });
    expect(response).toMatchObject({
      type: 'response',
      status: 400,
      headers: [['content-type', 'text/plain; charset=utf-8']],
    });
    expect(server.takeOutgoing()).toEqual([]);
    expect(server.shouldCloseTransport).toBe(true);
  });

  it('answers reject with the application’s status, fields and body as a response event', () => {
    const server = ServerEndpoint.fromExtendedConnect({ headers: [...Object.entries(connect())] });
    server.nextEvent();
    server.send({ type: 'reject', status: 403, headers: [['WWW-Authenticate', 'Bearer']], body: 'no' });
    expect(server.nextEvent()).toEqual({
      type: 'response',
      status: 403,
      headers: [
        ['www-authenticate', 'Bearer'],
        ['content-type', 'text/plain; charset=utf-8'],
      ],
      body: new TextEncoder().encode('no'),
    });
    expect(server.state).toBe('closed');
    expect(server.shouldCloseTransport).toBe(true);
    expect(server.takeOutgoing()).toEqual([]);
  });

  it('runs the same frame phase as an HTTP/1.1 bootstrap, for any stream and any split', () => {
    const frameEvents = (server: ServerEndpoint, chunks: Uint8Array[]): unknown[] => {
      server.nextEvent();
      server.send({ type: 'accept' });
      const seen: unknown[] = [];
      const keep = (ev: EndpointEvent): void => {
        if (ev.type === 'open' || ev.type === 'response') return;
        seen.push(
          ev.type === 'binary' || ev.type === 'ping' || ev.type === 'pong' ? { ...ev, data: Array.from(ev.data) } : ev,
        );
      };
      server.events().forEach(keep);
      for (const c of chunks) {
        server.receive(c.slice());
        server.events().forEach(keep);
      }
      server.receiveEof();
      server.events().forEach(keep);
      return [seen, server.takeOutgoing().map((b) => Array.from(b))];
    };
    fc.assert(
      fc.property(validStream({ sender: 'client' }), chunking(), (stream, split) => {
        const viaHttp2 = frameEvents(ServerEndpoint.fromExtendedConnect({ headers: connect() }), split(stream.bytes));
        const http1 = new ServerEndpoint();
        http1.receive(
          new TextEncoder().encode(
            'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
          ),
        );
        const [events, out] = frameEvents(http1, [stream.bytes]) as [unknown[], number[][]];
        // The HTTP/1.1 side wrote its 101 first; the frames after it are the same bytes.
        const [viaEvents, viaOut] = viaHttp2 as [unknown[], number[][]];
        expect(viaEvents).toEqual(events);
        const all = out.flat();
        const headEnd = Buffer.from(all).indexOf('\r\n\r\n') + 4;
        expect(headEnd).toBeGreaterThan(4);
        expect(viaOut.flat()).toEqual(all.slice(headEnd));
      }),
      { numRuns: 50 },
    );
  });
});
