import type { HandshakeFailure, HttpHeaders } from '@rfc6455/codec';

export type HandshakeErrorCode =
  /** The server answered with a status other than 101: see `status` and `body`. */
  | 'rejected'
  /** The response was not a valid WebSocket handshake: see `failure`. */
  | 'failed'
  /** No handshake response within `handshakeTimeout`. */
  | 'timeout'
  /** `close()` or the abort signal ended the attempt. */
  | 'aborted'
  /** The transport could not be opened or broke during the handshake. */
  | 'transport';

export interface HandshakeErrorInit {
  readonly status?: number;
  readonly statusText?: string;
  readonly headers?: HttpHeaders;
  readonly body?: Uint8Array<ArrayBuffer>;
  readonly failure?: HandshakeFailure;
  readonly cause?: unknown;
}

/*
 * Keys every copy of this package marks its error prototypes with. An app that
 * loads both the ESM and the CJS build (or two installs) has two classes of
 * each; Symbol.for gives them the same key, so `instanceof` holds across
 * copies. A brand, not a proof: anyone can forge it.
 */
const HANDSHAKE_ERROR = Symbol.for('@rfc6455/browser-client.HandshakeError');
const WEBSOCKET_ERROR = Symbol.for('@rfc6455/browser-client.WebSocketError');

function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && brand in value;
}

/**
 * The opening handshake did not succeed. Unlike the native WebSocket, the
 * HTTP status, headers and body of a refusal are visible here.
 */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
  /** Why the handshake did not succeed: a stable string, as `UsageError.code` is. */
  readonly code: HandshakeErrorCode;
  /** HTTP status of a refusal (code 'rejected'). */
  readonly status: number | undefined;
  readonly statusText: string | undefined;
  /** Response headers when a response head was read. */
  readonly headers: HttpHeaders | undefined;
  /** Body of a refusal, at most 64 KiB. */
  readonly body: Uint8Array<ArrayBuffer> | undefined;
  /** The codec's `HandshakeFailure` for code 'failed', e.g. 'invalid-accept'. */
  readonly failure: HandshakeFailure | undefined;

  static {
    Object.defineProperty(this.prototype, HANDSHAKE_ERROR, { value: true });
  }

  /** True for a HandshakeError of any copy of this package; subclasses keep the ordinary prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== HandshakeError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return hasBrand(value, HANDSHAKE_ERROR);
  }

  constructor(code: HandshakeErrorCode, message: string, init: HandshakeErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.status = init.status;
    this.statusText = init.statusText;
    this.headers = init.headers;
    this.body = init.body;
    this.failure = init.failure;
  }

  /** The refusal body decoded as UTF-8 ('' when there is none). */
  get bodyText(): string {
    return this.body === undefined ? '' : new TextDecoder().decode(this.body);
  }
}

/** An unclean close as WebSocketStream reports it (`closed` rejects with it). */
export class WebSocketError extends Error {
  override readonly name = 'WebSocketError';
  readonly closeCode: number;
  readonly reason: string;

  static {
    Object.defineProperty(this.prototype, WEBSOCKET_ERROR, { value: true });
  }

  /** True for a WebSocketError of any copy of this package; subclasses keep the ordinary prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== WebSocketError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return hasBrand(value, WEBSOCKET_ERROR);
  }

  constructor(message: string, init: { closeCode: number; reason: string; cause?: unknown }) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.closeCode = init.closeCode;
    this.reason = init.reason;
  }
}
