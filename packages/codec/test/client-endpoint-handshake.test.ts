/**
 * The client's side of the opening handshake (RFC 6455 §4.1) as a
 * ClientEndpoint runs it: the request it queues, how it judges a 101 (an
 * `open` event, or a `protocol-error` with phase 'handshake'), what it
 * reports of any other status (`rejected`, with the body), and that any
 * split of the response gives the same events.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { fromString } from 'uint8arrays/from-string';
import { toString as bytesToString } from 'uint8arrays/to-string';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/frames.js';
import { computeAcceptKey, createRequestHeadParser } from '../src/http.js';
import {
  ClientEndpoint,
  type ClientEndpointOptions,
  type EndpointEvent,
  HandshakeFailure,
  UsageError,
} from '../src/index.js';
import { passThroughExtension } from './helpers.js';

const text = (bytes: Uint8Array): string => bytesToString(bytes, 'latin1');
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

/** An unmasked text frame, as a server sends it. */
const serverText = (data: string): string => text(encodeFrame({ opcode: 1 }, bytes(data)));

/** A client endpoint whose request was taken (written). */
function client(options: ClientEndpointOptions = {}, url = 'ws://server.example.com/chat'): ClientEndpoint {
  const endpoint = new ClientEndpoint(url, { random: sampleNonce, ...options });
  endpoint.takeOutgoing();
  return endpoint;
}

/** Feeds `chunks`; the one event they produce. */
function outcome(endpoint: ClientEndpoint, ...chunks: string[]): EndpointEvent | undefined {
  for (const chunk of chunks) endpoint.receive(bytes(chunk));
  const event = endpoint.nextEvent();
  expect(endpoint.nextEvent()).toBeUndefined();
  return event;
}

/** A 101 for the sample key with `edit` applied to its field lines. */
function response(edit: (lines: string[]) => string[] = (lines) => lines): string {
  const lines = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='];
  return ['HTTP/1.1 101 Switching Protocols', ...edit(lines), '', ''].join('\r\n');
}

/** The request an endpoint queued, parsed by /http's request head parser. */
function parseRequest(endpoint: ClientEndpoint) {
  const request = concat(endpoint.takeOutgoing());
  const result = createRequestHeadParser().push(request);
  if (result.type !== 'complete') throw new Error(`unparseable request: ${text(request)}`);
  return { ...result, raw: request };
}

describe('client endpoint: the request', () => {
  it('builds the RFC 6455 §1.2 example request', () => {
    const endpoint = new ClientEndpoint('ws://server.example.com/chat', {
      random: sampleNonce,
      origin: 'http://example.com',
      protocols: ['chat', 'superchat'],
    });
    expect(endpoint.key).toBe('dGhlIHNhbXBsZSBub25jZQ==');
    expect(text(parseRequest(endpoint).raw)).toBe(
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
    expect(endpoint.state).toBe('connecting');
  });

  it('uses fresh random keys by default', () => {
    const keys = new Set(Array.from({ length: 20 }, () => new ClientEndpoint('ws://h/').key));
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
    const request = parseRequest(new ClientEndpoint(url));
    expect(request.headers.get('host')).toBe(host);
    expect(request.startLine.target).toBe(target);
    expect(request.headers.has('authorization')).toBe(false);
  });

  it('normalises http(s) to ws(s)', () => {
    expect(new ClientEndpoint('https://h/').url.protocol).toBe('wss:');
    expect(new ClientEndpoint(new URL('http://h/')).url.protocol).toBe('ws:');
  });

  it.each(['ftp://h/', 'file:///x', 'ws://h/#frag', 'ws://h/#', 'wss://h/?q#', '/relative', 'not a url', 'ws://'])(
    'refuses the URL %j',
    (url) => {
      expect(() => new ClientEndpoint(url)).toThrow(
        expect.objectContaining({ name: 'UsageError', code: 'ERR_INVALID_URL' }),
      );
    },
  );

  it('offers its extensions in order and adds extra headers', () => {
    const endpoint = new ClientEndpoint('ws://server.example.com/chat', {
      extensions: [
        passThroughExtension({ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }),
      ],
      headers: [
        ['Authorization', 'Bearer t'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
      ],
    });
    const request = parseRequest(endpoint);
    expect(request.headers.get('sec-websocket-extensions')).toBe('permessage-deflate; client_max_window_bits');
    expect(request.headers.get('authorization')).toBe('Bearer t');
    expect(request.headers.getAll('cookie')).toEqual(['a=1', 'b=2']);
    const two = new ClientEndpoint('ws://h/', {
      extensions: [
        passThroughExtension({ name: 'x-a', params: [{ name: 'p', value: '1' }] }),
        passThroughExtension({ name: 'x-b', params: [] }),
      ],
    });
    expect(two.offers).toEqual([
      { name: 'x-a', params: [{ name: 'p', value: '1' }] },
      { name: 'x-b', params: [] },
    ]);
    expect(parseRequest(two).headers.get('sec-websocket-extensions')).toBe('x-a; p=1, x-b');
  });

  it.each<[string, ClientEndpointOptions]>([
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
    [
      'an extension offer whose parameter value is no token',
      { extensions: [passThroughExtension({ name: 'a', params: [{ name: 'b', value: 'c d' }] })] },
    ],
    ['an extension name that is not a token', { extensions: [passThroughExtension({ name: 'a,b', params: [] })] }],
    ['a zero head limit', { maxHeadSize: 0 }],
    ['a fractional body limit', { maxBodySize: 1.5 }],
  ])('throws UsageError for %s', (_, options) => {
    expect(() => client(options)).toThrow(UsageError);
  });
});

describe('client endpoint: a 101 response', () => {
  it('opens on the RFC 6455 §1.3 example response', () => {
    const endpoint = client({ protocols: ['chat', 'superchat'] });
    const event = outcome(endpoint, RFC_RESPONSE);
    expect(event).toMatchObject({ type: 'open', protocol: 'chat', extensions: '' });
    expect(endpoint.state).toBe('open');
    expect(endpoint.protocol).toBe('chat');
  });

  it('reads bytes after the head as the first frames', () => {
    const endpoint = client();
    endpoint.receive(bytes(`${response()}${serverText('hi')}`));
    expect(endpoint.events()).toMatchObject([{ type: 'open' }, { type: 'text', data: 'hi' }]);
  });

  it('accepts case variations and Connection lists', () => {
    const raw = response(() => [
      'UPGRADE: WebSocket',
      'connection: keep-alive, upgrade',
      'sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    ]);
    expect(outcome(client(), raw)).toMatchObject({ type: 'open', protocol: null });
  });

  it('hands accepted extensions to the offered extension, parsed', () => {
    const endpoint = client({
      extensions: [
        passThroughExtension({ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }),
      ],
    });
    const event = outcome(
      endpoint,
      response((lines) => [...lines, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10']),
    );
    expect(event).toMatchObject({ type: 'open', extensions: 'permessage-deflate; client_max_window_bits=10' });
    expect(endpoint.extensions.map((e) => e.response)).toEqual([
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: '10' }] },
    ]);
  });

  it('reads bytes and EOF after opening as the connection’s', () => {
    const endpoint = client();
    outcome(endpoint, response());
    endpoint.receive(bytes(serverText('x')));
    endpoint.receiveEof();
    expect(endpoint.events()).toEqual([
      { type: 'text', data: 'x' },
      { type: 'closed', code: 1006, reason: '', wasClean: false },
    ]);
  });

  const failures: Array<[string, ClientEndpointOptions, string, HandshakeFailure, RegExp]> = [
    [
      'no Upgrade',
      {},
      response((l) => l.slice(1)),
      HandshakeFailure.InvalidUpgrade,
      /Upgrade must be "websocket", got none/,
    ],
    ['Upgrade: h2c', {}, response((l) => ['Upgrade: h2c', ...l.slice(1)]), HandshakeFailure.InvalidUpgrade, /"h2c"/],
    [
      'Upgrade: websocket, h2c',
      {},
      response((l) => ['Upgrade: websocket, h2c', ...l.slice(1)]),
      HandshakeFailure.InvalidUpgrade,
      /h2c/,
    ],
    ['no Connection', {}, response((l) => [l[0] ?? '', l[2] ?? '']), HandshakeFailure.InvalidConnection, /Connection/],
    [
      'Connection: close',
      {},
      response((l) => [l[0] ?? '', 'Connection: close', l[2] ?? '']),
      HandshakeFailure.InvalidConnection,
      /"close"/,
    ],
    ['no accept', {}, response((l) => l.slice(0, 2)), HandshakeFailure.InvalidAccept, /got none/],
    [
      'a wrong accept',
      {},
      response((l) => [...l.slice(0, 2), 'Sec-WebSocket-Accept: 4EaeSCkuOGBy+rjOSJSMV+VMoC0=']),
      HandshakeFailure.InvalidAccept,
      /must be "s3pPLMBiTxaQ9kYGzzhZRbK\+xOo="/,
    ],
    ['two accepts', {}, response((l) => [...l, l[2] ?? '']), HandshakeFailure.InvalidAccept, /2 fields/],
    [
      'a protocol when none was offered',
      {},
      response((l) => [...l, 'Sec-WebSocket-Protocol: chat']),
      HandshakeFailure.InvalidProtocol,
      /none was offered/,
    ],
    [
      'an unoffered protocol',
      { protocols: ['a'] },
      response((l) => [...l, 'Sec-WebSocket-Protocol: chat']),
      HandshakeFailure.InvalidProtocol,
      /not offered/,
    ],
    [
      'two protocols',
      { protocols: ['a', 'b'] },
      response((l) => [...l, 'Sec-WebSocket-Protocol: a, b']),
      HandshakeFailure.InvalidProtocol,
      /one token/,
    ],
    [
      'an empty protocol',
      { protocols: ['a'] },
      response((l) => [...l, 'Sec-WebSocket-Protocol: ']),
      HandshakeFailure.InvalidProtocol,
      /one token/,
    ],
    [
      'an unoffered extension',
      {},
      response((l) => [...l, 'Sec-WebSocket-Extensions: permessage-deflate']),
      HandshakeFailure.InvalidExtensions,
      /not offered/,
    ],
    [
      'a malformed extension',
      { extensions: [passThroughExtension({ name: 'x', params: [] })] },
      response((l) => [...l, 'Sec-WebSocket-Extensions: x; a="b']),
      HandshakeFailure.InvalidExtensions,
      /quoted/,
    ],
    [
      'a malformed head',
      {},
      'HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n',
      HandshakeFailure.MalformedResponse,
      /whitespace/,
    ],
    ['a bare LF head', {}, response().replaceAll('\r\n', '\n'), HandshakeFailure.MalformedResponse, /LF/],
    ['a non-HTTP reply', {}, 'SSH-2.0-OpenSSH\r\n\r\n', HandshakeFailure.MalformedResponse, /status line/],
  ];

  it.each(failures)('fails on %s, saying what was wrong', (_, options, raw, failure, reason) => {
    const endpoint = client(options);
    const event = outcome(endpoint, raw);
    // A 101 that was read but is wrong names its status; a head that could not be read has none.
    const status = failure === HandshakeFailure.MalformedResponse ? null : 101;
    expect(event).toMatchObject({ type: 'protocol-error', phase: 'handshake', status, failure });
    expect(event?.type === 'protocol-error' && event.reason).toMatch(reason);
    expect(endpoint.state).toBe('closed');
    expect(endpoint.shouldCloseTransport).toBe(true);
    expect(endpoint.takeOutgoing()).toEqual([]);
    endpoint.receive(bytes('ignored'));
    endpoint.receiveEof();
    expect(endpoint.events()).toEqual([{ type: 'closed', code: 1006, reason: '', wasClean: false }]);
  });

  it('fails on a response head over the limits', () => {
    const large = client({ maxHeadSize: 128 });
    expect(
      outcome(
        large,
        response((l) => [...l, `X: ${'a'.repeat(200)}`]),
      ),
    ).toMatchObject({ phase: 'handshake', status: null, failure: HandshakeFailure.ResponseTooLarge });
    const many = client({ maxHeaderCount: 4 });
    expect(
      outcome(
        many,
        response((l) => [...l, 'A: 1', 'B: 2']),
      ),
    ).toMatchObject({ phase: 'handshake', status: null, failure: HandshakeFailure.ResponseTooLarge });
  });

  it('fails when the transport ends before the head is complete', () => {
    const endpoint = client();
    endpoint.receive(bytes('HTTP/1.1 101 Switching'));
    endpoint.receiveEof();
    expect(endpoint.events()).toMatchObject([
      { type: 'protocol-error', phase: 'handshake', status: null, failure: HandshakeFailure.ConnectionClosed },
      { type: 'closed', code: 1006, wasClean: false },
    ]);
  });

  it('skips interim 1xx responses', () => {
    const event = outcome(
      client(),
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n',
      response(),
    );
    expect(event?.type).toBe('open');
  });
});

describe('client endpoint: other statuses', () => {
  it('reads a Content-Length body of a 403', () => {
    const endpoint = client();
    const event = outcome(endpoint, 'HTTP/1.1 403 Forbidden\r\nContent-Length: 11\r\n\r\nnot al', 'lowedEXTRA');
    expect(event).toMatchObject({ type: 'rejected', status: 403, reason: 'Forbidden', bodyComplete: true });
    expect(event?.type === 'rejected' && text(event.body)).toBe('not allowed');
    expect(endpoint.state).toBe('closed');
    expect(endpoint.shouldCloseTransport).toBe(true);
  });

  it('keeps the headers of a 401 challenge', () => {
    const event = outcome(
      client(),
      'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n',
    );
    expect(event?.type === 'rejected' && event.headers.get('www-authenticate')).toBe('Basic realm="x"');
  });

  it('decodes a chunked body', () => {
    const event = outcome(
      client(),
      'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n',
      '6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n',
    );
    expect(event).toMatchObject({ type: 'rejected', status: 503, bodyComplete: true });
    expect(event?.type === 'rejected' && text(event.body)).toBe('hello world');
  });

  it('reads an undelimited body until EOF', () => {
    const endpoint = client();
    endpoint.receive(bytes('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nbad '));
    endpoint.receive(bytes('key'));
    expect(endpoint.nextEvent()).toBeUndefined();
    expect(endpoint.state).toBe('connecting');
    endpoint.receiveEof();
    const event = endpoint.nextEvent();
    expect(event).toMatchObject({ type: 'rejected', status: 400, bodyComplete: true });
    expect(event?.type === 'rejected' && text(event.body)).toBe('bad key');
    expect(endpoint.nextEvent()).toEqual({ type: 'closed', code: 1006, reason: '', wasClean: false });
  });

  it('caps the body and marks it incomplete', () => {
    const capped = outcome(
      client({ maxBodySize: 4 }),
      'HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n0123456789',
    );
    expect(capped).toMatchObject({ type: 'rejected', bodyComplete: false });
    expect(capped?.type === 'rejected' && text(capped.body)).toBe('0123');
    const eofCapped = outcome(client({ maxBodySize: 4 }), 'HTTP/1.1 404 Not Found\r\n\r\n0123456789');
    expect(eofCapped?.type === 'rejected' && text(eofCapped.body)).toBe('0123');
  });

  it('reports a body cut short by EOF as incomplete', () => {
    const endpoint = client();
    endpoint.receive(bytes('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\npartial'));
    endpoint.receiveEof();
    expect(endpoint.nextEvent()).toMatchObject({ type: 'rejected', status: 500, bodyComplete: false });
  });

  it('reports at once when there is no body', () => {
    expect(outcome(client(), 'HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ status: 204, bodyComplete: true });
    expect(outcome(client(), 'HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n')).toMatchObject({
      status: 302,
    });
    expect(outcome(client(), 'HTTP/1.1 400 Bad Request\r\nContent-Length: 1, 2\r\n\r\nx')).toMatchObject({
      status: 400,
      bodyComplete: false,
    });
  });

  it('ends a malformed chunked body early', () => {
    const event = outcome(client(), 'HTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    expect(event).toMatchObject({ type: 'rejected', status: 503, bodyComplete: false });
  });
});

describe('client endpoint: any split of the response', () => {
  const cases = [
    ['open', `${response((l) => [...l, 'Sec-WebSocket-Protocol: chat'])}${serverText('FRAME BYTES')}`],
    [
      'chunked 503',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
    ],
    ['sized 403', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!'],
    ['failure', response((l) => l.slice(1))],
  ] as const;

  /** Every event the chunks produce, in a comparable form. */
  const run = (raw: Uint8Array, chunks: Uint8Array[]) => {
    const endpoint = client({ protocols: ['chat'] });
    for (const chunk of chunks) endpoint.receive(chunk.slice());
    const events = endpoint.events();
    expect(events.length, text(raw)).toBeGreaterThan(0);
    return events.map((event) => {
      if (event.type === 'protocol-error' && event.phase === 'handshake')
        return { ...event, headers: event.headers?.entries() };
      if (event.type === 'open') return { ...event, headers: event.headers.entries() };
      if (event.type === 'rejected') return { ...event, headers: event.headers.entries(), body: text(event.body) };
      return event;
    });
  };

  it.each(cases)('gives the same %s whatever the chunking', (_, rawText) => {
    const raw = bytes(rawText);
    const whole = run(raw, [raw]);
    expect(
      run(
        raw,
        Array.from(raw, (b) => Uint8Array.of(b)),
      ),
    ).toEqual(whole);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: raw.length - 1 }), { maxLength: 10 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), raw.length];
        expect(
          run(
            raw,
            points.slice(1).map((end, i) => raw.subarray(points[i], end)),
          ),
        ).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on arbitrary response bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (data, eof) => {
        const endpoint = client({ maxHeadSize: 256 });
        endpoint.receive(data);
        if (eof) endpoint.receiveEof();
        const events = endpoint.events();
        const waiting = endpoint.state === 'connecting';
        expect(events.length === 0).toBe(waiting && !eof);
        if (events.length > 0) expect(['open', 'rejected', 'protocol-error']).toContain(events[0]?.type);
        if (eof) {
          expect(events.at(-1)?.type).toBe('closed');
          expect(events.filter((e) => e.type === 'closed')).toHaveLength(1);
        }
      }),
    );
  });
});

describe('computeAcceptKey is what the client expects', () => {
  it('matches for the default random key', () => {
    const endpoint = new ClientEndpoint('ws://h/');
    const raw = response((l) => [l[0] ?? '', l[1] ?? '', `Sec-WebSocket-Accept: ${computeAcceptKey(endpoint.key)}`]);
    expect(outcome(endpoint, raw)?.type).toBe('open');
  });
});
