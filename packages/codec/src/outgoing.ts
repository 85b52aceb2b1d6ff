/**
 * The bytes waiting to be written. Small frames are written one after another
 * into a slab, so everything produced while handling one read can leave in a
 * single write; large payloads are referenced, not copied.
 *
 * A region of the slab, once taken, is never written again: the transport may
 * still hold it until its write completes.
 */

const SLAB_SIZE = 16 * 1024;

export class OutgoingQueue {
  /** The slab being written and the position of the next byte in it. */
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(SLAB_SIZE);
  pos = 0;
  private segStart = 0;
  private segments: Uint8Array<ArrayBuffer>[] = [];
  private queued = 0;

  /** Bytes queued and not yet taken. */
  get bufferedAmount(): number {
    return this.queued + (this.pos - this.segStart);
  }

  /** Makes room for `n` contiguous bytes at `this.buf[this.pos]`. */
  reserve(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    this.closeSegment();
    this.buf = new Uint8Array(Math.max(SLAB_SIZE, n));
    this.pos = 0;
    this.segStart = 0;
  }

  /** Appends a buffer the queue may hand out as it is (no copy). */
  pushBuffer(bytes: Uint8Array<ArrayBuffer>): void {
    if (bytes.length === 0) return;
    this.closeSegment();
    this.segments.push(bytes);
    this.queued += bytes.length;
  }

  /** Everything queued so far, in order; the queue is empty afterwards. */
  take(): Uint8Array<ArrayBuffer>[] {
    this.closeSegment();
    const out = this.segments;
    this.segments = [];
    this.queued = 0;
    // Start the next write in a fresh slab when little of this one is left.
    if (this.buf.length - this.pos < 256) {
      this.buf = new Uint8Array(SLAB_SIZE);
      this.pos = 0;
      this.segStart = 0;
    }
    return out;
  }

  private closeSegment(): void {
    if (this.pos === this.segStart) return;
    const seg = this.buf.subarray(this.segStart, this.pos);
    this.segments.push(seg);
    this.queued += seg.length;
    this.segStart = this.pos;
  }
}
