/**
 * Errors the codec throws. The codec throws only for the application's own
 * mistakes; anything the peer does wrong becomes an event instead.
 */

/** Machine-readable reason of a {@link UsageError}. */
export type UsageErrorCode =
  /** A data or control frame was sent after this side sent a close frame. */
  | 'ERR_SEND_AFTER_CLOSE'
  /** A close code that may not be sent on the wire (RFC 6455 §7.4). */
  | 'ERR_INVALID_CLOSE_CODE'
  /** A close reason longer than 123 bytes of UTF-8. */
  | 'ERR_CLOSE_REASON_TOO_LONG'
  /** A ping or pong payload longer than 125 bytes. */
  | 'ERR_CONTROL_PAYLOAD_TOO_LONG'
  /** A data message was started while another streamed message was unfinished. */
  | 'ERR_MESSAGE_INTERLEAVED'
  /** An option or argument outside its allowed range. */
  | 'ERR_INVALID_ARGUMENT'
  /** A URL that is not an absolute ws:// or wss:// URL without a fragment. */
  | 'ERR_INVALID_URL'
  /** A method called in a state that does not allow it (e.g. accepting twice). */
  | 'ERR_INVALID_STATE';

/**
 * The key every copy of this package marks UsageError.prototype with. An app
 * that loads both the ESM and the CJS build (or two installs) has two
 * UsageError classes; Symbol.for gives them the same key, so `instanceof`
 * holds across copies. It is a brand, not a proof: anyone can forge it.
 */
const USAGE_ERROR = Symbol.for('@rfc6455/codec.UsageError');

/** Thrown when the application misuses the API. Never thrown for peer input. */
export class UsageError extends Error {
  readonly code: UsageErrorCode;

  static {
    Object.defineProperty(this.prototype, USAGE_ERROR, { value: true });
  }

  /** True for a UsageError of any copy of this package; subclasses keep the ordinary prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== UsageError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && USAGE_ERROR in value;
  }

  constructor(code: UsageErrorCode, message: string) {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}
