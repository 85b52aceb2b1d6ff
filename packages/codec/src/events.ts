/**
 * What an endpoint reports, and what it can be asked to do. Every event and
 * command is a small plain record tagged by `type`.
 */
import type { HttpHeaders } from './http-head.js';
import type { HeaderInit } from './http-write.js';
import type { PreEncodedMessage } from './pre-encoder.js';
import type { UpgradeRequestEvent } from './upgrade-request.js';
import type { ErrorResponseOptions } from './upgrade-response.js';
import type { HandshakeFailure } from './upgrade-response.js';

/**
 * How an endpoint hands out text messages (option `textAs`): `'string'`
 * (default) decodes them; `'bytes'` gives their UTF-8 bytes, validated but
 * never turned into a string, for an application that forwards or parses
 * bytes.
 */
export type TextAs = 'string' | 'bytes';

/** The data of a text event on an endpoint made with `textAs: T`. */
export type TextData<T extends TextAs> = T extends 'bytes' ? Uint8Array : string;

/**
 * A whole text message (the default `messageMode: 'whole'`): a string, or
 * with `textAs: 'bytes'` its valid UTF-8 bytes (a view into the bytes handed
 * to `receive()` when the message arrived in one piece, as for binary).
 */
export interface TextEvent<T extends TextAs = 'string'> {
  readonly type: 'text';
  readonly data: TextData<T>;
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
 * Part of a text message (`messageMode: 'parts'`). String parts never split
 * a code point; byte parts (`textAs: 'bytes'`) are the frames' bytes as they
 * arrive, so a character may straddle two parts, and only their
 * concatenation is whole UTF-8. `last` marks the end of the message (its data
 * may be empty).
 */
export interface TextPartEvent<T extends TextAs = 'string'> {
  readonly type: 'text-part';
  readonly data: TextData<T>;
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
 * The peer broke the protocol after the handshake. A close frame with `code`
 * and `reason` is queued (unless one was already sent), all further input is
 * ignored, and the transport should be closed once the outgoing bytes are
 * written (`shouldCloseTransport`).
 */
export interface FrameErrorEvent {
  readonly type: 'protocol-error';
  readonly phase: 'frames';
  readonly code: number;
  readonly reason: string;
}

/**
 * The peer broke the opening handshake, or sent too much of it. A server has
 * queued the error response (`status`: 400, 426 or 431); a client reports the
 * status it received (null when no valid status line was read) and queues
 * nothing. Either way the transport should be closed.
 */
export interface HandshakeErrorEvent {
  readonly type: 'protocol-error';
  readonly phase: 'handshake';
  readonly status: number | null;
  readonly failure: HandshakeFailure;
  readonly reason: string;
  /** The peer's header fields when its head was parsed. */
  readonly headers: HttpHeaders | null;
}

/** The peer's mistakes, in one shape for both phases: tell them apart by `phase`. */
export type ProtocolErrorEvent = HandshakeErrorEvent | FrameErrorEvent;

/**
 * The opening handshake completed: frames may flow. `headers` are the peer's
 * (the request's on a server, the 101 response's on a client).
 */
export interface OpenEvent {
  readonly type: 'open';
  /** The agreed subprotocol, or null. */
  readonly protocol: string | null;
  /** The agreed extensions as the `Sec-WebSocket-Extensions` value, or ''. */
  readonly extensions: string;
  readonly headers: HttpHeaders;
}

/**
 * Server, bootstrapped on an HTTP/2 stream (RFC 8441): the response for the
 * host's HTTP/2 stack to send on that stream — `:status` 200 with the agreed
 * subprotocol and extensions after `accept`, or the error status, fields and
 * body after `reject`. Field names are lower case, as HTTP/2 requires.
 */
export interface ResponseEvent {
  readonly type: 'response';
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Uint8Array;
}

/** Client: the server answered with something other than 101, e.g. 401, 403 or 503. */
export interface RejectedEvent {
  readonly type: 'rejected';
  readonly status: number;
  /** The reason phrase, e.g. "Forbidden". */
  readonly reason: string;
  readonly httpVersion: string;
  readonly headers: HttpHeaders;
  /** The body, at most `maxBodySize` bytes. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** False when the body was capped, malformed, or cut off by the transport. */
  readonly bodyComplete: boolean;
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

/** What the frame phase reports (`T`: the endpoint's `textAs`). */
export type FrameEvent<T extends TextAs = 'string'> =
  | TextEvent<T>
  | BinaryEvent
  | TextPartEvent<T>
  | BinaryPartEvent
  | PingEvent
  | PongEvent
  | CloseEvent
  | FrameErrorEvent;

/** What the opening handshake reports. */
export type HandshakeEvent = UpgradeRequestEvent | ResponseEvent | OpenEvent | RejectedEvent | HandshakeErrorEvent;

/** Everything an endpoint reports (`T`: its `textAs`); `closed` is always the last. */
export type EndpointEvent<T extends TextAs = 'string'> = HandshakeEvent | FrameEvent<T> | ClosedEvent;

/** Server: accept the upgrade request (the configured extensions are negotiated inside). */
export interface AcceptCommand {
  readonly type: 'accept';
  /** One of the offered subprotocols, or null/undefined for none. */
  readonly protocol?: string | null;
  /** Extra response fields, e.g. `Set-Cookie`. */
  readonly headers?: HeaderInit;
}

/** Server: refuse the upgrade request with an HTTP error response (status 300–599). */
export interface RejectCommand extends ErrorResponseOptions {
  readonly type: 'reject';
}

/**
 * Server: send a message encoded once for many endpoints (a broadcast), by
 * reference. It must come from a `MessagePreEncoder` and suit this endpoint's
 * `sharedEncoding`.
 */
export interface PreEncodedCommand {
  readonly type: 'pre-encoded';
  readonly message: PreEncodedMessage;
}

/** What the application can ask an endpoint to do. */
export type Command = AcceptCommand | RejectCommand | PreEncodedCommand | FrameCommand;

/** The commands of the frame phase: messages and control frames. */
export type FrameCommand =
  | {
      readonly type: 'text';
      /**
       * A string, or text already encoded as UTF-8 (e.g. a `textAs: 'bytes'`
       * event's data), sent as it is. Bytes are validated (with the `text`
       * accelerator when one is given): invalid UTF-8 throws
       * `ERR_INVALID_ARGUMENT`, since the peer would fail the connection with
       * 1007. A streamed part may end inside a character that the next part
       * finishes; the last part may not.
       */
      readonly data: string | Uint8Array;
      /** False to stream: more parts of this message follow. Default true. */
      readonly fin?: boolean;
    }
  | {
      readonly type: 'binary';
      readonly data: Uint8Array;
      /** False to stream: more parts of this message follow. Default true. */
      readonly fin?: boolean;
      /**
       * True hands `data` over to the endpoint: on the client role a payload
       * of 512 bytes or more is then masked where it lies and queued by
       * reference, instead of masked into a copy. Its contents are
       * unspecified afterwards, and it must stay unchanged until the bytes
       * are written. The bytes on the wire are the same either way. Default
       * false.
       */
      readonly transfer?: boolean;
    }
  | { readonly type: 'ping'; readonly data?: Uint8Array | string }
  | { readonly type: 'pong'; readonly data?: Uint8Array | string }
  | {
      readonly type: 'close';
      /** Omitted: a close frame with no body (the peer sees 1005). */
      readonly code?: number;
      readonly reason?: string;
    };
