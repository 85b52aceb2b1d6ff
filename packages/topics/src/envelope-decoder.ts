/**
 * Decodes `rfc6455.topics.v1` envelopes. Bytes from a peer never make it
 * throw: anything that is not exactly one envelope comes back as a
 * `malformed` result with a stable code. Accepted envelopes are canonical:
 * encoding the result gives back the same bytes.
 *
 * Payloads are views into the input, not copies.
 */
import {
  ENVELOPE_HEADER_BYTES,
  EnvelopeFlag,
  EnvelopeKind,
  type MalformedEnvelope,
  type MalformedEnvelopeCode,
  type TopicsMessage,
} from './envelope.js';
import { TopicsUsageError } from './errors.js';
import { DEFAULT_MAX_TOPIC_BYTES, isValidEpoch, isValidTopic, MAX_TOPIC_BYTES, type Publication } from './identity.js';

export interface DecodeEnvelopeOptions {
  /** Longest topic accepted, in UTF-8 bytes. Default 1024; at most 65 535. */
  readonly maxTopicBytes?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Malformed {
  constructor(
    readonly code: MalformedEnvelopeCode,
    readonly reason: string,
  ) {}
}

/** Reads big-endian fields, failing with `Malformed` past the end. */
class EnvelopeReader {
  private readonly view: DataView;
  at = 0;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  private need(count: number, what: string): void {
    if (this.remaining < count) throw new Malformed('ERR_TRUNCATED', `the envelope ends inside its ${what}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.at++);
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.view.getUint16(this.at);
    this.at += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.at);
    this.at += 4;
    return value;
  }

  offset(what: string): number {
    this.need(8, what);
    const high = this.view.getUint32(this.at);
    const low = this.view.getUint32(this.at + 4);
    this.at += 8;
    if (high > 0x1fffff) throw new Malformed('ERR_INVALID_OFFSET', `the ${what} is above 2^53 - 1`);
    return high * 2 ** 32 + low;
  }

  take(count: number, what: string): Uint8Array {
    this.need(count, what);
    const bytes = this.bytes.subarray(this.at, this.at + count);
    this.at += count;
    return bytes;
  }

  rest(): Uint8Array {
    const bytes = this.bytes.subarray(this.at);
    this.at = this.bytes.length;
    return bytes;
  }

  end(): void {
    if (this.remaining > 0) {
      throw new Malformed('ERR_TRAILING_BYTES', `${this.remaining} bytes follow the end of the envelope`);
    }
  }

  epoch(): string {
    const length = this.u8('epoch length');
    const bytes = this.take(length, 'epoch');
    // The epoch alphabet is ASCII: any other byte fails the check below.
    const epoch = String.fromCharCode(...bytes);
    if (!isValidEpoch(epoch)) {
      throw new Malformed('ERR_INVALID_EPOCH', 'the epoch is not 1-64 characters of [0-9A-Za-z_-]');
    }
    return epoch;
  }
}

function text(bytes: Uint8Array, code: MalformedEnvelopeCode, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new Malformed(code, `the ${what} is not valid UTF-8`);
  }
}

function flags(kind: string, value: number, allowed: number): number {
  if ((value & ~allowed) !== 0) {
    throw new Malformed(
      'ERR_RESERVED_FLAG',
      `flag bits 0x${(value & ~allowed).toString(16)} are not defined for ${kind}`,
    );
  }
  return value;
}

function decode(bytes: Uint8Array, maxTopicBytes: number): TopicsMessage {
  const reader = new EnvelopeReader(bytes);
  if (bytes.length < ENVELOPE_HEADER_BYTES) {
    throw new Malformed(
      'ERR_TRUNCATED',
      `an envelope has at least ${ENVELOPE_HEADER_BYTES} bytes, got ${bytes.length}`,
    );
  }
  const kind = reader.u8('kind');
  const flagBits = reader.u8('flags');
  const topicLength = reader.u16('topic length');
  if (topicLength === 0 || topicLength > maxTopicBytes) {
    throw new Malformed('ERR_INVALID_TOPIC', `a topic has 1-${maxTopicBytes} bytes, got ${topicLength}`);
  }
  const topic = text(reader.take(topicLength, 'topic'), 'ERR_INVALID_TOPIC', 'topic');
  if (!isValidTopic(topic, maxTopicBytes)) throw new Malformed('ERR_INVALID_TOPIC', 'the topic is not a valid topic');
  switch (kind) {
    case EnvelopeKind.Publication: {
      flags('publication', flagBits, 0);
      const epoch = reader.epoch();
      const offset = reader.offset('offset');
      return { type: 'publication', topic, epoch, offset, data: reader.rest() };
    }
    case EnvelopeKind.Subscribe: {
      if (flags('subscribe', flagBits, EnvelopeFlag.Since) === 0) {
        reader.end();
        return { type: 'subscribe', topic };
      }
      const epoch = reader.epoch();
      const offset = reader.offset('since offset');
      reader.end();
      return { type: 'subscribe', topic, since: { epoch, offset } };
    }
    case EnvelopeKind.Unsubscribe:
      flags('unsubscribe', flagBits, 0);
      reader.end();
      return { type: 'unsubscribe', topic };
    case EnvelopeKind.Subscribed: {
      const recovered = flags('subscribed', flagBits, EnvelopeFlag.Recovered) !== 0;
      const epoch = reader.epoch();
      const offset = reader.offset('offset');
      const count = reader.u32('publication count');
      // Each publication takes at least 12 bytes: refuse a count the message cannot hold before allocating for it.
      if (count * 12 > reader.remaining) {
        throw new Malformed('ERR_TRUNCATED', `${count} publications cannot fit in ${reader.remaining} bytes`);
      }
      const publications: Publication[] = [];
      for (let i = 0; i < count; i++) {
        const publicationOffset = reader.offset('publication offset');
        const length = reader.u32('publication length');
        publications.push({ offset: publicationOffset, data: reader.take(length, 'publication data') });
      }
      reader.end();
      return { type: 'subscribed', topic, recovered, epoch, offset, publications };
    }
    case EnvelopeKind.Unsubscribed: {
      flags('unsubscribed', flagBits, 0);
      const code = reader.u16('code');
      const reason = text(reader.rest(), 'ERR_INVALID_REASON', 'reason');
      return { type: 'unsubscribed', topic, code, reason };
    }
    default:
      throw new Malformed('ERR_UNKNOWN_KIND', `0x${kind.toString(16).padStart(2, '0')} is not an envelope kind`);
  }
}

/**
 * Decodes one envelope (one whole WebSocket message). Returns a `malformed`
 * result, never throws, for bytes that are not a valid envelope.
 */
export function decodeTopicsMessage(
  bytes: Uint8Array,
  options: DecodeEnvelopeOptions = {},
): TopicsMessage | MalformedEnvelope {
  const maxTopicBytes = options.maxTopicBytes ?? DEFAULT_MAX_TOPIC_BYTES;
  if (!Number.isInteger(maxTopicBytes) || maxTopicBytes < 1 || maxTopicBytes > MAX_TOPIC_BYTES) {
    throw new TopicsUsageError('ERR_INVALID_ARGUMENT', `maxTopicBytes must be 1-${MAX_TOPIC_BYTES}`);
  }
  try {
    return decode(bytes, maxTopicBytes);
  } catch (error) {
    if (error instanceof Malformed) return { type: 'malformed', code: error.code, reason: error.reason };
    throw error;
  }
}
