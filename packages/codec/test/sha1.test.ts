import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { toString as bytesToString } from 'uint8arrays/to-string';
import { fromString } from 'uint8arrays/from-string';
import { describe, expect, it } from 'vitest';
import { sha1 } from '../src/sha1.js';

const hex = (bytes: Uint8Array): string => bytesToString(bytes, 'base16');
const ascii = (text: string): Uint8Array => fromString(text, 'ascii');

describe('sha1', () => {
  // FIPS 180-2 Appendix A vectors.
  it('hashes "abc"', () => {
    expect(hex(sha1(ascii('abc')))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('hashes the 448-bit two-block message', () => {
    const message = 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq';
    expect(hex(sha1(ascii(message)))).toBe('84983e441c3bd26ebaae4aa1f95129e5e54670f1');
  });

  it('hashes one million "a"', () => {
    const million = new Uint8Array(1_000_000).fill(0x61);
    expect(hex(sha1(million))).toBe('34aa973cd4c4daa4f61eeb2bdbad27316534016f');
  });

  it('hashes the empty message', () => {
    expect(hex(sha1(new Uint8Array(0)))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
  });

  it('agrees with node:crypto on every length around the padding boundaries', () => {
    for (let length = 0; length <= 200; length++) {
      const data = new Uint8Array(length).map((_, i) => (i * 31 + length) & 0xff);
      expect(hex(sha1(data))).toBe(createHash('sha1').update(data).digest('hex'));
    }
  });

  it('agrees with node:crypto on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        expect(hex(sha1(data))).toBe(createHash('sha1').update(data).digest('hex'));
      }),
    );
  });

  it('returns a 20-byte array backed by its own ArrayBuffer', () => {
    const digest = sha1(ascii('x'));
    expect(digest.length).toBe(20);
    expect(digest.buffer.byteLength).toBe(20);
  });
});
