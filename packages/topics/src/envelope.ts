/**
 * The `rfc6455.topics.v1` subprotocol: topic traffic as binary WebSocket
 * messages, one envelope per message. Every envelope starts with the same
 * four-byte header and the topic; a publication's payload is the rest of the
 * message, carried as is, so a server builds one envelope per publication and
 * writes the same frames to every subscriber. The byte layout is in the
 * package README; `envelope-encoder.ts` and `envelope-decoder.ts` implement it.
 */
import type { Publication, StreamPosition } from './identity.js';

/** The subprotocol name to offer and accept in `Sec-WebSocket-Protocol`. */
export const TOPICS_SUBPROTOCOL = 'rfc6455.topics.v1';

/** The first byte of an envelope. */
export const EnvelopeKind = {
  Publication: 0x01,
  Subscribe: 0x02,
  Unsubscribe: 0x03,
  Subscribed: 0x04,
  Unsubscribed: 0x05,
} as const;

/** Flag bits (byte 1). Bits not defined for a kind must be 0. */
export const EnvelopeFlag = {
  /** In `subscribe`: a `since` position follows the topic. */
  Since: 0x01,
  /** In `subscribed`: the publications continue `since` without a gap. */
  Recovered: 0x01,
} as const;

/** kind, flags, topic length (u16). */
export const ENVELOPE_HEADER_BYTES = 4;

/** Server → client: one publication. `data` is the rest of the message. */
export interface PublicationMessage {
  readonly type: 'publication';
  readonly topic: string;
  readonly epoch: string;
  readonly offset: number;
  readonly data: Uint8Array;
}

/** Client → server: subscribe, continuing after `since` if given. */
export interface SubscribeMessage {
  readonly type: 'subscribe';
  readonly topic: string;
  readonly since?: StreamPosition;
}

/** Client → server: leave the topic. */
export interface UnsubscribeMessage {
  readonly type: 'unsubscribe';
  readonly topic: string;
}

/** Server → client: the answer to a subscribe, or a notice that the stream restarted (`recovered: false`). */
export interface SubscribedMessage {
  readonly type: 'subscribed';
  readonly topic: string;
  readonly recovered: boolean;
  readonly epoch: string;
  /** The position after `publications`; deliveries continue at `offset + 1`. */
  readonly offset: number;
  readonly publications: readonly Publication[];
}

/** Server → client: the server ended or refused the subscription; `code` and `reason` are the application's. */
export interface UnsubscribedMessage {
  readonly type: 'unsubscribed';
  readonly topic: string;
  /** 0–65535, chosen by the application (e.g. 4403 for not allowed). */
  readonly code: number;
  readonly reason: string;
}

export type TopicsMessage =
  | PublicationMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | SubscribedMessage
  | UnsubscribedMessage;

/** Why bytes are not a valid envelope. */
export type MalformedEnvelopeCode =
  /** Shorter than its header or than a length it announces. */
  | 'ERR_TRUNCATED'
  /** Bytes left over after a message whose end is not the end of the message. */
  | 'ERR_TRAILING_BYTES'
  /** A kind byte this version does not define. */
  | 'ERR_UNKNOWN_KIND'
  /** A flag bit this kind does not define. */
  | 'ERR_RESERVED_FLAG'
  /** An empty, over-long or non-UTF-8 topic. */
  | 'ERR_INVALID_TOPIC'
  /** An epoch outside 1–64 characters of [0-9A-Za-z_-]. */
  | 'ERR_INVALID_EPOCH'
  /** An offset above 2^53 − 1. */
  | 'ERR_INVALID_OFFSET'
  /** An unsubscribed reason that is not UTF-8. */
  | 'ERR_INVALID_REASON';

/** What the decoder returns for bytes that are not an envelope. It never throws for them. */
export interface MalformedEnvelope {
  readonly type: 'malformed';
  readonly code: MalformedEnvelopeCode;
  readonly reason: string;
}
