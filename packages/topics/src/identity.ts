/**
 * What names a publication: a topic, an epoch and an offset. Offsets count
 * from 1 within one epoch of one topic; the epoch changes whenever the
 * topic's history is lost (a broker restart without persistence, an evicted
 * key), so `(epoch, offset)` never names two different publications.
 */
import { TopicsUsageError } from './errors.js';

/** A publication's payload and its offset; the epoch travels beside it. */
export interface Publication {
  readonly offset: number;
  /** The payload bytes, never re-encoded by this package. */
  readonly data: Uint8Array;
}

/** Where a subscriber is in a topic's stream: the last offset it has, in an epoch. */
export interface StreamPosition {
  readonly epoch: string;
  /** The last offset the subscriber has; 0 before the first publication. */
  readonly offset: number;
}

/** Longest epoch, in characters; the wire carries its length in one byte. */
export const MAX_EPOCH_LENGTH = 64;
/** Longest topic the wire can carry, in UTF-8 bytes (a 16-bit length). */
export const MAX_TOPIC_BYTES = 0xffff;
/** Default topic limit, in UTF-8 bytes. */
export const DEFAULT_MAX_TOPIC_BYTES = 1024;

const EPOCH_PATTERN = /^[0-9A-Za-z_-]+$/;
// A surrogate without its partner cannot be encoded as UTF-8 and would come back as U+FFFD.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The length of `text` in UTF-8 bytes, counted without encoding it. */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}

/** True when `epoch` is 1–64 characters of [0-9A-Za-z_-]. */
export function isValidEpoch(epoch: unknown): epoch is string {
  return typeof epoch === 'string' && epoch.length <= MAX_EPOCH_LENGTH && EPOCH_PATTERN.test(epoch);
}

/** True when `offset` is a safe non-negative integer. */
export function isValidOffset(offset: unknown): offset is number {
  return typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0;
}

/** True when `topic` is a non-empty, well-formed string of at most `maxBytes` UTF-8 bytes. */
export function isValidTopic(topic: unknown, maxBytes: number = DEFAULT_MAX_TOPIC_BYTES): topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > maxBytes) return false;
  return !LONE_SURROGATE.test(topic) && utf8Length(topic) <= maxBytes;
}

export function assertTopic(topic: unknown, maxBytes: number = DEFAULT_MAX_TOPIC_BYTES): asserts topic is string {
  if (!isValidTopic(topic, maxBytes)) {
    throw new TopicsUsageError(
      'ERR_INVALID_TOPIC',
      `a topic must be a non-empty, well-formed string of at most ${maxBytes} UTF-8 bytes`,
    );
  }
}

export function assertEpoch(epoch: unknown): asserts epoch is string {
  if (!isValidEpoch(epoch)) {
    throw new TopicsUsageError(
      'ERR_INVALID_EPOCH',
      `an epoch must be 1-${MAX_EPOCH_LENGTH} characters of [0-9A-Za-z_-]`,
    );
  }
}

export function assertOffset(offset: unknown): asserts offset is number {
  if (!isValidOffset(offset)) {
    throw new TopicsUsageError(
      'ERR_INVALID_OFFSET',
      `an offset must be a safe non-negative integer, got ${String(offset)}`,
    );
  }
}
