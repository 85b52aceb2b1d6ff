import fc from 'fast-check';
import { fromString } from 'uint8arrays/from-string';
import { toString } from 'uint8arrays/to-string';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import {
  ClientHandshake,
  ClientHandshakeState,
  HandshakeFailure,
  computeAcceptKey,
  type ClientHandshakeEvent,
  type ClientHandshakeOptions,
} from '../src/handshake.js';
import { createRequestHeadParser } from '../src/http-head.js';

const text = (bytes: Uint8Array): string => toString(bytes, 'latin1');
const bytes = (value: string): Uint8Array => fromString(value, 'latin1');

/** Randomness that yields the RFC 6455 sample nonce, so the key is `dGhlIHNhbXBsZSBub25jZQ==`. */
const sampleNonce = (target: Uint8Array): void => {
  target.set(bytes('the sample nonce'));
};

const RFC_RESPONSE = [
  'HTTP/1.1 101 Switching Protocols',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
  'Sec-WebSocket-Protocol: chat',
  '',
  '',
].join('\r\n');

function client(options: ClientHandshakeOptions = {}, url = 'ws://server.example.com/chat'): ClientHandshake {
  return new ClientHandshake(url, { random: sampleNonce, ...options });
}

function outcome(handshake: ClientHandshake, ...chunks: string[]): ClientHandshakeEvent | undefined {
  for (const chunk of chunks) handshake.receive(bytes(chunk));
  const event = handshake.nextEvent();
  expect(handshake.nextEvent()).toBeUndefined();
  return event;
}

/** A 101 for the sample key with `edit` applied to its field lines. */
function response(edit: (lines: string[]) => string[] = (lines) => lines): string {
  const lines = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='];
  return ['HTTP/1.1 101 Switching Protocols', ...edit(lines), '', ''].join('\r\n');
}

function parseRequest(request: Uint8Array) {
  const result = createRequestHeadParser().push(request);
  if (result.type !== 'complete') throw new Error(`unparseable request: ${text(request)}`);
  return result;
}

describe('ClientHandshake: the request', () => {
  it('builds the RFC 6455 §1.2 example request', () => {
    const handshake = client({ origin: 'http://example.com', protocols: ['chat', 'superchat'] });
    expect(handshake.key).toBe('dGhlIHNhbXBsZSBub25jZQ==');
    expect(text(handshake.request)).toBe(
      [
        'GET /chat HTTP/1.1',
        'Host: server.example.com',
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        'Origin: http://example.com',
        'Sec-WebSocket-Protocol: chat, superchat',
        '',
        '',
      ].join('\r\n'),
    );
    expect(handshake.state).toBe(ClientHandshakeState.AwaitingResponse);
  });

  it('uses fresh random keys by default', () => {
    const keys = new Set(Array.from({ length: 20 }, () => new ClientHandshake('ws://h/').key));
    expect(keys.size).toBe(20);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });

  it.each([
    ['ws://h/', 'h', '/'],
    ['ws://h', 'h', '/'],
    ['ws://h:80/a', 'h', '/a'],
    ['ws://h:8080/a?b=c&d', 'h:8080', '/a?b=c&d'],
    ['wss://h:443/', 'h', '/'],
    ['wss://h:80/', 'h:80', '/'],
    ['http://h:80/x', 'h', '/x'],
    ['https://H.example:443/x?', 'h.example', '/x?'],
    ['https://h:8443/', 'h:8443', '/'],
    ['ws://[::1]:9000/p', '[::1]:9000', '/p'],
    ['ws://user:pass@h/', 'h', '/'],
    ['ws://h/a b', 'h', '/a%20b'],
  ])('maps %s to Host %s and target %s', (url, host, target) => {
    const request = parseRequest(new ClientHandshake(url).request);
    expect(request.headers.get('host')).toBe(host);
    expect(request.startLine.target).toBe(target);
    expect(request.headers.has('authorization')).toBe(false);
  });

  it('normalises http(s) to ws(s)', () => {
    expect(new ClientHandshake('https://h/').url.protocol).toBe('wss:');
    expect(new ClientHandshake(new URL('http://h/')).url.protocol).toBe('ws:');
  });

  it.each(['ftp://h/', 'file:///x', 'ws://h/#frag', 'ws://h/#', 'wss://h/?q#', '/relative', 'not a url', 'ws://'])(
    'refuses the URL %j',
    (url) => {
      expect(() => new ClientHandshake(url)).toThrow(expect.objectContaining({ name: 'UsageError', code: 'ERR_INVALID_URL' }));
    },
  );

  it('offers extensions and adds extra headers', () => {
    const handshake = client({
      extensions: [{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }],
      headers: [
        ['Authorization', 'Bearer t'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
      ],
    });
    const request = parseRequest(handshake.request);
    expect(request.headers.get('sec-websocket-extensions')).toBe('permessage-deflate; client_max_window_bits');
    expect(request.headers.get('authorization')).toBe('Bearer t');
    expect(request.headers.getAll('cookie')).toEqual(['a=1', 'b=2']);
    expect(client({ extensions: 'x-a; p="1", x-b' }).extensions).toEqual([
      { name: 'x-a', params: [{ name: 'p', value: '1' }] },
      { name: 'x-b', params: [] },
    ]);
  });

  it.each<[string, ClientHandshakeOptions]>([
    ['a duplicate subprotocol', { protocols: ['a', 'a'] }],
    ['a subprotocol with a space', { protocols: ['a b'] }],
    ['an empty subprotocol', { protocols: [''] }],
    ['a subprotocol with CRLF', { protocols: ['a\r\nX: y'] }],
    ['an Origin with CRLF', { origin: 'http://a\r\nX: y' }],
    ['a header value with LF', { headers: { Cookie: 'a\nb' } }],
    ['a header name with CRLF', { headers: { 'X\r\nY': 'a' } }],
    ['a header name with a space', { headers: { 'X Y': 'a' } }],
    ['a reserved header', { headers: { 'Sec-WebSocket-Key': 'x' } }],
    ['a Host header', { headers: { host: 'x' } }],
    ['a malformed extension offer', { extensions: 'a; b="c d"' }],
    ['an extension name that is not a token', { extensions: [{ name: 'a,b', params: [] }] }],
    ['a zero head limit', { maxHeadSize: 0 }],
    ['a fractional body limit', { maxBodySize: 1.5 }],
  ])('throws UsageError for %s', (_, options) => {
    expect(() => client(options)).toThrow(UsageError);
  });
});

describe('ClientHandshake: a 101 response', () => {
  it('opens on the RFC 6455 §1.3 example response', () => {
    const handshake = client({ protocols: ['chat', 'superchat'] });
    const event = outcome(handshake, RFC_RESPONSE);
    expect(event).toMatchObject({ type: 'open', protocol: 'chat', extensions: [] });
    expect(handshake.state).toBe(ClientHandshakeState.Open);
  });

  it('hands bytes after the head over as trailing', () => {
    const event = outcome(client(), `${response()}\u0081\u0002hi`);
    expect(event?.type === 'open' && text(event.trailing)).toBe('\u0081\u0002hi');
  });

  it('accepts case variations and Connection lists', () => {
    const raw = response(() => ['UPGRADE: WebSocket', 'connection: keep-alive, upgrade', 'sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=']);
    expect(outcome(client(), raw)).toMatchObject({ type: 'open', protocol: null });
  });

  it('passes accepted extensions through, parsed', () => {
    const handshake = client({ extensions: 'permessage-deflate; client_max_window_bits' });
    const event = outcome(handshake, response((lines) => [...lines, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10']));
    expect(event).toMatchObject({
      type: 'open',
      extensions: [{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: '10' }] }],
    });
  });

  it('throws on bytes and EOF after opening: they belong to the connection', () => {
    const handshake = client();
    outcome(handshake, response());
    expect(() => handshake.receive(bytes('x'))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    expect(() => handshake.receiveEof()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
  });

  const failures: Array<[string, ClientHandshakeOptions, string, HandshakeFailure, RegExp]> = [
    ['no Upgrade', {}, response((l) => l.slice(1)), HandshakeFailure.InvalidUpgrade, /Upgrade must be "websocket", got none/],
    ['Upgrade: h2c', {}, response((l) => ['Upgrade: h2c', ...l.slice(1)]), HandshakeFailure.InvalidUpgrade, /"h2c"/],
    ['Upgrade: websocket, h2c', {}, response((l) => ['Upgrade: websocket, h2c', ...l.slice(1)]), HandshakeFailure.InvalidUpgrade, /h2c/],
    ['no Connection', {}, response((l) => [l[0] ?? '', l[2] ?? '']), HandshakeFailure.InvalidConnection, /Connection/],
    ['Connection: close', {}, response((l) => [l[0] ?? '', 'Connection: close', l[2] ?? '']), HandshakeFailure.InvalidConnection, /"close"/],
    ['no accept', {}, response((l) => l.slice(0, 2)), HandshakeFailure.InvalidAccept, /got none/],
    ['a wrong accept', {}, response((l) => [...l.slice(0, 2), 'Sec-WebSocket-Accept: 4EaeSCkuOGBy+rjOSJSMV+VMoC0=']), HandshakeFailure.InvalidAccept, /must be "s3pPLMBiTxaQ9kYGzzhZRbK\+xOo="/],
    ['two accepts', {}, response((l) => [...l, l[2] ?? '']), HandshakeFailure.InvalidAccept, /2 fields/],
    ['a protocol when none was offered', {}, response((l) => [...l, 'Sec-WebSocket-Protocol: chat']), HandshakeFailure.InvalidProtocol, /none was offered/],
    ['an unoffered protocol', { protocols: ['a'] }, response((l) => [...l, 'Sec-WebSocket-Protocol: chat']), HandshakeFailure.InvalidProtocol, /not offered/],
    ['two protocols', { protocols: ['a', 'b'] }, response((l) => [...l, 'Sec-WebSocket-Protocol: a, b']), HandshakeFailure.InvalidProtocol, /one token/],
    ['an empty protocol', { protocols: ['a'] }, response((l) => [...l, 'Sec-WebSocket-Protocol: ']), HandshakeFailure.InvalidProtocol, /one token/],
    ['an unoffered extension', {}, response((l) => [...l, 'Sec-WebSocket-Extensions: permessage-deflate']), HandshakeFailure.InvalidExtensions, /not offered/],
    ['a malformed extension', { extensions: 'x' }, response((l) => [...l, 'Sec-WebSocket-Extensions: x; a="b']), HandshakeFailure.InvalidExtensions, /quoted/],
    ['a malformed head', {}, 'HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n', HandshakeFailure.MalformedResponse, /whitespace/],
    ['a bare LF head', {}, response().replaceAll('\r\n', '\n'), HandshakeFailure.MalformedResponse, /LF/],
    ['a non-HTTP reply', {}, 'SSH-2.0-OpenSSH\r\n\r\n', HandshakeFailure.MalformedResponse, /status line/],
  ];

  it.each(failures)('fails on %s, saying what was wrong', (_, options, raw, failure, reason) => {
    const handshake = client(options);
    const event = outcome(handshake, raw);
    expect(event).toMatchObject({ type: 'failed', failure });
    expect(event?.type === 'failed' && event.reason).toMatch(reason);
    expect(handshake.state).toBe(ClientHandshakeState.Failed);
    handshake.receive(bytes('ignored'));
    handshake.receiveEof();
    expect(handshake.nextEvent()).toBeUndefined();
  });

  it('fails on a response head over the limits', () => {
    const large = client({ maxHeadSize: 128 });
    expect(outcome(large, response((l) => [...l, `X: ${'a'.repeat(200)}`]))).toMatchObject({ failure: HandshakeFailure.ResponseTooLarge });
    const many = client({ maxHeaderCount: 4 });
    expect(outcome(many, response((l) => [...l, 'A: 1', 'B: 2']))).toMatchObject({ failure: HandshakeFailure.ResponseTooLarge });
  });

  it('fails when the transport ends before the head is complete', () => {
    const handshake = client();
    handshake.receive(bytes('HTTP/1.1 101 Switching'));
    handshake.receiveEof();
    expect(handshake.nextEvent()).toMatchObject({ type: 'failed', failure: HandshakeFailure.ConnectionClosed });
  });

  it('skips interim 1xx responses', () => {
    const event = outcome(client(), 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', response());
    expect(event?.type).toBe('open');
  });
});

describe('ClientHandshake: other statuses', () => {
  it('reads a Content-Length body of a 403', () => {
    const handshake = client();
    const event = outcome(handshake, 'HTTP/1.1 403 Forbidden\r\nContent-Length: 11\r\n\r\nnot al', 'lowedEXTRA');
    expect(event).toMatchObject({ type: 'unexpected-response', status: 403, reason: 'Forbidden', bodyComplete: true });
    expect(event?.type === 'unexpected-response' && text(event.body)).toBe('not allowed');
    expect(handshake.state).toBe(ClientHandshakeState.Rejected);
  });

  it('keeps the headers of a 401 challenge', () => {
    const event = outcome(client(), 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n');
    expect(event?.type === 'unexpected-response' && event.headers.get('www-authenticate')).toBe('Basic realm="x"');
  });

  it('decodes a chunked body', () => {
    const event = outcome(client(), 'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n', '6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n');
    expect(event).toMatchObject({ type: 'unexpected-response', status: 503, bodyComplete: true });
    expect(event?.type === 'unexpected-response' && text(event.body)).toBe('hello world');
  });

  it('reads an undelimited body until EOF', () => {
    const handshake = client();
    handshake.receive(bytes('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nbad '));
    handshake.receive(bytes('key'));
    expect(handshake.nextEvent()).toBeUndefined();
    expect(handshake.state).toBe(ClientHandshakeState.ReadingBody);
    handshake.receiveEof();
    const event = handshake.nextEvent();
    expect(event).toMatchObject({ type: 'unexpected-response', status: 400, bodyComplete: true });
    expect(event?.type === 'unexpected-response' && text(event.body)).toBe('bad key');
  });

  it('caps the body and marks it incomplete', () => {
    const capped = outcome(client({ maxBodySize: 4 }), 'HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n0123456789');
    expect(capped).toMatchObject({ type: 'unexpected-response', bodyComplete: false });
    expect(capped?.type === 'unexpected-response' && text(capped.body)).toBe('0123');
    const eofCapped = outcome(client({ maxBodySize: 4 }), 'HTTP/1.1 404 Not Found\r\n\r\n0123456789');
    expect(eofCapped?.type === 'unexpected-response' && text(eofCapped.body)).toBe('0123');
  });

  it('reports a body cut short by EOF as incomplete', () => {
    const handshake = client();
    handshake.receive(bytes('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\npartial'));
    handshake.receiveEof();
    expect(handshake.nextEvent()).toMatchObject({ type: 'unexpected-response', status: 500, bodyComplete: false });
  });

  it('reports at once when there is no body', () => {
    expect(outcome(client(), 'HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ status: 204, bodyComplete: true });
    expect(outcome(client(), 'HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ status: 302 });
    expect(outcome(client(), 'HTTP/1.1 400 Bad Request\r\nContent-Length: 1, 2\r\n\r\nx')).toMatchObject({ status: 400, bodyComplete: false });
  });

  it('ends a malformed chunked body early', () => {
    const event = outcome(client(), 'HTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    expect(event).toMatchObject({ type: 'unexpected-response', status: 503, bodyComplete: false });
  });
});

describe('ClientHandshake: any split of the response', () => {
  const cases = [
    ['open', `${response((l) => [...l, 'Sec-WebSocket-Protocol: chat'])}FRAMEBYTES`],
    ['chunked 503', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'],
    ['sized 403', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!'],
    ['failure', response((l) => l.slice(1))],
  ] as const;

  const run = (raw: Uint8Array, chunks: Uint8Array[]) => {
    const handshake = client({ protocols: ['chat'] });
    const trailing: string[] = [];
    for (const chunk of chunks) {
      if (handshake.state === ClientHandshakeState.Open) trailing.push(text(chunk));
      else handshake.receive(chunk);
    }
    const event = handshake.nextEvent();
    expect(event, text(raw)).toBeDefined();
    if (event === undefined) return null;
    if (event.type === 'failed') return { ...event, headers: event.headers?.entries() };
    if (event.type === 'open') return { ...event, headers: event.headers.entries(), trailing: text(event.trailing) + trailing.join('') };
    return { ...event, headers: event.headers.entries(), body: text(event.body) };
  };

  it.each(cases)('gives the same %s whatever the chunking', (_, rawText) => {
    const raw = bytes(rawText);
    const whole = run(raw, [raw]);
    expect(run(raw, Array.from(raw, (b) => Uint8Array.of(b)))).toEqual(whole);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: raw.length - 1 }), { maxLength: 10 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), raw.length];
        expect(run(raw, points.slice(1).map((end, i) => raw.subarray(points[i], end)))).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on arbitrary response bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (data, eof) => {
        const handshake = client({ maxHeadSize: 256 });
        handshake.receive(data);
        if (eof && handshake.state !== ClientHandshakeState.Open) handshake.receiveEof();
        const event = handshake.nextEvent();
        expect(handshake.nextEvent()).toBeUndefined();
        const waiting = handshake.state === ClientHandshakeState.AwaitingResponse || handshake.state === ClientHandshakeState.ReadingBody;
        expect(event === undefined).toBe(waiting && !eof);
      }),
    );
  });
});

describe('computeAcceptKey is what the client expects', () => {
  it('matches for the default random key', () => {
    const handshake = new ClientHandshake('ws://h/');
    const raw = response((l) => [l[0] ?? '', l[1] ?? '', `Sec-WebSocket-Accept: ${computeAcceptKey(handshake.key)}`]);
    expect(outcome(handshake, raw)?.type).toBe('open');
  });
});
