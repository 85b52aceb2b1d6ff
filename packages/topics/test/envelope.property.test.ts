/**
 * The rfc6455.topics.v1 envelope: every message round-trips, the decoder
 * accepts only canonical encodings, and bytes that are not an envelope give a
 * `malformed` result with a stable code, never an exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTopicsMessage,
  encodePublication,
  encodeTopicsMessage,
  type MalformedEnvelopeCode,
  TOPICS_SUBPROTOCOL,
  type TopicsMessage,
  TopicsUsageError,
  utf8Length,
} from '../src/index.js';

const topic = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 40 })
  .filter((t) => utf8Length(t) <= 1024 && t.length > 0);
const epoch = fc.stringMatching(/^[0-9A-Za-z_-]{1,64}$/);
const offset = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat());
const data = fc.uint8Array({ maxLength: 64 });
const publication = fc.record({ offset, data });

const message: fc.Arbitrary<TopicsMessage> = fc.oneof(
  fc.record({ type: fc.constant('publication' as const), topic, epoch, offset, data }),
  fc.record({ type: fc.constant('subscribe' as const), topic }),
  fc.record({ type: fc.constant('subscribe' as const), topic, since: fc.record({ epoch, offset }) }),
  fc.record({ type: fc.constant('unsubscribe' as const), topic }),
  fc.record({
    type: fc.constant('subscribed' as const),
    topic,
    recovered: fc.boolean(),
    epoch,
    offset,
    publications: fc.array(publication, { maxLength: 5 }),
  }),
  fc.record({
    type: fc.constant('unsubscribed' as const),
    topic,
    code: fc.integer({ min: 0, max: 0xffff }),
    reason: fc.string({ unit: 'binary', maxLength: 30 }),
  }),
);

const MALFORMED_CODES: readonly MalformedEnvelopeCode[] = [
  'ERR_TRUNCATED',
  'ERR_TRAILING_BYTES',
  'ERR_UNKNOWN_KIND',
  'ERR_RESERVED_FLAG',
  'ERR_INVALID_TOPIC',
  'ERR_INVALID_EPOCH',
  'ERR_INVALID_OFFSET',
  'ERR_INVALID_REASON',
];

/** Decodes, and checks the one promise that holds for any input: malformed with a known code, or canonical. */
function decodeChecked(bytes: Uint8Array): TopicsMessage | undefined {
  const result = decodeTopicsMessage(bytes);
  if (result.type === 'malformed') {
    expect(MALFORMED_CODES).toContain(result.code);
    expect(typeof result.reason).toBe('string');
    return undefined;
  }
  expect(encodeTopicsMessage(result)).toEqual(new Uint8Array(bytes));
  return result;
}

describe('the rfc6455.topics.v1 envelope', () => {
  it('is named as a subprotocol token', () => {
    expect(TOPICS_SUBPROTOCOL).toBe('rfc6455.topics.v1');
  });

  it('round-trips every message', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeTopicsMessage(encodeTopicsMessage(m))).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws for arbitrary bytes, and accepts only canonical encodings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        decodeChecked(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it('gives malformed or canonical for every truncation, byte change and extension of a valid envelope', () => {
    fc.assert(
      fc.property(
        message,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        (m, at, value, extra) => {
          const bytes = encodeTopicsMessage(m);
          decodeChecked(bytes.subarray(0, at % (bytes.length + 1)));
          const changed = bytes.slice();
          changed[at % bytes.length] = value;
          decodeChecked(changed);
          const extended = new Uint8Array(bytes.length + extra.length);
          extended.set(bytes);
          extended.set(extra, bytes.length);
          const decoded = decodeChecked(extended);
          // Only messages whose last field runs to the end of the message can absorb trailing bytes.
          if (m.type !== 'publication' && m.type !== 'unsubscribed') expect(decoded).toBeUndefined();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('lays a publication out byte by byte as the README documents', () => {
    const bytes = encodePublication({
      topic: 'chat',
      epoch: 'k3x',
      offset: 2 ** 32 + 7,
      data: new Uint8Array([0xde, 0xad]),
    });
    expect([...bytes]).toEqual([
      0x01, 0x00, 0x00, 0x04, 0x63, 0x68, 0x61, 0x74, 0x03, 0x6b, 0x33, 0x78, 0, 0, 0, 1, 0, 0, 0, 7, 0xde, 0xad,
    ]);
  });

  it('lays subscribe, subscribed and unsubscribed out as the README documents', () => {
    expect([...encodeTopicsMessage({ type: 'subscribe', topic: 'a', since: { epoch: 'e', offset: 5 } })]).toEqual([
      0x02, 0x01, 0x00, 0x01, 0x61, 0x01, 0x65, 0, 0, 0, 0, 0, 0, 0, 5,
    ]);
    expect([
      ...encodeTopicsMessage({
        type: 'subscribed',
        topic: 'a',
        recovered: true,
        epoch: 'e',
        offset: 6,
        publications: [{ offset: 6, data: new Uint8Array([0x2a]) }],
      }),
    ]).toEqual([
      0x04, 0x01, 0x00, 0x01, 0x61, 0x01, 0x65, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 1,
      0x2a,
    ]);
    expect([...encodeTopicsMessage({ type: 'unsubscribed', topic: 'a', code: 4403, reason: 'no' })]).toEqual([
      0x05, 0x00, 0x00, 0x01, 0x61, 0x11, 0x33, 0x6e, 0x6f,
    ]);
  });

  it('hands out payloads as views of the message, not copies', () => {
    const bytes = encodePublication({ topic: 't', epoch: 'e', offset: 1, data: new Uint8Array(100).fill(7) });
    const decoded = decodeTopicsMessage(bytes);
    expect(decoded.type).toBe('publication');
    if (decoded.type === 'publication') {
      expect(decoded.data.buffer).toBe(bytes.buffer);
      expect(decoded.data.byteOffset).toBe(bytes.length - 100);
    }
  });

  it.each<[string, number[], MalformedEnvelopeCode]>([
    ['an empty message', [], 'ERR_TRUNCATED'],
    ['an unknown kind', [0x09, 0, 0, 1, 0x61], 'ERR_UNKNOWN_KIND'],
    ['a flag on a publication', [0x01, 0x01, 0, 1, 0x61, 1, 0x65, 0, 0, 0, 0, 0, 0, 0, 1], 'ERR_RESERVED_FLAG'],
    ['an undefined subscribe flag', [0x02, 0x02, 0, 1, 0x61], 'ERR_RESERVED_FLAG'],
    ['an empty topic', [0x03, 0, 0, 0], 'ERR_INVALID_TOPIC'],
    ['a topic that is not UTF-8', [0x03, 0, 0, 1, 0xff], 'ERR_INVALID_TOPIC'],
    ['a topic longer than the message', [0x03, 0, 0, 9, 0x61], 'ERR_TRUNCATED'],
    ['an epoch with a space', [0x01, 0, 0, 1, 0x61, 1, 0x20, 0, 0, 0, 0, 0, 0, 0, 1], 'ERR_INVALID_EPOCH'],
    ['an empty epoch', [0x01, 0, 0, 1, 0x61, 0, 0, 0, 0, 0, 0, 0, 0, 1], 'ERR_INVALID_EPOCH'],
    ['an offset of 2^53', [0x01, 0, 0, 1, 0x61, 1, 0x65, 0, 0x20, 0, 0, 0, 0, 0, 0], 'ERR_INVALID_OFFSET'],
    ['bytes after an unsubscribe', [0x03, 0, 0, 1, 0x61, 0], 'ERR_TRAILING_BYTES'],
    ['a reason that is not UTF-8', [0x05, 0, 0, 1, 0x61, 0, 0, 0xc3], 'ERR_INVALID_REASON'],
    [
      'a publication count the message cannot hold',
      [0x04, 0, 0, 1, 0x61, 1, 0x65, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
      'ERR_TRUNCATED',
    ],
  ])('reports %s as malformed', (_name, bytes, code) => {
    expect(decodeTopicsMessage(new Uint8Array(bytes))).toMatchObject({ type: 'malformed', code });
  });

  it('refuses topics past the configured limit, and only those', () => {
    const bytes = encodeTopicsMessage({ type: 'unsubscribe', topic: 'x'.repeat(2000) });
    expect(decodeTopicsMessage(bytes)).toMatchObject({ type: 'malformed', code: 'ERR_INVALID_TOPIC' });
    expect(decodeTopicsMessage(bytes, { maxTopicBytes: 2000 })).toMatchObject({ type: 'unsubscribe' });
  });

  it.each<[string, () => unknown, string]>([
    ['an empty topic', () => encodeTopicsMessage({ type: 'unsubscribe', topic: '' }), 'ERR_INVALID_TOPIC'],
    ['a lone surrogate', () => encodeTopicsMessage({ type: 'unsubscribe', topic: '\uD800' }), 'ERR_INVALID_TOPIC'],
    [
      'an epoch with a slash',
      () => encodePublication({ topic: 't', epoch: 'a/b', offset: 1, data: new Uint8Array() }),
      'ERR_INVALID_EPOCH',
    ],
    [
      'a fractional offset',
      () => encodePublication({ topic: 't', epoch: 'e', offset: 1.5, data: new Uint8Array() }),
      'ERR_INVALID_OFFSET',
    ],
    [
      'an unsafe offset',
      () => encodeTopicsMessage({ type: 'subscribe', topic: 't', since: { epoch: 'e', offset: 2 ** 53 } }),
      'ERR_INVALID_OFFSET',
    ],
    [
      'a code past 16 bits',
      () => encodeTopicsMessage({ type: 'unsubscribed', topic: 't', code: 70000, reason: '' }),
      'ERR_INVALID_ARGUMENT',
    ],
  ])('throws a typed error when asked to encode %s', (_name, encode, code) => {
    expect(encode).toThrow(TopicsUsageError);
    try {
      encode();
    } catch (error) {
      expect((error as TopicsUsageError).code).toBe(code);
    }
  });
});
