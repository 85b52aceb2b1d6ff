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

/** Thrown when the application misuses the API. Never thrown for peer input. */
export class UsageError extends Error {
  readonly code: UsageErrorCode;

  constructor(code: UsageErrorCode, message: string) {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}
