/**
 * Base64 (RFC 4648 §4) for the handshake keys, checked against the RFC's
 * vectors, RFC 6455's worked example and Node's own base64 as an oracle.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeAcceptKey, generateClientKey, isValidClientKey, WEBSOCKET_GUID } from '../src/accept-key.js';
import { encodeBase64 } from '../src/base64.js';

const RUNS = Number(process.env.FC_RUNS ?? 1000);

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

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

describe('the handshake keys in base64', () => {
  it('encodes the RFC 6455 §1.3 nonce as its key and derives the accept value given there', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    expect(encodeBase64(ascii('the sample nonce'))).toBe(key);
    expect(computeAcceptKey(key)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
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
        expect(isValidClientKey(key)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
