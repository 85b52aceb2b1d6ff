import { plainBytes } from '../plain-bytes.js';

/**
 * Bytes arriving in chunks of any size, read back as records of known
 * length. Only the unread bytes are kept, so a reader over a large file holds
 * about one chunk plus one record at a time.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private size = 0;
  /** Bytes consumed since the start: the file offset of the next unread byte. */
  private consumed = 0;

  get length(): number {
    return this.size;
  }

  get offset(): number {
    return this.consumed;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // Records are handed out as views of the chunks: plain ones, whose slice() copies (a Buffer's does not).
    this.chunks.push(plainBytes(chunk));
    this.size += chunk.length;
  }

  /** The next `n` bytes without consuming them (a view when they lie in one chunk, else a copy). */
  peek(n: number): Uint8Array {
    if (n > this.size) throw new RangeError(`peek(${n}) with ${this.size} bytes queued`);
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let skip = this.head;
    for (const chunk of this.chunks) {
      const part = chunk.subarray(skip, skip + (n - filled));
      out.set(part, filled);
      filled += part.length;
      skip = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Consumes `n` bytes and returns them. */
  take(n: number): Uint8Array {
    const bytes = this.peek(n);
    this.skip(n);
    return bytes;
  }

  skip(n: number): void {
    if (n > this.size) throw new RangeError(`skip(${n}) with ${this.size} bytes queued`);
    this.size -= n;
    this.consumed += n;
    let left = n;
    while (left > 0) {
      const first = this.chunks[0] as Uint8Array;
      const available = first.length - this.head;
      if (available > left) {
        this.head += left;
        return;
      }
      left -= available;
      this.chunks.shift();
      this.head = 0;
    }
  }
}
