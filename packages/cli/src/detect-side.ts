/**
 * Guesses what a byte stream is when the user did not say: whether it opens
 * with an HTTP head or with frames, and who sent it. An HTTP request comes
 * from a client and a response from a server; otherwise the first frame's
 * mask bit decides, since only clients mask (RFC 6455 §5.1).
 */
import type { Side } from './records.js';

export interface SideGuess {
  readonly side: Side;
  readonly why: string;
}

/**
 * What the first bytes of a stream start: an HTTP head, frames, or (while
 * they are a prefix of `HTTP/` or of a method and a space) not yet known.
 * A frame can begin with a capital letter too (RSV1 set), so a request is
 * recognised by its method and a space, not by the first byte alone.
 */
export type StreamStart = 'request' | 'response' | 'frames' | 'undecided';

const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE', 'PATCH', 'CONNECT'];
const REQUEST = new RegExp(`^(?:${METHODS.join('|')}) `);
const RESPONSE = /^HTTP\/\d/;
const PREFIXES = ['HTTP/', ...METHODS.map((method) => `${method} `)];

export function streamStart(bytes: Uint8Array): StreamStart {
  const start = String.fromCharCode(...bytes.subarray(0, 8));
  if (RESPONSE.test(start)) return 'response';
  if (REQUEST.test(start)) return 'request';
  // "HTTP/" still needs its version digit, "GE" its "T ".
  if (PREFIXES.some((prefix) => prefix.startsWith(start))) return 'undecided';
  return 'frames';
}

export function detectSide(bytes: Uint8Array): SideGuess {
  const start = streamStart(bytes);
  if (start === 'request') return { side: 'client', why: 'starts with an HTTP request' };
  if (start === 'response') return { side: 'server', why: 'starts with an HTTP response' };
  if (bytes.length < 2) return { side: 'client', why: 'too short to tell; assumed' };
  return ((bytes[1] as number) & 0x80) !== 0
    ? { side: 'client', why: 'first frame is masked' }
    : { side: 'server', why: 'first frame is unmasked' };
}
