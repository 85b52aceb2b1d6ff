/**
 * What a connection reports. Every event is a small plain record tagged by
 * `type`; the application reads them with `Connection.nextEvent()`.
 */

/** A whole text message (the default `messageMode: 'whole'`). */
export interface TextEvent {
  readonly type: 'text';
  readonly data: string;
}

/**
 * A whole binary message. `data` may be a view into the bytes handed to
 * `receive()` (no copy is made when a frame arrives in one piece).
 */
export interface BinaryEvent {
  readonly type: 'binary';
  readonly data: Uint8Array;
}

/**
 * Part of a text message (`messageMode: 'parts'`). Parts never split a code
 * point; `last` marks the end of the message (its data may be empty).
 */
export interface TextPartEvent {
  readonly type: 'text-part';
  readonly data: string;
  readonly last: boolean;
}

/** Part of a binary message (`messageMode: 'parts'`). */
export interface BinaryPartEvent {
  readonly type: 'binary-part';
  readonly data: Uint8Array;
  readonly last: boolean;
}

/** A ping arrived. Unless `autoPong` is off, the pong is already queued. */
export interface PingEvent {
  readonly type: 'ping';
  readonly data: Uint8Array;
}

/** A pong arrived (solicited or not). */
export interface PongEvent {
  readonly type: 'pong';
  readonly data: Uint8Array;
}

/**
 * The peer's close frame arrived. `code` is 1005 when the frame had no body.
 * The reply close frame is already queued unless this side had sent one.
 */
export interface CloseEvent {
  readonly type: 'close';
  readonly code: number;
  readonly reason: string;
}

/**
 * The peer broke the protocol. A close frame with `code` and `reason` is
 * queued (unless one was already sent), all further input is ignored, and the
 * transport should be closed once the outgoing bytes are written.
 */
export interface ProtocolErrorEvent {
  readonly type: 'protocol-error';
  readonly code: number;
  readonly reason: string;
}

/**
 * The last event: the transport ended (`receiveEof()` was called) and all
 * input before it has been reported. `code` and `reason` are what the
 * application should report as the close status: the peer's close code when a
 * close frame arrived (1005 if it had none), 1006 otherwise. `wasClean` is true
 * when close frames were both sent and received.
 */
export interface ClosedEvent {
  readonly type: 'closed';
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export type ConnectionEvent =
  | TextEvent
  | BinaryEvent
  | TextPartEvent
  | BinaryPartEvent
  | PingEvent
  | PongEvent
  | CloseEvent
  | ProtocolErrorEvent
  | ClosedEvent;

/** What the application can ask a connection to send. */
export type SendCommand =
  | {
      readonly type: 'text';
      readonly data: string;
      /** False to stream: more parts of this message follow. Default true. */
      readonly fin?: boolean;
    }
  | {
      readonly type: 'binary';
      readonly data: Uint8Array;
      /** False to stream: more parts of this message follow. Default true. */
      readonly fin?: boolean;
    }
  | { readonly type: 'ping'; readonly data?: Uint8Array | string }
  | { readonly type: 'pong'; readonly data?: Uint8Array | string }
  | {
      readonly type: 'close';
      /** Omitted: a close frame with no body (the peer sees 1005). */
      readonly code?: number;
      readonly reason?: string;
    };
