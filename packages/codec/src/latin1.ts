/**
 * Text to bytes one byte per character, as HTTP/1.1 heads are written
 * (RFC 9110 §5.5: field values are octets, historically ISO-8859-1).
 */

/**
 * The bytes of `text`, each character's code as one byte. Callers pass only
 * characters up to U+00FF, which the header grammar has already checked;
 * a wider one would keep just its low byte.
 */
export function encodeLatin1(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
