/**
 * Encodes `rfc6455.topics.v1` envelopes. Each call allocates the message once
 * and copies the payload into it once: a server encodes a publication once and
 * hands the result to the codec's `MessagePreEncoder` for all its subscribers.
 */
import {
  ENVELOPE_HEADER_BYTES,
  EnvelopeFlag,
  EnvelopeKind,
  type PublicationMessage,
  type SubscribedMessage,
  type TopicsMessage,
} from './envelope.js';
import { TopicsUsageError } from './errors.js';
import { assertEpoch, assertOffset, assertTopic, MAX_TOPIC_BYTES, type Publication } from './identity.js';

const encoder = new TextEncoder();
const TWO_TO_32 = 2 ** 32;

/** Writes big-endian fields into a message sized up front. */
class EnvelopeWriter {
  readonly bytes: Uint8Array<ArrayBuffer>;
  private readonly view: DataView;
  private at = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(value: number): void {
    this.view.setUint8(this.at, value);
    this.at += 1;
  }

  u16(value: number): void {
    this.view.setUint16(this.at, value);
    this.at += 2;
  }

  u32(value: number): void {
    this.view.setUint32(this.at, value);
    this.at += 4;
  }

  /** An offset, as an unsigned 64-bit integer. */
  u64(value: number): void {
    this.view.setUint32(this.at, Math.floor(value / TWO_TO_32));
    this.view.setUint32(this.at + 4, value >>> 0);
    this.at += 8;
  }

  raw(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.at);
    this.at += bytes.length;
  }
}

function topicBytes(topic: string): Uint8Array {
  assertTopic(topic, MAX_TOPIC_BYTES);
  return encoder.encode(topic);
}

function epochBytes(epoch: string): Uint8Array {
  assertEpoch(epoch);
  // The epoch alphabet is ASCII, so its characters are its bytes.
  return encoder.encode(epoch);
}

function assertData(data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'publication data must be a Uint8Array');
  }
}

function header(kind: number, flags: number, topic: Uint8Array, bodyLength: number): EnvelopeWriter {
  const writer = new EnvelopeWriter(ENVELOPE_HEADER_BYTES + topic.length + bodyLength);
  writer.u8(kind);
  writer.u8(flags);
  writer.u16(topic.length);
  writer.raw(topic);
  return writer;
}

/** Encodes one publication: the header, then `data` as is. */
export function encodePublication(message: Omit<PublicationMessage, 'type'>): Uint8Array<ArrayBuffer> {
  const topic = topicBytes(message.topic);
  const epoch = epochBytes(message.epoch);
  assertOffset(message.offset);
  assertData(message.data);
  const writer = header(EnvelopeKind.Publication, 0, topic, 1 + epoch.length + 8 + message.data.length);
  writer.u8(epoch.length);
  writer.raw(epoch);
  writer.u64(message.offset);
  writer.raw(message.data);
  return writer.bytes;
}

function encodeSubscribed(message: SubscribedMessage): Uint8Array<ArrayBuffer> {
  const topic = topicBytes(message.topic);
  const epoch = epochBytes(message.epoch);
  assertOffset(message.offset);
  let length = 1 + epoch.length + 8 + 4;
  const publications: readonly Publication[] = message.publications;
  if (publications.length > 0xffffffff) {
    throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'too many publications for one subscribed envelope');
  }
  for (const publication of publications) {
    assertOffset(publication.offset);
    assertData(publication.data);
    if (publication.data.length > 0xffffffff) {
      throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'a publication of 4 GiB or more does not fit an envelope');
    }
    length += 12 + publication.data.length;
  }
  const writer = header(EnvelopeKind.Subscribed, message.recovered ? EnvelopeFlag.Recovered : 0, topic, length);
  writer.u8(epoch.length);
  writer.raw(epoch);
  writer.u64(message.offset);
  writer.u32(publications.length);
  for (const publication of publications) {
    writer.u64(publication.offset);
    writer.u32(publication.data.length);
    writer.raw(publication.data);
  }
  return writer.bytes;
}

/**
 * Encodes any `rfc6455.topics.v1` message. Throws a TopicsUsageError for
 * values the format cannot carry (a bad topic, epoch or offset).
 */
export function encodeTopicsMessage(message: TopicsMessage): Uint8Array<ArrayBuffer> {
  switch (message.type) {
    case 'publication':
      return encodePublication(message);
    case 'subscribed':
      return encodeSubscribed(message);
    case 'subscribe': {
      const topic = topicBytes(message.topic);
      if (message.since === undefined) return header(EnvelopeKind.Subscribe, 0, topic, 0).bytes;
      const epoch = epochBytes(message.since.epoch);
      assertOffset(message.since.offset);
      const writer = header(EnvelopeKind.Subscribe, EnvelopeFlag.Since, topic, 1 + epoch.length + 8);
      writer.u8(epoch.length);
      writer.raw(epoch);
      writer.u64(message.since.offset);
      return writer.bytes;
    }
    case 'unsubscribe':
      return header(EnvelopeKind.Unsubscribe, 0, topicBytes(message.topic), 0).bytes;
    case 'unsubscribed': {
      const topic = topicBytes(message.topic);
      if (!Number.isInteger(message.code) || message.code < 0 || message.code > 0xffff) {
        throw new TopicsUsageError('ERR_INVALID_ARGUMENT', `an unsubscribed code must be 0-65535, got ${message.code}`);
      }
      const reason = encoder.encode(message.reason);
      const writer = header(EnvelopeKind.Unsubscribed, 0, topic, 2 + reason.length);
      writer.u16(message.code);
      writer.raw(reason);
      return writer.bytes;
    }
    default:
      throw new TopicsUsageError(
        'ERR_INVALID_ARGUMENT',
        `not a topics message type: ${String((message as { type?: unknown }).type)}`,
      );
  }
}
