/**
 * What the dissector reports: plain records tagged by `kind`, in stream
 * order. They carry data, not text, so the terminal and the browser page can
 * each render them their own way.
 */
import type { HandshakeFailure } from '@rfc6455/codec/http';

/** Who sent the bytes. */
export type Side = 'client' | 'server';

/** How the payload length was written (RFC 6455 §5.2): in the 7 bits, or 16/64 bits after them. */
export type LengthEncoding = '7-bit' | '16-bit' | '64-bit';

export interface FrameRecord {
  readonly kind: 'frame';
  /** Offset of the frame's first byte in this direction's stream. */
  readonly offset: number;
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly rsv2: boolean;
  readonly rsv3: boolean;
  readonly opcode: number;
  readonly opcodeName: string;
  readonly masked: boolean;
  readonly maskKey: Uint8Array | null;
  readonly payloadLength: number;
  readonly lengthEncoding: LengthEncoding;
  /** The header bytes as on the wire (2–14 bytes). */
  readonly header: Uint8Array;
  /** The payload, unmasked; still compressed when `compressed` is true. */
  readonly payload: Uint8Array;
  /** Part of a message sent with permessage-deflate (RSV1 on its first frame). */
  readonly compressed: boolean;
  /** A close frame's body, when it has one. */
  readonly close: { readonly code: number; readonly codeName: string; readonly reason: string } | null;
}

/** A whole data message as the codec delivered it (inflated when it was compressed). */
export interface MessageRecord {
  readonly kind: 'message';
  readonly type: 'text' | 'binary';
  readonly data: string | Uint8Array;
  /** Bytes on the wire (all the message's frame payloads) and after inflation. */
  readonly wireLength: number;
  readonly length: number;
  readonly compressed: boolean;
  readonly frames: number;
}

export interface HttpRequestRecord {
  readonly kind: 'http-request';
  readonly offset: number;
  readonly startLine: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly length: number;
  /** `Sec-WebSocket-Key` and the `Sec-WebSocket-Accept` a server must answer with. */
  readonly key: string | null;
  readonly expectedAccept: string | null;
  /** Why the codec's server handshake would refuse it, or null when it is a valid upgrade. */
  readonly problem: string | null;
}

export interface HttpResponseRecord {
  readonly kind: 'http-response';
  readonly offset: number;
  readonly startLine: string;
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly length: number;
  /** The `Sec-WebSocket-Accept` received, and whether it matches the request's key (null: no request seen). */
  readonly accept: string | null;
  readonly acceptMatches: boolean | null;
  /** The permessage-deflate parameters agreed, or null. */
  readonly deflate: string | null;
  readonly problem: string | null;
}

/** Bytes after a non-101 response head: the body explaining the refusal. */
export interface HttpBodyRecord {
  readonly kind: 'http-body';
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/**
 * Decoding stopped: a head the receiving endpoint refuses (`handshake`), a
 * frame it fails the connection for (`frames`), or input that ended inside a
 * head or frame (`truncated`).
 */
export interface ErrorRecord {
  readonly kind: 'error';
  readonly offset: number;
  readonly phase: 'handshake' | 'frames' | 'truncated';
  /** The close code the receiving peer fails the connection with (`frames`), else null. */
  readonly code: number | null;
  /**
   * A refused request: the status a server answers (400, 426, 431). A
   * refused response: the status received (101), or null when its head was
   * malformed. Null outside the handshake.
   */
  readonly status: number | null;
  /** Why the handshake failed, as the codec names it; null outside the handshake or when the codec has no name for it. */
  readonly failure: HandshakeFailure | null;
  readonly reason: string;
}

export type DissectRecord =
  | FrameRecord
  | MessageRecord
  | HttpRequestRecord
  | HttpResponseRecord
  | HttpBodyRecord
  | ErrorRecord;
