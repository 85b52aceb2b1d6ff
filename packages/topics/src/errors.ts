/**
 * Errors the topics package throws. Like the codec, it throws only for the
 * application's own mistakes (a bad topic name, an option out of range);
 * bytes from a peer never throw, they decode to a `malformed` result.
 */

/** Machine-readable reason of a {@link TopicsUsageError}. */
export type TopicsUsageErrorCode =
  /** A topic that is empty, too long, or not well-formed Unicode. */
  | 'ERR_INVALID_TOPIC'
  /** An epoch that is empty, too long, or has characters outside [0-9A-Za-z_-]. */
  | 'ERR_INVALID_EPOCH'
  /** An offset that is not a safe non-negative integer. */
  | 'ERR_INVALID_OFFSET'
  /** An option or argument outside its allowed range. */
  | 'ERR_INVALID_ARGUMENT'
  /** A method called in a state that does not allow it (e.g. on a closed hub). */
  | 'ERR_INVALID_STATE';

/**
 * The brand every copy of this package puts on TopicsUsageError.prototype, so
 * `instanceof` holds across the ESM and CJS builds (see the codec's UsageError).
 */
const TOPICS_USAGE_ERROR = Symbol.for('@rfc6455/topics.TopicsUsageError');

/** Thrown when the application misuses the API. Never thrown for peer or broker input. */
export class TopicsUsageError extends Error {
  readonly code: TopicsUsageErrorCode;

  static {
    Object.defineProperty(this.prototype, TOPICS_USAGE_ERROR, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== TopicsUsageError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && TOPICS_USAGE_ERROR in value;
  }

  constructor(code: TopicsUsageErrorCode, message: string) {
    super(message);
    this.name = 'TopicsUsageError';
    this.code = code;
  }
}
