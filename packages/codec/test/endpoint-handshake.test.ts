/**
 * The opening handshake as an endpoint runs it (RFC 6455 §4): events in,
 * commands out, the bytes after a head kept for the frame phase, and the
 * state table's answers to `state` and `shouldCloseTransport`.
 */
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/frames.js';
import {
  ClientEndpoint,
  type Endpoint,
  HandshakeFailure,
  permessageDeflate,
  ServerEndpoint,
  UsageError,
} from '../src/index.js';
import { fixedKey } from './helpers.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
// RFC 6455 §1.3's example key and the accept value it gives.
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function request(extra: string[] = [], key = KEY): Uint8Array {
  const lines = [
    'GET /chat?room=1 HTTP/1.1',
    'Host: server.example.com',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
  ];
  return enc.encode(`${lines.join('\r\n')}\r\n\r\n`);
}

function written(e: Endpoint): string {
  return dec.decode(concat(e.takeOutgoing()));
}

const maskedText = (text: string): Uint8Array =>
  encodeFrame({ opcode: 1, maskKey: Uint8Array.of(1, 2, 3, 4) }, enc.encode(text));

describe('server endpoint', () => {
  it('reports a valid request and answers accept with a 101 carrying the accept key and the subprotocol', () => {
    const server = new ServerEndpoint();
    server.receive(request(['Origin: http://example.com', 'Sec-WebSocket-Protocol: chat, superchat']));
    const ev = server.nextEvent();
    expect(ev).toMatchObject({
      type: 'request',
      path: '/chat',
      query: 'room=1',
      origin: 'http://example.com',
      protocols: ['chat', 'superchat'],
      key: KEY,
    });
    expect(server.state).toBe('connecting');
    expect(server.takeOutgoing()).toEqual([]);
    server.send({ type: 'accept', protocol: 'chat', headers: [['Set-Cookie', 'a=1']] });
    const response = written(server);
    expect(response.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
    expect(response).toContain(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`);
    expect(response).toContain('Sec-WebSocket-Protocol: chat\r\n');
    expect(response).toContain('Set-Cookie: a=1\r\n');
    expect(server.nextEvent()).toMatchObject({ type: 'open', protocol: 'chat', extensions: '' });
    expect(server.state).toBe('open');
    expect(server.protocol).toBe('chat');
  });

  it('keeps bytes sent right behind the head for the frame phase, reporting them only after accept', () => {
    const server = new ServerEndpoint();
    server.receive(concat([request(), maskedText('early')]));
    expect(server.nextEvent()?.type).toBe('request');
    expect(server.nextEvent()).toBeUndefined();
    server.receive(maskedText('later'));
    expect(server.nextEvent()).toBeUndefined();
    server.send({ type: 'accept' });
    expect(server.events().map((e) => (e.type === 'text' ? e.data : e.type))).toEqual(['open', 'early', 'later']);
  });

  it('refuses with 400 when more than maxEarlyDataSize bytes arrive before the decision', () => {
    const server = new ServerEndpoint({ maxEarlyDataSize: 10 });
    server.receive(request());
    expect(server.nextEvent()?.type).toBe('request');
    server.receive(maskedText('more than ten bytes'));
    expect(server.nextEvent()).toMatchObject({
      type: 'protocol-error',
      phase: 'handshake',
      status: 400,
      failure: HandshakeFailure.EarlyDataTooLarge,
    });
    expect(written(server)).toMatch(/^HTTP\/1\.1 400 /);
    expect(server.shouldCloseTransport).toBe(true);
    expect(() => server.send({ type: 'accept' })).toThrow(UsageError);
  });

  it.each([
    ['POST', request().slice(4), 400, HandshakeFailure.BadRequest],
    [
      'version 8',
      enc.encode(dec.decode(request()).replace('Version: 13', 'Version: 8')),
      426,
      HandshakeFailure.UnsupportedVersion,
    ],
  ] as const)(
    'answers a bad request (%s) with its status, as one protocol-error shape',
    (_name, tail, status, failure) => {
      const server = new ServerEndpoint();
      server.receive(_name === 'POST' ? concat([enc.encode('POST'), tail]) : tail);
      const ev = server.nextEvent();
      expect(ev).toMatchObject({ type: 'protocol-error', phase: 'handshake', status, failure });
      const response = written(server);
      expect(response.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      if (status === 426) expect(response).toContain('Sec-WebSocket-Version: 13\r\n');
      expect(server.shouldCloseTransport).toBe(true);
      server.receive(maskedText('ignored'));
      server.receiveEof();
      expect(server.events()).toEqual([{ type: 'closed', code: 1006, reason: '', wasClean: false }]);
    },
  );

  it('answers 431 to a head over maxHeadSize', () => {
    const server = new ServerEndpoint({ maxHeadSize: 256 });
    server.receive(request([`X-Filler: ${'a'.repeat(300)}`]));
    expect(server.nextEvent()).toMatchObject({
      type: 'protocol-error',
      phase: 'handshake',
      status: 431,
      failure: HandshakeFailure.RequestTooLarge,
    });
    expect(written(server)).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('writes the application’s refusal and then wants the transport closed', () => {
    const server = new ServerEndpoint();
    server.receive(request());
    server.nextEvent();
    server.send({ type: 'reject', status: 403, body: 'origin not allowed\n' });
    const response = written(server);
    expect(response.startsWith('HTTP/1.1 403 Forbidden\r\n')).toBe(true);
    expect(response.endsWith('\r\n\r\norigin not allowed\n')).toBe(true);
    expect(server.state).toBe('closed');
    expect(server.shouldCloseTransport).toBe(true);
    expect(() => server.send({ type: 'text', data: 'x' })).toThrow(
      expect.objectContaining({ code: 'ERR_SEND_AFTER_CLOSE' }),
    );
  });

  it('throws typed errors for commands the state does not allow, and stays where it was', () => {
    const server = new ServerEndpoint();
    expect(() => server.send({ type: 'accept' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    server.receive(request(['Sec-WebSocket-Protocol: chat']));
    server.nextEvent();
    expect(() => server.send({ type: 'text', data: 'too soon' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE' }),
    );
    expect(() => server.send({ type: 'accept', protocol: 'other' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => server.send({ type: 'accept', headers: { Upgrade: 'x' } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(server.state).toBe('connecting');
    expect(server.takeOutgoing()).toEqual([]);
    server.send({ type: 'accept', protocol: 'chat' });
    expect(() => server.send({ type: 'accept' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
  });

  it('negotiates its configured extensions inside accept', () => {
    const server = new ServerEndpoint({ extensions: [permessageDeflate({ serverNoContextTakeover: true })] });
    server.receive(request(['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits']));
    server.nextEvent();
    server.send({ type: 'accept' });
    expect(written(server)).toContain('Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover');
    expect(server.nextEvent()).toMatchObject({
      type: 'open',
      extensions: expect.stringContaining('permessage-deflate'),
    });
    expect(server.extensions.map((e) => e.name)).toEqual(['permessage-deflate']);
    expect(server.sharedEncoding).toContain('permessage-deflate');
  });

  it('starts from a request another HTTP stack parsed, frames behind it included', () => {
    const trailing = maskedText('hi');
    const server = ServerEndpoint.fromParsedRequest({
      method: 'GET',
      target: '/x',
      httpVersion: '1.1',
      headers: [
        'Host',
        'h',
        'Upgrade',
        'websocket',
        'Connection',
        'Upgrade',
        'Sec-WebSocket-Key',
        KEY,
        'Sec-WebSocket-Version',
        '13',
      ],
      trailing,
    });
    trailing.fill(0); // a host may reuse its read buffer
    expect(server.nextEvent()).toMatchObject({ type: 'request', path: '/x' });
    server.send({ type: 'accept' });
    expect(server.events().map((e) => (e.type === 'text' ? e.data : e.type))).toEqual(['open', 'hi']);
  });

  it('reports a client that hung up during the handshake as closed, 1006', () => {
    const server = new ServerEndpoint();
    server.receive(request().slice(0, 20));
    server.receiveEof();
    expect(server.events()).toEqual([{ type: 'closed', code: 1006, reason: '', wasClean: false }]);
  });
});

/** A 101 for `client`'s request, by a server endpoint, with `tweak` applied to its text. */
function response(
  client: ClientEndpoint,
  tweak: (head: string) => string = (h) => h,
  server = new ServerEndpoint(),
): Uint8Array {
  for (const b of client.takeOutgoing()) server.receive(b);
  server.nextEvent();
  server.send({ type: 'accept' });
  return enc.encode(tweak(written(server)));
}

describe('client endpoint', () => {
  it('queues the request at once and opens on a valid 101, with frames from the same segment', () => {
    const client = new ClientEndpoint('http://example.com/chat?x', {
      random: fixedKey([1, 2, 3, 4]),
      protocols: ['chat'],
      origin: 'http://example.com',
    });
    expect(client.url.href).toBe('ws://example.com/chat?x');
    const server = new ServerEndpoint();
    const bytes = concat([
      response(client, (h) => h.replace('\r\n\r\n', '\r\nSec-WebSocket-Protocol: chat\r\n\r\n'), server),
      encodeFrame({ opcode: 1 }, enc.encode('hello')),
    ]);
    client.receive(bytes);
    expect(client.events()).toMatchObject([
      { type: 'open', protocol: 'chat', extensions: '' },
      { type: 'text', data: 'hello' },
    ]);
    expect(client.state).toBe('open');
  });

  it.each([
    [
      'a wrong accept key',
      (h: string) => h.replace(/Sec-WebSocket-Accept: [^\r]*/, 'Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA='),
      HandshakeFailure.InvalidAccept,
    ],
    ['no Upgrade', (h: string) => h.replace('Upgrade: websocket\r\n', ''), HandshakeFailure.InvalidUpgrade],
    ['no Connection', (h: string) => h.replace('Connection: Upgrade\r\n', ''), HandshakeFailure.InvalidConnection],
    [
      'a subprotocol not offered',
      (h: string) => h.replace('\r\n\r\n', '\r\nSec-WebSocket-Protocol: chat\r\n\r\n'),
      HandshakeFailure.InvalidProtocol,
    ],
    [
      'an extension not offered',
      (h: string) => h.replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: x-foo\r\n\r\n'),
      HandshakeFailure.InvalidExtensions,
    ],
    [
      'deflate parameters out of range',
      (h: string) =>
        h.replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n\r\n'),
      HandshakeFailure.InvalidExtensions,
    ],
  ])('fails the handshake on a 101 with %s, queuing nothing', (_name, tweak, failure) => {
    const client = new ClientEndpoint('ws://example.com/', { extensions: [permessageDeflate()] });
    client.receive(response(client, tweak));
    expect(client.nextEvent()).toMatchObject({ type: 'protocol-error', phase: 'handshake', status: 101, failure });
    expect(client.takeOutgoing()).toEqual([]);
    expect(client.shouldCloseTransport).toBe(true);
    expect(() => client.send({ type: 'text', data: 'x' })).toThrow(UsageError);
  });

  it('reports a refusal with its body and fails a transport that ends before a head', () => {
    const client = new ClientEndpoint('ws://example.com/');
    client.takeOutgoing();
    client.receive(enc.encode('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope'));
    expect(client.nextEvent()).toMatchObject({
      type: 'rejected',
      status: 403,
      reason: 'Forbidden',
      bodyComplete: true,
    });
    expect(client.shouldCloseTransport).toBe(true);

    const cut = new ClientEndpoint('ws://example.com/');
    cut.receive(enc.encode('HTTP/1.1 101 Switching'));
    cut.receiveEof();
    expect(cut.events()).toMatchObject([
      { type: 'protocol-error', phase: 'handshake', status: null, failure: HandshakeFailure.ConnectionClosed },
      { type: 'closed', code: 1006, wasClean: false },
    ]);
  });

  it('refuses URLs the WHATWG constructor refuses, with ERR_INVALID_URL', () => {
    for (const url of ['ftp://x/', 'ws://x/#frag', 'not a url']) {
      expect(() => new ClientEndpoint(url)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_URL' }));
    }
  });
});
