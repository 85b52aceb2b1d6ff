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

/**
 * The bytes of padded base64 `text`, or null unless `text` is exactly what
 * {@link encodeBase64} would write for them: a length that is a multiple of
 * four, only alphabet characters, "=" only as the last one or two, and zero
 * in the bits the padding leaves over (RFC 4648 §3.5 lets a decoder refuse
 * those, and refusing makes every byte string have a single spelling).
 */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let written = 0;
  for (let i = 0; i < text.length; i += 4) {
    const isLast = i + 4 === text.length;
    const characters = isLast ? 4 - padding : 4;
    let group = 0;
    for (let j = 0; j < 4; j++) {
      // A padding position counts as zero bits; any other "=" fails the lookup.
      const value = j < characters ? ALPHABET.indexOf(text.charAt(i + j)) : 0;
      if (value < 0) return null;
      group = (group << 6) | value;
    }
    const groupBytes = characters - 1;
    // The bits below the last byte, which only a non-canonical spelling sets.
    if ((group & (0xffffff >> (8 * groupBytes))) !== 0) return null;
    for (let k = 0; k < groupBytes; k++) bytes[written++] = (group >> (16 - 8 * k)) & 0xff;
  }
  return bytes;
}
