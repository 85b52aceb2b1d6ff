/**
 * Base64 (RFC 4648 §4) for the handshake keys, checked against the RFC's
 * vectors, RFC 6455's worked example and Node's own base64 as an oracle.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeAcceptKey, generateClientKey, isValidClientKey, WEBSOCKET_GUID } from '../src/accept-key.js';
import { decodeBase64, encodeBase64 } from '../src/base64.js';

const RUNS = Number(process.env.FC_RUNS ?? 1000);

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Node decodes leniently; only text it spells back unchanged is canonical padded base64. */
const isCanonical = (text: string): boolean => Buffer.from(text, 'base64').toString('base64') === text;

// RFC 4648 §10.
const RFC4648_VECTORS: ReadonlyArray<readonly [string, string]> = [
  ['', ''],
  ['f', 'Zg=='],
  ['fo', 'Zm8='],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg=='],
  ['fooba', 'Zm9vYmE='],
  ['foobar', 'Zm9vYmFy'],
];

describe('encodeBase64', () => {
  it.each(RFC4648_VECTORS)('encodes %j as %j (RFC 4648 §10)', (plain, encoded) => {
    expect(encodeBase64(ascii(plain))).toBe(encoded);
  });

  it('agrees with Node on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(encodeBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
      }),
      { numRuns: RUNS, examples: [[Uint8Array.of(0xff)], [Uint8Array.of(0xfb, 0xff)], [Uint8Array.of(0, 0, 0)]] },
    );
  });

  it('encodes only the bytes of a view, not the rest of its buffer', () => {
    const buffer = Uint8Array.of(0xff, 0x66, 0x6f, 0xff);
    expect(encodeBase64(buffer.subarray(1, 3))).toBe('Zm8=');
  });
});

describe('decodeBase64', () => {
  it.each(RFC4648_VECTORS)('decodes %j from %j (RFC 4648 §10)', (plain, encoded) => {
    expect(decodeBase64(encoded)).toEqual(ascii(plain));
  });

  it('reverses encodeBase64 on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
      }),
      { numRuns: RUNS },
    );
  });

  it.each([
    ['a length that is not a multiple of four', 'Zm9vY'],
    ['missing padding', 'Zg'],
    ['half the padding', 'Zg='],
    ['three padding characters', 'Z==='],
    ['only padding', '===='],
    ['padding before the end', 'Zg==Zm9v'],
    ['padding inside a group', 'Z=g='],
    ['unused bits set under "=="', 'Zh=='],
    ['unused bits set under "="', 'Zm9='],
    ['the URL-safe alphabet', 'ab-_'],
    ['a space', 'Zm9 '],
    ['a line break', 'Zm9v\nZm9'],
    ['a non-ASCII letter', 'Zm9é'],
    ['a lone surrogate', 'Zm9\uD800'],
  ])('rejects %s: %j', (_, text) => {
    expect(isCanonical(text)).toBe(false);
    expect(decodeBase64(text)).toBeNull();
  });

  // Text near valid base64 (alphabet, padding, the URL-safe and whitespace
  // characters Node tolerates), valid encodings with one character changed,
  // and arbitrary text.
  const nearBase64 = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'AZaz09+/=-_ \n'), maxLength: 12 }),
    fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.nat(), fc.constantFrom(...'AQgw+/=-_. ')).map(([bytes, at, c]) => {
      const text = encodeBase64(bytes);
      if (text.length === 0) return c;
      const i = at % text.length;
      return text.slice(0, i) + c + text.slice(i + 1);
    }),
    fc.string({ maxLength: 12 }),
  );

  it('accepts exactly the text that Node spells back unchanged, with the same bytes', () => {
    fc.assert(
      fc.property(nearBase64, (text) => {
        const decoded = decodeBase64(text);
        if (isCanonical(text)) expect(decoded).toEqual(new Uint8Array(Buffer.from(text, 'base64')));
        else expect(decoded).toBeNull();
      }),
      { numRuns: RUNS, examples: [['AQ=='], ['AR=='], ['AAE='], ['AAF='], ['A'], ['====']] },
    );
  });
});

describe('the handshake keys in base64', () => {
  it('decodes the RFC 6455 §1.3 key to its 16-byte nonce and derives the accept value given there', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    expect(decodeBase64(key)).toEqual(ascii('the sample nonce'));
    expect(computeAcceptKey(key)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(decodeBase64('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')).toEqual(
      new Uint8Array(
        createHash('sha1')
          .update(key + WEBSOCKET_GUID)
          .digest(),
      ),
    );
  });

  it('derives the accept value as base64(SHA-1(key + GUID)) for any key of 8-bit characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)) }), (key) => {
        const expected = createHash('sha1')
          .update(Buffer.from(key + WEBSOCKET_GUID, 'latin1'))
          .digest('base64');
        expect(computeAcceptKey(key)).toBe(expected);
      }),
      { numRuns: RUNS, examples: [['dGhlIHNhbXBsZSBub25jZQ=='], ['\u00e9\u00ff\u0000']] },
    );
  });

  it('writes a client key that is the base64 of the 16 random bytes and passes the server check', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (nonce) => {
        const key = generateClientKey((bytes) => bytes.set(nonce));
        expect(key).toBe(Buffer.from(nonce).toString('base64'));
        expect(decodeBase64(key)).toEqual(nonce);
        expect(isValidClientKey(key)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
