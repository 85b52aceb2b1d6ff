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
 *
 * A message compressed off the calling thread holds its place as a
 * {@link Pending} slot: what is queued after it waits behind it, so bytes
 * leave in the order they were queued whichever work finishes first.
 */

const SLAB_SIZE = 64 * 1024;
/** Frames larger than this get a buffer of their own instead of slab space. */
export const PRIVATE_THRESHOLD = SLAB_SIZE / 4;
const EMPTY = new Uint8Array(0);

let slab = new Uint8Array(SLAB_SIZE);
/** `slab.buffer`, kept at hand: the getter is a call, and every segment view needs it. */
let slabBuffer = slab.buffer;
let slabPos = 0;

/** A place in the queue for bytes known later; `estimate` counts in `bufferedAmount` meanwhile. */
export class Pending {
  frames: Uint8Array<ArrayBuffer>[] | undefined = undefined;
  constructor(readonly estimate: number) {}
}

export class OutgoingQueue {
  /** Where the next bytes go: `buf[pos]`. Write, then `commit()` the new position. */
  buf: Uint8Array<ArrayBuffer> = EMPTY;
  pos = 0;
  private segStart = 0;
  /** Made on the first segment, so a take() with one segment allocates one small array. */
  private segments: Uint8Array<ArrayBuffer>[] | undefined;
  private queued = 0;
  /** Everything from the first unfilled slot on, in order; undefined while no slot is open (the usual case). */
  private later: (Uint8Array<ArrayBuffer> | Pending)[] | undefined;
  private laterBytes = 0;

  /** Bytes queued and not yet taken (a pending slot counts as its estimate). */
  get bufferedAmount(): number {
    return this.queued + (this.pos - this.segStart) + this.laterBytes;
  }

  /** Of `bufferedAmount`, what waits from the first unfilled slot on (slots at their estimate): not writable yet. */
  get pendingAmount(): number {
    return this.laterBytes;
  }

  /** True while a slot waits for its bytes: more output will come without a further call. */
  get pending(): boolean {
    return this.later !== undefined;
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

  /** Holds a place for bytes that `fill()` supplies later; what is queued meanwhile goes after them. */
  hold(estimate: number): Pending {
    this.closeSegment();
    const slot = new Pending(estimate);
    (this.later ??= []).push(slot);
    this.laterBytes += estimate;
    return slot;
  }

  /** Supplies a slot's bytes; they and what followed them up to the next open slot become ready. */
  fill(slot: Pending, frames: Uint8Array<ArrayBuffer>[]): void {
    const later = this.later;
    if (later === undefined || slot.frames !== undefined) return;
    this.laterBytes -= sizeOf(slot);
    slot.frames = frames;
    this.laterBytes += sizeOf(slot);
    this.closeSegment();
    let i = 0;
    for (; i < later.length; i++) {
      const item = later[i] as Uint8Array<ArrayBuffer> | Pending;
      if (item instanceof Pending) {
        if (item.frames === undefined) break;
        for (const f of item.frames) this.ready(f);
      } else this.ready(item);
      this.laterBytes -= sizeOf(item);
    }
    if (i === later.length) this.later = undefined;
    else later.splice(0, i);
  }

  /** Replaces `slot` and everything queued after it with `frames` (a failed connection's last words). */
  truncate(slot: Pending, frames: Uint8Array<ArrayBuffer>[]): void {
    const later = this.later;
    if (later === undefined) return;
    this.closeSegment();
    const at = later.indexOf(slot);
    if (at < 0) return;
    for (const item of later.splice(at)) {
      this.laterBytes -= sizeOf(item);
      // A dropped slot may still be filled by its late callback: settled now, it is ignored then.
      if (item instanceof Pending) item.frames ??= [];
    }
    if (later.length === 0) this.later = undefined;
    for (const f of frames) this.add(f);
  }

  /** Everything queued so far and ready, in order; those bytes leave the queue. */
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
    const later = this.later;
    if (later !== undefined) {
      later.push(seg);
      this.laterBytes += seg.length;
      return;
    }
    this.ready(seg);
  }

  private ready(seg: Uint8Array<ArrayBuffer>): void {
    if (this.segments === undefined) this.segments = [seg];
    else this.segments.push(seg);
    this.queued += seg.length;
  }
}

/** What an item of the held part of the queue counts in `bufferedAmount`. */
function sizeOf(item: Uint8Array | Pending): number {
  if (!(item instanceof Pending)) return item.length;
  const frames = item.frames;
  if (frames === undefined) return item.estimate;
  let n = 0;
  for (const f of frames) n += f.length;
  return n;
}
