/**
 * Copies of bytes the codec keeps. `slice()` is not one: a subclass may
 * override it to return a view (Node's byte buffers do), so bytes "copied"
 * with it would still change when their owner reuses the memory. The
 * typed-array constructor always copies, and always returns a plain
 * Uint8Array.
 */

/**
 * A new buffer holding a copy of `bytes[start, end)`. The constructor copies
 * into memory it does not zero first (V8 allocates it uninitialised), where
 * `new Uint8Array(n)` followed by `set()` writes every byte twice.
 */
export function copyOf(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array<ArrayBuffer> {
  return new Uint8Array(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
}
