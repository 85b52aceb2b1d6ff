/**
 * Base64 with padding (RFC 4648 §4), for the handshake's `Sec-WebSocket-Key`
 * and `Sec-WebSocket-Accept`. Written here rather than taken from a general
 * multi-base library, whose table of every encoding outweighed the codec's
 * need of one; the values are 16 and 20 bytes, so clarity beats speed.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The padded base64 text of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const left = bytes.length - i;
    const group = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    text += ALPHABET.charAt(group >> 18);
    text += ALPHABET.charAt((group >> 12) & 63);
    text += left > 1 ? ALPHABET.charAt((group >> 6) & 63) : '=';
    text += left > 2 ? ALPHABET.charAt(group & 63) : '=';
  }
  return text;
}
