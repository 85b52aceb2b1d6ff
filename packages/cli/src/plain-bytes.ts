/**
 * The same bytes as a plain Uint8Array view. A Node Buffer (what sockets and
 * file streams deliver) is a Uint8Array whose `slice()` returns a view, not a
 * copy; the dissectors copy with `slice()` before the codec unmasks in place,
 * so they take their input through this first.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
