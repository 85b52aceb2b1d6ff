/**
 * The bytes waiting to be written. Small frames are written one after another
 * into a slab, so everything produced while handling one read can leave in a
 * single write; large payloads are referenced, not copied.
 *
 * The slab is shared by every connection in the realm (as Node pools small
 * Buffers), so an idle connection holds no write buffer at all. A connection
 * keeps appending to its run of the slab while no other connection wrote in
 * between; otherwise it starts a new segment. A region, once written, is
 * never written again: the transport may still hold it until its write
 * completes.
 */

const SLAB_SIZE = 64 * 1024;
/** Frames larger than this get a buffer of their own instead of slab space. */
export const PRIVATE_THRESHOLD = SLAB_SIZE / 4;
const EMPTY = new Uint8Array(0);

let slab = new Uint8Array(SLAB_SIZE);
/** `slab.buffer`, kept at hand: the getter is a call, and every segment view needs it. */
let slabBuffer = slab.buffer;
let slabPos = 0;

export class OutgoingQueue {
  /** Where the next bytes go: `buf[pos]`. Write, then `commit()` the new position. */
  buf: Uint8Array<ArrayBuffer> = EMPTY;
  pos = 0;
  private segStart = 0;
  /** Made on the first segment, so a take() with one segment allocates one small array. */
  private segments: Uint8Array<ArrayBuffer>[] | undefined;
  private queued = 0;

  /** Bytes queued and not yet taken. */
  get bufferedAmount(): number {
    return this.queued + (this.pos - this.segStart);
  }

  /** Makes room for `n` contiguous bytes at `this.buf[this.pos]`. */
  reserve(n: number): void {
    if (this.buf === slab && this.pos === slabPos && SLAB_SIZE - slabPos >= n) return;
    this.closeSegment();
    if (n > PRIVATE_THRESHOLD) {
      this.buf = new Uint8Array(n);
      this.pos = 0;
    } else {
      if (SLAB_SIZE - slabPos < n) {
        slab = new Uint8Array(SLAB_SIZE);
        slabBuffer = slab.buffer;
        slabPos = 0;
      }
      this.buf = slab;
      this.pos = slabPos;
    }
    this.segStart = this.pos;
  }

  /** Records that bytes up to `end` (exclusive) of `buf` were written. */
  commit(end: number): void {
    this.pos = end;
    if (this.buf === slab) slabPos = end;
  }

  /** Appends a buffer the queue may hand out as it is (no copy). */
  pushBuffer(bytes: Uint8Array<ArrayBuffer>): void {
    if (bytes.length === 0) return;
    this.closeSegment();
    this.add(bytes);
  }

  /** Everything queued so far, in order; the queue is empty afterwards. */
  take(): Uint8Array<ArrayBuffer>[] {
    this.closeSegment();
    const out = this.segments;
    if (out === undefined) return [];
    this.segments = undefined;
    this.queued = 0;
    return out;
  }

  private closeSegment(): void {
    if (this.pos === this.segStart) return;
    // The constructor, not subarray(): it skips the species lookup, and every
    // take() of a frame or two pays for one view. (Slab and private buffers
    // start at offset 0 of their ArrayBuffer.)
    const buf = this.buf;
    this.add(new Uint8Array(buf === slab ? slabBuffer : buf.buffer, this.segStart, this.pos - this.segStart));
    this.segStart = this.pos;
  }

  private add(seg: Uint8Array<ArrayBuffer>): void {
    if (this.segments === undefined) this.segments = [seg];
    else this.segments.push(seg);
    this.queued += seg.length;
  }
}
