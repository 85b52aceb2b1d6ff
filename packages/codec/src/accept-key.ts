/**
 * `Sec-WebSocket-Key` and `Sec-WebSocket-Accept` (RFC 6455 §4.1, §4.2.2): the
 * proof that the server read the client's handshake as a WebSocket one.
 */

import { encodeBase64 } from './base64.js';
import { encodeLatin1 } from './latin1.js';
import { sha1 } from './sha1.js';

/** The fixed GUID appended to the key before hashing (RFC 6455 §1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** `base64(SHA-1(key + GUID))`, the value a server sends as `Sec-WebSocket-Accept`. */
export function computeAcceptKey(key: string): string {
  return encodeBase64(sha1(encodeLatin1(key + WEBSOCKET_GUID)));
}

/**
 * Whether `key` is base64 of exactly 16 bytes: 22 alphabet characters and
 * "==". Like `ws`, the unused low bits of the last character are not checked;
 * the decoded length is what RFC 6455 §4.2.1 asks for.
 */
export function isValidClientKey(key: string): boolean {
  if (key.length !== 24 || !key.endsWith('==')) return false;
  for (let i = 0; i < 22; i++) {
    if (!isBase64Char(key.charCodeAt(i))) return false;
  }
  return true;
}

function isBase64Char(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

/** A fresh client key: 16 bytes from `random`, base64-encoded (RFC 6455 §4.1). */
export function generateClientKey(random: (bytes: Uint8Array) => void): string {
  const nonce = new Uint8Array(16);
  random(nonce);
  return encodeBase64(nonce);
}
