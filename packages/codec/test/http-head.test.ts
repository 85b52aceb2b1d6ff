import fc from 'fast-check';
import { fromString } from 'uint8arrays/from-string';
import { toString as bytesToString } from 'uint8arrays/to-string';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HEAD_LIMITS,
  HttpHeaders,
  createRequestHeadParser,
  createResponseHeadParser,
  type HeadLimits,
} from '../src/http-head.js';

const bytes = (text: string): Uint8Array => fromString(text, 'latin1');

function parseRequest(text: string, limits: HeadLimits = DEFAULT_HEAD_LIMITS) {
  return createRequestHeadParser(limits).push(bytes(text));
}

function parseResponse(text: string) {
  return createResponseHeadParser().push(bytes(text));
}

describe('HttpHeaders', () => {
  it('looks up names case-insensitively and keeps repeats in order', () => {
    const headers = new HttpHeaders([
      ['Set-Cookie', 'a=1'],
      ['Host', 'x'],
      ['set-cookie', 'b=2'],
    ]);
    expect(headers.get('SET-COOKIE')).toBe('a=1, b=2');
    expect(headers.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(headers.has('host')).toBe(true);
    expect(headers.get('missing')).toBeUndefined();
    expect(headers.getAll('missing')).toEqual([]);
    expect(headers.size).toBe(3);
    expect([...headers].map(([name]) => name)).toEqual(['Set-Cookie', 'Host', 'set-cookie']);
  });

  it('is not confused by names of Object.prototype members', () => {
    const headers = new HttpHeaders([['x', '1']]);
    expect(headers.get('__proto__')).toBeUndefined();
    expect(headers.get('constructor')).toBeUndefined();
  });
});

describe('request heads', () => {
  it('parses a request line, fields and trailing bytes', () => {
    const result = parseRequest('GET /chat?x=1 HTTP/1.1\r\nHost: a\r\nX-Y:  v  w \t\r\n\r\nFRAME');
    expect(result.type).toBe('complete');
    if (result.type !== 'complete') return;
    expect(result.startLine).toEqual({ method: 'GET', target: '/chat?x=1', httpVersion: '1.1' });
    expect(result.headers.entries()).toEqual([
      ['Host', 'a'],
      ['X-Y', 'v  w'],
    ]);
    expect(bytesToString(result.trailing, 'latin1')).toBe('FRAME');
  });

  it('keeps obs-text in values byte for byte', () => {
    const result = createRequestHeadParser().push(
      new Uint8Array([...bytes('GET / HTTP/1.1\r\nX: '), 0xe9, 0xff, ...bytes('\r\n\r\n')]),
    );
    expect(result.type === 'complete' && result.headers.get('x')).toBe('\u00e9\u00ff');
  });

  it('ignores empty lines before the request line', () => {
    expect(parseRequest('\r\n\r\nGET / HTTP/1.1\r\n\r\n').type).toBe('complete');
  });

  it('waits for more bytes while the head is incomplete', () => {
    expect(parseRequest('GET / HTTP/1.1\r\nHost: a\r\n').type).toBe('incomplete');
    expect(parseRequest('GET / HTTP/1.1\r\nHost: a\r\n\r').type).toBe('incomplete');
  });

  const malformed: Array<[string, string]> = [
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: a\n\n'],
    ['a bare LF ending the head', 'GET / HTTP/1.1\r\nHost: a\r\n\n'],
    ['a field line without a colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n'],
    ['obs-fold with a tab', 'GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n'],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n'],
    ['DEL in a value', 'GET / HTTP/1.1\r\nX: a\u007f\r\n\r\n'],
    ['space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['tab before the colon', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n'],
    ['an invalid name character', 'GET / HTTP/1.1\r\nX(y): a\r\n\r\n'],
    ['an empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n'],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\n\r\n'],
    ['a missing version', 'GET /\r\n\r\n'],
    ['a lower-case version', 'GET / http/1.1\r\n\r\n'],
    ['a version without minor', 'GET / HTTP/1\r\n\r\n'],
    ['junk after the version', 'GET / HTTP/1.1 x\r\n\r\n'],
    ['a trailing space', 'GET / HTTP/1.1 \r\n\r\n'],
    ['a space in the target', 'GET /a b HTTP/1.1\r\n\r\n'],
    ['a non-ASCII target', 'GET /\u00e9 HTTP/1.1\r\n\r\n'],
    ['a bad method', 'G(T / HTTP/1.1\r\n\r\n'],
    ['HTTP/0.9 style', 'GET /\r\n'],
  ];

  it.each(malformed)('rejects %s with 400', (_, text) => {
    expect(parseRequest(text)).toMatchObject({ type: 'invalid', status: 400 });
  });

  it('rejects an over-long request line without waiting for its end', () => {
    const limits = { ...DEFAULT_HEAD_LIMITS, maxStartLineLength: 100 };
    expect(parseRequest(`GET /${'a'.repeat(200)}`, limits)).toMatchObject({ type: 'invalid', status: 400 });
    expect(parseRequest(`GET /${'a'.repeat(86)} HTTP/1.1\r\n\r\n`, limits).type).toBe('complete');
    expect(parseRequest(`GET /${'a'.repeat(87)} HTTP/1.1\r\n\r\n`, limits)).toMatchObject({ status: 400 });
  });

  it('answers 431 past the head size and header count limits', () => {
    const limits = { maxHeadSize: 64, maxHeaderCount: 3, maxStartLineLength: 64 };
    expect(parseRequest(`GET / HTTP/1.1\r\nX: ${'a'.repeat(60)}`, limits)).toMatchObject({ status: 431 });
    expect(parseRequest('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n', limits)).toMatchObject({
      status: 431,
    });
    expect(parseRequest('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', limits).type).toBe('complete');
  });

  it('accepts a head of exactly the size limit and keeps what follows', () => {
    const head = 'GET / HTTP/1.1\r\nX: abc\r\n\r\n';
    const limits = { ...DEFAULT_HEAD_LIMITS, maxHeadSize: head.length };
    const result = parseRequest(`${head}tail`, limits);
    expect(result.type === 'complete' && bytesToString(result.trailing, 'latin1')).toBe('tail');
    expect(parseRequest(`${head.slice(0, -2)}x\r\n\r\n`, limits)).toMatchObject({ status: 431 });
  });

  it('never buffers more than the head limit', () => {
    const parser = createRequestHeadParser({ ...DEFAULT_HEAD_LIMITS, maxHeadSize: 1024 });
    const result = parser.push(new Uint8Array(10 * 1024 * 1024).fill(0x61));
    expect(result).toMatchObject({ type: 'invalid' });
    expect(parser.push(bytes('more')).type).toBe('invalid');
  });

  it('decides 431 as soon as the head limit is reached, not later', () => {
    const parser = createRequestHeadParser();
    let pushed = bytes('GET / HTTP/1.1\r\n').length;
    let result = parser.push(bytes('GET / HTTP/1.1\r\n'));
    const line = bytes(`X: ${'a'.repeat(1019)}\r\n`); // 1024 bytes
    while (result.type === 'incomplete' && pushed < 1_000_000) {
      result = parser.push(line);
      pushed += line.length;
    }
    expect(result).toMatchObject({ type: 'invalid', status: 431 });
    expect(pushed).toBeGreaterThanOrEqual(DEFAULT_HEAD_LIMITS.maxHeadSize);
    expect(pushed).toBeLessThan(DEFAULT_HEAD_LIMITS.maxHeadSize + line.length);
  });

  it('gives the same result for every split of the bytes', () => {
    const text = '\r\nGET /p?q HTTP/1.1\r\nHost: h\r\nA: 1\r\nA:2\r\n\r\nxyz';
    const whole = parseRequest(text);
    fc.assert(
      fc.property(fc.array(fc.nat(text.length), { maxLength: 8 }), (cuts) => {
        const parser = createRequestHeadParser();
        const points = [0, ...cuts.sort((a, b) => a - b), text.length];
        let result = parser.push(new Uint8Array(0));
        const trailing: string[] = [];
        for (let i = 0; i + 1 < points.length; i++) {
          const chunk = bytes(text.slice(points[i], points[i + 1]));
          if (result.type === 'complete') trailing.push(bytesToString(chunk, 'latin1'));
          else result = parser.push(chunk);
        }
        expect(result.type).toBe('complete');
        if (result.type !== 'complete' || whole.type !== 'complete') return;
        expect(result.startLine).toEqual(whole.startLine);
        expect(result.headers.entries()).toEqual(whole.headers.entries());
        expect(bytesToString(result.trailing, 'latin1') + trailing.join('')).toBe('xyz');
      }),
    );
  });
});

describe('response heads', () => {
  it('parses a status line', () => {
    const result = parseResponse('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
    expect(result.type === 'complete' && result.startLine).toEqual({
      httpVersion: '1.1',
      status: 101,
      reason: 'Switching Protocols',
    });
  });

  it('tolerates a missing or empty reason phrase', () => {
    expect(parseResponse('HTTP/1.1 403\r\n\r\n')).toMatchObject({ startLine: { status: 403, reason: '' } });
    expect(parseResponse('HTTP/1.1 403 \r\n\r\n')).toMatchObject({ startLine: { status: 403, reason: '' } });
  });

  it.each([
    'HTTP/1.1 10 x\r\n\r\n',
    'HTTP/1.1 1011 x\r\n\r\n',
    'HTTP/1.1\r\n\r\n',
    'HTTP/1.1  101 x\r\n\r\n',
    'ICY 200 OK\r\n\r\n',
    'HTTP/1.1 101 a\u0001\r\n\r\n',
    'HTTP/1.1 101x\r\n\r\n',
  ])('rejects the malformed status line %j', (text) => {
    expect(parseResponse(text)).toMatchObject({ type: 'invalid', status: 400 });
  });
});
