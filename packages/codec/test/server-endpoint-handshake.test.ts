/**
 * The server's side of the opening handshake (RFC 6455 §4.2) as a
 * ServerEndpoint runs it: the request it reports, the requests it refuses
 * (a protocol-error event with phase 'handshake', its status, and the error
 * response it queues), what accept and reject write, and the bytes that
 * follow the request head.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { fromString } from 'uint8arrays/from-string';
import { toString as bytesToString } from 'uint8arrays/to-string';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/frames.js';
import { computeAcceptKey, createResponseHeadParser } from '../src/http.js';
import {
  type AcceptCommand,
  type EndpointEvent,
  type Extension,
  type ExtensionElement,
  HandshakeFailure,
  type HandshakeErrorEvent,
  permessageDeflate,
  ServerEndpoint,
  type ServerEndpointOptions,
  type UpgradeRequestEvent,
  UsageError,
} from '../src/index.js';
import { growthRatio } from './growth.js';
import { passThroughExtension } from './helpers.js';

const text = (bytes: Uint8Array): string => bytesToString(bytes, 'latin1');
const bytes = (value: string): Uint8Array => fromString(value, 'latin1');

const RFC_REQUEST = [
  'GET /chat HTTP/1.1',
  'Host: server.example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Origin: http://example.com',
  'Sec-WebSocket-Protocol: chat, superchat',
  'Sec-WebSocket-Version: 13',
  '',
  '',
].join('\r\n');

/** A valid request with `edit` applied to its field lines. */
function request(edit: (lines: string[]) => string[] = (lines) => lines, requestLine = 'GET /chat HTTP/1.1'): string {
  const lines = [
    'Host: server.example.com',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
  ];
  return [requestLine, ...edit(lines), '', ''].join('\r\n');
}

function without(name: string): (lines: string[]) => string[] {
  return (lines) => lines.filter((line) => !line.toLowerCase().startsWith(`${name.toLowerCase()}:`));
}

function replacing(name: string, value: string): (lines: string[]) => string[] {
  return (lines) => [...without(name)(lines), `${name}: ${value}`];
}

/** A masked text frame, as a client sends it. */
const maskedText = (data: string): Uint8Array =>
  encodeFrame({ opcode: 1, maskKey: Uint8Array.of(1, 2, 3, 4) }, bytes(data));

function serve(
  raw: string | Uint8Array,
  options: ServerEndpointOptions = {},
): { server: ServerEndpoint; events: EndpointEvent[] } {
  const server = new ServerEndpoint(options);
  server.receive(typeof raw === 'string' ? bytes(raw) : raw);
  return { server, events: server.events() };
}

function requestEvent(
  raw: string,
  options: ServerEndpointOptions = {},
): { server: ServerEndpoint; event: UpgradeRequestEvent } {
  const { server, events: evs } = serve(raw, options);
  const event = evs[0];
  if (evs.length !== 1 || event?.type !== 'request')
    throw new Error(`expected one request event, got ${JSON.stringify(evs)}`);
  return { server, event };
}

/** The one handshake error a bad request gets, and the response queued for it. */
function badRequest(
  raw: string,
  options: ServerEndpointOptions = {},
): { event: HandshakeErrorEvent; response: Uint8Array } {
  const { server, events: evs } = serve(raw, options);
  const event = evs[0];
  if (evs.length !== 1 || event?.type !== 'protocol-error' || event.phase !== 'handshake') {
    throw new Error(`expected one handshake error, got ${JSON.stringify(evs)}`);
  }
  expect(server.state).toBe('closed');
  expect(server.shouldCloseTransport).toBe(true);
  const response = concat(server.takeOutgoing());
  expect(parseResponse(response).startLine.status).toBe(event.status);
  return { event, response };
}

function parseResponse(response: Uint8Array) {
  const result = createResponseHeadParser().push(response);
  if (result.type !== 'complete') throw new Error(`unparseable response: ${text(response)}`);
  return result;
}

/** What a server endpoint answers `command` with, parsed. */
function answer(server: ServerEndpoint, command: AcceptCommand = { type: 'accept' }) {
  server.send(command);
  return parseResponse(concat(server.takeOutgoing()));
}

describe('Sec-WebSocket-Accept', () => {
  it('matches the RFC 6455 and other known vectors', () => {
    expect(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(computeAcceptKey('bKdPyn3u98cTfZJSh4TNeQ==')).toBe('4EaeSCkuOGBy+rjOSJSMV+VMoC0=');
  });
});

describe('server endpoint: the RFC 6455 §1.2/§1.3 example', () => {
  it('parses the example request into a request event', () => {
    const { event, server } = requestEvent(RFC_REQUEST);
    expect(server.state).toBe('connecting');
    expect(server.takeOutgoing()).toEqual([]);
    expect(event).toMatchObject({
      type: 'request',
      method: 'GET',
      target: '/chat',
      path: '/chat',
      query: '',
      httpVersion: '1.1',
      host: 'server.example.com',
      origin: 'http://example.com',
      key: 'dGhlIHNhbXBsZSBub25jZQ==',
      version: 13,
      protocols: ['chat', 'superchat'],
      extensions: [],
    });
    expect(event.headers.get('sec-websocket-protocol')).toBe('chat, superchat');
  });

  it('answers with the example response', () => {
    const { server } = requestEvent(RFC_REQUEST);
    server.send({ type: 'accept', protocol: 'chat' });
    expect(text(concat(server.takeOutgoing()))).toBe(
      [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
        'Sec-WebSocket-Protocol: chat',
        '',
        '',
      ].join('\r\n'),
    );
    expect(server.protocol).toBe('chat');
    // Nothing followed the head: the open event, and no frame.
    expect(server.events()).toMatchObject([{ type: 'open', protocol: 'chat', extensions: '' }]);
    expect(server.state).toBe('open');
  });
});

describe('server endpoint: request details', () => {
  it('splits path and query, for origin-form and absolute-form targets', () => {
    expect(requestEvent(request(undefined, 'GET /a/b?x=1&y HTTP/1.1')).event).toMatchObject({
      path: '/a/b',
      query: 'x=1&y',
    });
    expect(requestEvent(request(undefined, 'GET ws://h:1/p?q HTTP/1.1')).event).toMatchObject({
      path: '/p',
      query: 'q',
    });
    expect(requestEvent(request(undefined, 'GET http://h?q HTTP/1.1')).event).toMatchObject({ path: '/', query: 'q' });
  });

  it('accepts later HTTP versions and case-insensitive Upgrade/Connection lists', () => {
    const raw = request(
      (lines) => [
        ...without('upgrade')(without('connection')(lines)),
        'Upgrade: h2c, WebSocket',
        'connection: keep-alive, UPGRADE',
      ],
      'GET / HTTP/1.2',
    );
    expect(requestEvent(raw).event.httpVersion).toBe('1.2');
  });

  it('parses extension offers with ordered, unescaped, duplicate parameters', () => {
    const raw = request((lines) => [
      ...lines,
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits="10"',
      'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    ]);
    expect(requestEvent(raw).event.extensions).toEqual([
      {
        name: 'permessage-deflate',
        params: [
          { name: 'client_max_window_bits', value: null },
          { name: 'server_max_window_bits', value: '10' },
        ],
      },
      {
        name: 'permessage-deflate',
        params: [
          { name: 'server_no_context_takeover', value: null },
          { name: 'server_no_context_takeover', value: null },
        ],
      },
    ]);
  });

  it('gives null for a missing Origin and keeps repeated fields in order', () => {
    const { event } = requestEvent(request((lines) => [...lines, 'Cookie: a=1', 'X-Any: v', 'cookie: b=2']));
    expect(event.origin).toBeNull();
    expect(event.headers.getAll('COOKIE')).toEqual(['a=1', 'b=2']);
  });
});

describe('server endpoint: bad requests', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a POST', request(undefined, 'POST /chat HTTP/1.1'), /GET/],
    ['HTTP/1.0', request(undefined, 'GET /chat HTTP/1.0'), /HTTP\/1\.1/],
    ['a missing Host', request(without('host')), /Host/],
    ['an empty Host', request(replacing('host', '')), /Host/],
    ['two Hosts', request((lines) => [...lines, 'Host: other']), /Host/],
    ['a missing Upgrade', request(without('upgrade')), /Upgrade/],
    ['Upgrade: h2c', request(replacing('upgrade', 'h2c')), /Upgrade/],
    ['a missing Connection', request(without('connection')), /Connection/],
    ['Connection: keep-alive', request(replacing('connection', 'keep-alive')), /Connection/],
    ['a missing key', request(without('sec-websocket-key')), /Key/],
    ['a 15-byte key', request(replacing('sec-websocket-key', 'AAAAAAAAAAAAAAAAAAAA')), /Key/],
    ['a 17-byte key', request(replacing('sec-websocket-key', 'AAAAAAAAAAAAAAAAAAAAAAA=')), /Key/],
    ['a key with bad characters', request(replacing('sec-websocket-key', 'AAAAAAAAAAAAAAAAAAAAA-==')), /Key/],
    ['two keys', request((lines) => [...lines, 'Sec-WebSocket-Key: bKdPyn3u98cTfZJSh4TNeQ==']), /Key/],
    ['two Origins', request((lines) => [...lines, 'Origin: https://a', 'Origin: https://b']), /Origin/],
    ['duplicate subprotocols', request((lines) => [...lines, 'Sec-WebSocket-Protocol: chat, chat']), /subprotocol/],
    ['an invalid subprotocol list', request((lines) => [...lines, 'Sec-WebSocket-Protocol: a b']), /Protocol/],
    ['an invalid extension list', request((lines) => [...lines, 'Sec-WebSocket-Extensions: x; y="a b"']), /Extensions/],
    ['an asterisk target', request(undefined, 'GET * HTTP/1.1'), /target/],
    ['a header without a colon', request((lines) => [...lines, 'Broken']), /colon/],
    ['obs-fold', request((lines) => [...lines, 'X: a', ' b']), /folding/],
    ['a NUL in a value', request((lines) => [...lines, 'X: a\u0000']), /control/],
    ['whitespace before a colon', request((lines) => [...lines, 'X : a']), /whitespace/],
    ['bare LF', request().replaceAll('\r\n', '\n'), /LF/],
  ];

  it.each(cases)('answers %s with 400 and a reason', (_, raw, reason) => {
    const { event, response: bytesOut } = badRequest(raw);
    expect(event).toMatchObject({
      type: 'protocol-error',
      phase: 'handshake',
      status: 400,
      failure: HandshakeFailure.BadRequest,
    });
    expect(event.reason).toMatch(reason);
    const response = parseResponse(bytesOut);
    expect(response.startLine).toMatchObject({ status: 400, reason: 'Bad Request' });
    expect(response.headers.get('connection')).toBe('close');
    expect(text(response.trailing)).toBe(`${event.reason}\n`);
    expect(response.headers.get('content-length')).toBe(String(response.trailing.length));
  });

  it.each([
    ['missing', request(without('sec-websocket-version'))],
    ['8', request(replacing('sec-websocket-version', '8'))],
    ['repeated', request((lines) => [...lines, 'Sec-WebSocket-Version: 13'])],
    ['garbage', request(replacing('sec-websocket-version', '13x'))],
  ])('answers a %s version with 426 and Sec-WebSocket-Version: 13', (_, raw) => {
    const { event, response: bytesOut } = badRequest(raw);
    expect(event).toMatchObject({ status: 426, failure: HandshakeFailure.UnsupportedVersion });
    const response = parseResponse(bytesOut);
    expect(response.startLine).toMatchObject({ status: 426, reason: 'Upgrade Required' });
    expect(response.headers.get('sec-websocket-version')).toBe('13');
    expect(response.headers.get('upgrade')).toBe('websocket');
  });

  it('answers 426 even when a differently-versioned client sends no key', () => {
    expect(
      badRequest(request((l) => without('sec-websocket-key')(replacing('sec-websocket-version', '8')(l)))).event.status,
    ).toBe(426);
  });

  it('answers 431 for too many fields or too large a head', () => {
    const many = badRequest(
      request((lines) => [...lines, ...Array.from({ length: 5 }, (_, i) => `X-${i}: y`)]),
      { maxHeaderCount: 8 },
    );
    expect(many.event).toMatchObject({ status: 431, failure: HandshakeFailure.RequestTooLarge });
    expect(
      badRequest(
        request((lines) => [...lines, `X: ${'y'.repeat(300)}`]),
        { maxHeadSize: 256 },
      ).event.status,
    ).toBe(431);
    expect(
      badRequest(request(undefined, `GET /${'a'.repeat(100)} HTTP/1.1`), { maxStartLineLength: 64 }).event.status,
    ).toBe(400);
  });

  it('ignores bytes after a bad request and refuses to accept', () => {
    const { server } = serve('BAD\r\n\r\n');
    server.takeOutgoing();
    server.receive(bytes('more'));
    expect(server.nextEvent()).toBeUndefined();
    expect(server.takeOutgoing()).toEqual([]);
    expect(() => server.send({ type: 'accept' })).toThrow(UsageError);
    expect(() => server.send({ type: 'reject', status: 403 })).toThrow(UsageError);
  });
});

describe('server endpoint: accept and reject', () => {
  it('refuses a subprotocol that was not offered', () => {
    const { server } = requestEvent(RFC_REQUEST);
    expect(() => server.send({ type: 'accept', protocol: 'other' })).toThrow(
      expect.objectContaining({ name: 'UsageError', code: 'ERR_INVALID_ARGUMENT' }),
    );
    // A refused call changes nothing: the application can still decide.
    expect(server.state).toBe('connecting');
    expect(server.takeOutgoing()).toEqual([]);
    expect(answer(server, { type: 'accept', protocol: null }).headers.has('sec-websocket-protocol')).toBe(false);
    expect(server.protocol).toBeNull();
  });

  it('throws when deciding twice or before a request', () => {
    const { server } = requestEvent(RFC_REQUEST);
    server.send({ type: 'accept' });
    expect(() => server.send({ type: 'accept' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    expect(() => server.send({ type: 'reject', status: 403 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE' }),
    );
    const { server: rejected } = requestEvent(RFC_REQUEST);
    rejected.send({ type: 'reject', status: 403 });
    expect(() => rejected.send({ type: 'accept' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    expect(() => new ServerEndpoint().send({ type: 'accept' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE' }),
    );
  });

  it('reads bytes received after accepting as frames', () => {
    const { server } = requestEvent(RFC_REQUEST);
    server.send({ type: 'accept' });
    server.receive(maskedText('x'));
    expect(server.events()).toMatchObject([{ type: 'open' }, { type: 'text', data: 'x' }]);
  });

  it('refuses header names and values that could split the response, and extension answers that are not tokens', () => {
    // Extensions that answer the offer with an element that is not all tokens.
    const answering = (element: ExtensionElement): Extension => {
      const ext = passThroughExtension({ name: 'permessage-deflate', params: [] });
      const agreed = ext.validateResponse(element);
      return { ...ext, negotiate: () => (agreed.ok ? agreed.negotiated : undefined) };
    };
    const attempts: Array<[AcceptCommand, readonly Extension[]]> = [
      [{ type: 'accept', headers: [['Set-Cookie', 'a=1\r\nX-Evil: 1']] }, []],
      [{ type: 'accept', headers: { 'X-Evil\r\n': 'x' } }, []],
      [{ type: 'accept', headers: { 'Bad Name': 'x' } }, []],
      [{ type: 'accept', headers: { 'X-Lf': 'a\nb' } }, []],
      [{ type: 'accept', headers: { 'X-Nul': 'a\u0000' } }, []],
      [{ type: 'accept', headers: { 'Sec-WebSocket-Accept': 'forged' } }, []],
      [{ type: 'accept', headers: { connection: 'close' } }, []],
      [{ type: 'accept' }, [answering({ name: 'permessage-deflate', params: [{ name: 'a', value: 'b c' }] })]],
      [{ type: 'accept' }, [answering({ name: 'permessage-deflate\r\n', params: [] })]],
    ];
    for (const [command, extensions] of attempts) {
      const { server } = requestEvent(
        request((lines) => [...lines, 'Sec-WebSocket-Extensions: permessage-deflate']),
        { extensions },
      );
      expect(() => server.send(command), JSON.stringify(command)).toThrow(UsageError);
      expect(server.state).toBe('connecting');
      expect(server.takeOutgoing()).toEqual([]);
    }
  });

  it('writes extra headers, an extension response and keeps Set-Cookie lines apart', () => {
    const { server } = requestEvent(
      request((lines) => [...lines, 'Sec-WebSocket-Extensions: permessage-deflate, x-other']),
      {
        extensions: [permessageDeflate({ serverNoContextTakeover: true })],
      },
    );
    const response = answer(server, { type: 'accept', headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Server': 'test' } });
    expect(response.headers.get('sec-websocket-extensions')).toBe('permessage-deflate; server_no_context_takeover');
    expect(response.headers.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(response.headers.get('x-server')).toBe('test');
    expect(server.extensions.map((e) => e.response)).toEqual([
      { name: 'permessage-deflate', params: [{ name: 'server_no_context_takeover', value: null }] },
    ]);
  });

  it('answers only extensions that were offered', () => {
    const { server } = requestEvent(
      request((lines) => [...lines, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits']),
      {
        extensions: [
          passThroughExtension({ name: 'x-unoffered', params: [] }),
          permessageDeflate({ clientMaxWindowBits: 10 }),
        ],
      },
    );
    expect(answer(server).headers.get('sec-websocket-extensions')).toBe(
      'permessage-deflate; client_max_window_bits=10',
    );
    expect(server.extensions.map((e) => e.response)).toEqual([
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: '10' }] },
    ]);
  });

  it('rejects with a status, headers and a body', () => {
    const { server } = requestEvent(RFC_REQUEST);
    server.send({ type: 'reject', status: 403, headers: { 'X-Reason': 'origin' }, body: 'origin not allowed' });
    const parsed = parseResponse(concat(server.takeOutgoing()));
    expect(parsed.startLine).toMatchObject({ status: 403, reason: 'Forbidden' });
    expect(parsed.headers.get('x-reason')).toBe('origin');
    expect(parsed.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(parsed.headers.get('content-length')).toBe('18');
    expect(text(parsed.trailing)).toBe('origin not allowed');
    expect(server.state).toBe('closed');
    expect(server.shouldCloseTransport).toBe(true);
  });

  it('validates reject arguments', () => {
    for (const options of [
      { status: 101 },
      { status: 200 },
      { status: 600 },
      { status: 403.5 },
      { status: 403, reason: 'a\r\nb' },
      { status: 403, headers: { 'Content-Length': '1' } },
    ]) {
      const { server } = requestEvent(RFC_REQUEST);
      expect(() => server.send({ type: 'reject', ...options }), JSON.stringify(options)).toThrow(UsageError);
      expect(server.state).toBe('connecting');
    }
  });
});

describe('server endpoint: bytes after the request head', () => {
  it('keeps bytes from the same chunk and later chunks for the frame phase, in order', () => {
    const frame = maskedText('hello');
    const server = new ServerEndpoint();
    server.receive(concat([bytes(RFC_REQUEST), frame.subarray(0, 2)]));
    server.receive(frame.slice(2, 5));
    expect(server.nextEvent()?.type).toBe('request');
    server.receive(frame.slice(5));
    expect(server.nextEvent()).toBeUndefined();
    server.send({ type: 'accept' });
    expect(server.events()).toMatchObject([{ type: 'open' }, { type: 'text', data: 'hello' }]);
  });

  it('copies the bytes a host read after the head, so the host may reuse its buffer', () => {
    // A Buffer, as Node's upgrade event gives: its slice() is a view, so only a real copy survives the fill below.
    const trailing = Buffer.from(maskedText('xyz'));
    const server = ServerEndpoint.fromParsedRequest({
      method: 'GET',
      target: '/',
      httpVersion: '1.1',
      headers: [
        'Host',
        'h',
        'Upgrade',
        'websocket',
        'Connection',
        'Upgrade',
        'Sec-WebSocket-Key',
        'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version',
        '13',
      ],
      trailing,
    });
    trailing.fill(0);
    expect(server.nextEvent()?.type).toBe('request');
    server.send({ type: 'accept' });
    expect(server.events()).toMatchObject([{ type: 'open' }, { type: 'text', data: 'xyz' }]);
  });

  it('fails with 400 when the client sends too much before the response', () => {
    const server = new ServerEndpoint({ maxEarlyDataSize: 10 });
    server.receive(bytes(`${RFC_REQUEST}12345`));
    server.receive(bytes('678901'));
    const evs = server.events();
    expect(evs.map((e) => e.type)).toEqual(['request', 'protocol-error']);
    expect(evs[1]).toMatchObject({ phase: 'handshake', status: 400, failure: HandshakeFailure.EarlyDataTooLarge });
    expect(parseResponse(concat(server.takeOutgoing())).startLine.status).toBe(400);
    expect(server.state).toBe('closed');
    expect(server.shouldCloseTransport).toBe(true);
  });
});

describe('ServerEndpoint.fromParsedRequest', () => {
  it('handles a Node-style request with flat rawHeaders and a head buffer', () => {
    const server = ServerEndpoint.fromParsedRequest({
      method: 'GET',
      target: '/chat?room=1',
      httpVersion: '1.1',
      headers: [
        'Host',
        'server.example.com',
        'Upgrade',
        'websocket',
        'Connection',
        'Upgrade',
        'Sec-WebSocket-Key',
        'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version',
        '13',
        'Sec-WebSocket-Protocol',
        'chat, superchat',
      ],
      trailing: maskedText('early'),
    });
    const event = server.nextEvent();
    expect(event).toMatchObject({ type: 'request', path: '/chat', query: 'room=1', protocols: ['chat', 'superchat'] });
    expect(answer(server, { type: 'accept', protocol: 'superchat' }).headers.get('sec-websocket-accept')).toBe(
      's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    );
    expect(server.events()).toMatchObject([
      { type: 'open', protocol: 'superchat' },
      { type: 'text', data: 'early' },
    ]);
  });

  it('applies the same validation to pairs, including character checks', () => {
    const base: Array<[string, string]> = [
      ['Host', 'h'],
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ];
    const noVersion = ServerEndpoint.fromParsedRequest({
      method: 'GET',
      target: '/',
      httpVersion: 'HTTP/1.1',
      headers: base,
    });
    expect(noVersion.nextEvent()).toMatchObject({ type: 'protocol-error', phase: 'handshake', status: 426 });
    expect(parseResponse(concat(noVersion.takeOutgoing())).startLine.status).toBe(426);
    const injected = ServerEndpoint.fromParsedRequest({
      method: 'GET',
      target: '/',
      httpVersion: '1.1',
      headers: [...base, ['Sec-WebSocket-Version', '13'], ['X', 'a\r\nb']],
    });
    expect(injected.nextEvent()).toMatchObject({ type: 'protocol-error', phase: 'handshake', status: 400 });
    const odd = ServerEndpoint.fromParsedRequest({ method: 'GET', target: '/', httpVersion: '1.1', headers: ['Host'] });
    expect(odd.nextEvent()).toMatchObject({ type: 'protocol-error', phase: 'handshake', status: 400 });
  });
});

const VALID_FIELDS = [
  'Host: h',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
  'Sec-WebSocket-Protocol: a, b',
  'Sec-WebSocket-Extensions: e; p="v"',
  'Origin: https://o',
];
const JUNK = ['\n', '\r', ' ', ':', ',', '\u0000', '\u00ff', 'X: y', 'Sec-WebSocket-Version: 8', 'Host: h2', '"', ';'];

/** Valid requests with fields dropped, reordered, repeated or damaged, and possibly truncated. */
function mutatedRequest(): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      requestLine: fc.constantFrom(
        'GET / HTTP/1.1',
        'GET /p?q HTTP/1.1',
        'POST / HTTP/1.1',
        'GET / HTTP/1.0',
        'GET /  HTTP/1.1',
      ),
      fields: fc.shuffledSubarray(VALID_FIELDS, { minLength: 5 }),
      junk: fc.oneof(
        { weight: 2, arbitrary: fc.constant([]) },
        {
          weight: 1,
          arbitrary: fc.array(fc.record({ at: fc.nat(), text: fc.constantFrom(...JUNK) }), {
            minLength: 1,
            maxLength: 2,
          }),
        },
      ),
      cut: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
    })
    .map(({ requestLine, fields, junk, cut }) => {
      let raw = [requestLine, ...fields, '', ''].join('\r\n');
      for (const { at, text: insert } of junk) {
        const i = at % (raw.length + 1);
        raw = raw.slice(0, i) + insert + raw.slice(i);
      }
      return bytes(cut === null ? raw : raw.slice(0, cut % (raw.length + 1)));
    });
}

describe('server endpoint: hostile input', () => {
  // Cost is compared between inputs of size n and 4n: work that stops at a
  // limit stays near 1×, linear work near 4×, quadratic near 16×.
  it('answers 10 000 header lines with 431, at a cost that stops growing at the limit', () => {
    const withLines = (count: number) =>
      request((lines) => [...lines, ...Array.from({ length: count }, (_, i) => `X-Header-${i}: value`)]);
    expect(badRequest(withLines(10_000)).event.status).toBe(431);
    expect(
      growthRatio(
        (count) => bytes(withLines(count)),
        (raw) => serve(raw),
        { size: 10_000 },
      ),
    ).toBeLessThan(2);
  });

  it('answers 10 000 header lines with 431 even when the count limit is raised', () => {
    const withLines = (count: number) =>
      request((lines) => [...lines, ...Array.from({ length: count }, (_, i) => `X-${i}: v`)]);
    const options = { maxHeaderCount: 20_000 };
    expect(badRequest(withLines(10_000), options).event.status).toBe(431); // the 16 KiB head limit
    expect(
      growthRatio(
        (count) => bytes(withLines(count)),
        (raw) => serve(raw, options),
        { size: 10_000 },
      ),
    ).toBeLessThan(2);
  });

  it.each([
    ['Sec-WebSocket-Protocol', (n: number) => 'a,'.repeat(n / 2), /duplicate subprotocol/],
    ['Sec-WebSocket-Protocol', (n: number) => `"${'a'.repeat(n - 1)}`, /Protocol/],
    ['Sec-WebSocket-Extensions', (n: number) => `x; p="${'\\a'.repeat(n / 2)}`, /quoted/],
    ['Sec-WebSocket-Extensions', (n: number) => 'x;'.repeat(n / 2), /parameter name/],
  ])('answers a 100 000-character %s correctly, at a cost linear in its length', (name, value, reason) => {
    const withValue = (n: number) => request((lines) => [...lines, `${name}: ${value(n)}`]);
    const raised = { maxHeadSize: 256 * 1024 };
    expect(badRequest(withValue(100_000)).event.status).toBe(431); // default 16 KiB limit
    expect(
      growthRatio(
        (n) => bytes(withValue(n)),
        (raw) => serve(raw),
        { size: 25_000 },
      ),
    ).toBeLessThan(2);
    const { event } = badRequest(withValue(100_000), raised);
    expect(event.status).toBe(400);
    expect(event.reason).toMatch(reason);
    expect(event.reason.length).toBeLessThan(200);
    expect(
      growthRatio(
        (n) => bytes(withValue(n)),
        (raw) => serve(raw, raised),
        { size: 25_000 },
      ),
    ).toBeLessThan(8);
  });

  it('parses a 100 000-character valid protocol list with a raised limit, at a cost linear in its length', () => {
    const withProtocols = (count: number) =>
      request((lines) => [
        ...lines,
        `Sec-WebSocket-Protocol: ${Array.from({ length: count }, (_, i) => `p${i}`).join(',')}`,
      ]);
    const raised = { maxHeadSize: 256 * 1024 };
    const { events: evs } = serve(withProtocols(14_000), raised);
    expect(evs[0]?.type === 'request' && evs[0].protocols.length).toBe(14_000);
    expect(
      growthRatio(
        (count) => bytes(withProtocols(count)),
        (raw) => serve(raw, raised),
        { size: 3_500 },
      ),
    ).toBeLessThan(8);
  });

  it('never throws on arbitrary bytes and ends in request, incomplete or 4xx', () => {
    const input = fc.oneof(fc.uint8Array({ maxLength: 300 }), mutatedRequest());
    fc.assert(
      fc.property(input, (data) => {
        const { server, events: evs } = serve(data, { maxHeadSize: 512 });
        if (evs.length === 0) {
          expect(server.state).toBe('connecting');
          expect(server.takeOutgoing()).toEqual([]);
          return;
        }
        const [event] = evs;
        expect(evs.length).toBe(1);
        if (event?.type === 'protocol-error') {
          expect(event.phase).toBe('handshake');
          const status = event.phase === 'handshake' ? (event.status ?? 0) : 0;
          expect(status).toBeGreaterThanOrEqual(400);
          expect(status).toBeLessThan(500);
          expect(parseResponse(concat(server.takeOutgoing())).startLine.status).toBe(status);
          expect(server.shouldCloseTransport).toBe(true);
        } else {
          expect(event?.type).toBe('request');
          expect(answer(server).startLine.status).toBe(101);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same outcome for every chunking, one byte at a time included', () => {
    const raw = concat([
      bytes(
        request((lines) => [
          ...lines,
          'Sec-WebSocket-Protocol: chat',
          'Sec-WebSocket-Extensions: permessage-deflate; a="1"',
        ]),
      ),
      maskedText('FRAMES'),
    ]);
    const outcome = (chunks: Uint8Array[]) => {
      const server = new ServerEndpoint();
      // Copies: the endpoint owns what it receives and unmasks frames in place.
      for (const chunk of chunks) server.receive(chunk.slice());
      const evs = server.events();
      server.send({ type: 'accept', protocol: 'chat' });
      const after = server.events();
      const summary = [...evs, ...after].map((ev) =>
        ev.type === 'request' || ev.type === 'open' ? { ...ev, headers: ev.headers.entries() } : ev,
      );
      return { summary, response: text(concat(server.takeOutgoing())) };
    };
    const whole = outcome([raw]);
    expect(whole.summary.map((ev) => ev.type)).toEqual(['request', 'open', 'text']);
    expect(whole.summary[2]).toEqual({ type: 'text', data: 'FRAMES' });
    expect(outcome(Array.from(raw, (b) => Uint8Array.of(b)))).toEqual(whole);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: raw.length - 1 }), { maxLength: 10 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), raw.length];
        const chunks = points.slice(1).map((end, i) => raw.subarray(points[i], end));
        expect(outcome(chunks)).toEqual(whole);
      }),
    );
  });
});
