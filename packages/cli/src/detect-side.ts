/**
 * Guesses who sent a byte stream when the user did not say: an HTTP request
 * comes from a client and a response from a server; otherwise the first
 * frame's mask bit decides, since only clients mask (RFC 6455 §5.1).
 */
import { looksLikeHttp } from './http-head.js';
import type { Side } from './records.js';

export interface SideGuess {
  readonly side: Side;
  readonly why: string;
}

export function detectSide(bytes: Uint8Array): SideGuess {
  const http = looksLikeHttp(bytes);
  if (http === 'request') return { side: 'client', why: 'starts with an HTTP request' };
  if (http === 'response') return { side: 'server', why: 'starts with an HTTP response' };
  if (bytes.length < 2) return { side: 'client', why: 'too short to tell; assumed' };
  return ((bytes[1] as number) & 0x80) !== 0
    ? { side: 'client', why: 'first frame is masked' }
    : { side: 'server', why: 'first frame is unmasked' };
}
