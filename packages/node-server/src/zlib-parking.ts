/**
 * Parking of idle zlib engines, shared by the synchronous and the
 * thread-pool backends. Why engines park: a native zlib stream is ~256 KiB
 * for a deflater (window 15, memLevel 8: window, hash chains, pending
 * buffer) and ~39 KiB for an inflater (its state and 32 KiB window), held for
 * the connection's life when context is kept. But at the end of a message (a
 * sync flush) all of a stream's state is equivalent to its window: the last
 * 2^bits bytes of uncompressed data, the bytes the peer's side also holds. A
 * fresh stream primed with them (zlib's `deflateSetDictionary` /
 * `inflateSetDictionary`, Node's `dictionary` option) continues the same
 * stream. So each engine keeps those bytes in a ring while awake, and a
 * server-wide sweep parks engines unused for 1–2 s: the native stream is
 * closed and the window kept deflated (a few KiB for text). The next use
 * resumes from it.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** An engine unused for one to two of these is parked. */
const PARK_AFTER_MS = 1000;
/**
 * Engines holding a native zlib stream, swept every PARK_AFTER_MS while not
 * empty. Weak: an engine whose connection is gone is collected as before.
 */
const awake = new Set<WeakRef<Parkable>>();
let sweeper: NodeJS.Timeout | undefined;

export interface Parkable {
  /** Set on use, cleared by the sweep. */
  used: boolean;
  /** Whether the sweep holds a reference to it. */
  listed: boolean;
  /** Estimated native bytes while awake. */
  readonly cost: number;
  /** Releases the native stream if the engine is at a point where its window is all its state; false if not. */
  park(): boolean;
}

/**
 * Native memory the awake engines may hold together (estimated from zlib's
 * allocation sizes): past it, the longest-awake ones are parked at once. A
 * burst of connections that each receive or send one compressed message then
 * holds about this much, not ~300 KiB per connection; 32 MiB keeps ~100 busy
 * connections (window 15, memLevel 8, both directions) awake.
 */
const MAX_AWAKE_BYTES = 32 * 1024 * 1024;
let awakeBytes = 0;

export function touch(engine: Parkable): void {
  engine.used = true;
  if (engine.listed) return;
  engine.listed = true;
  awake.add(new WeakRef(engine));
  awakeBytes += engine.cost;
  if (awakeBytes > MAX_AWAKE_BYTES) {
    for (const ref of awake) {
      if (awakeBytes <= MAX_AWAKE_BYTES) break;
      const other = ref.deref();
      if (other === engine) continue;
      if (other === undefined) awake.delete(ref);
      else if (other.park()) unlist(other, ref);
    }
  }
  if (sweeper === undefined) {
    sweeper = setInterval(sweep, PARK_AFTER_MS);
    sweeper.unref();
  }
}

function unlist(engine: Parkable, ref: WeakRef<Parkable>): void {
  engine.listed = false;
  awakeBytes -= engine.cost;
  awake.delete(ref);
}

function sweep(): void {
  let total = 0; // recounted: engines collected while awake were never subtracted
  for (const ref of awake) {
    const engine = ref.deref();
    if (engine === undefined) awake.delete(ref);
    else if (engine.used) {
      engine.used = false;
      total += engine.cost;
    } else if (engine.park()) {
      engine.listed = false;
      awake.delete(ref);
    } else total += engine.cost;
  }
  awakeBytes = total;
  if (awake.size === 0) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/**
 * The last 2^bits bytes of a DEFLATE stream's uncompressed data (what its
 * peer's window holds): a ring while the engine is awake, a small compressed
 * copy while it is parked.
 */
export class History {
  private ring: Uint8Array | undefined;
  private pos = 0;
  private len = 0;
  /** While parked: the window's bytes deflated on their own (undefined: none). */
  private packed: Uint8Array | undefined;

  constructor(private readonly size: number) {}

  add(bytes: Uint8Array): void {
    const size = this.size;
    const ring = (this.ring ??= new Uint8Array(size));
    const input = bytes.length > size ? bytes.subarray(bytes.length - size) : bytes;
    const first = Math.min(input.length, size - this.pos);
    ring.set(input.subarray(0, first), this.pos);
    ring.set(input.subarray(first), 0);
    this.pos = (this.pos + input.length) % size;
    this.len = Math.min(size, this.len + input.length);
  }

  clear(): void {
    this.ring = undefined;
    this.pos = 0;
    this.len = 0;
    this.packed = undefined;
  }

  /** Drops the ring, keeping its bytes compressed (level 1: parking is rare, memory is the point). */
  pack(): void {
    const ring = this.ring;
    if (ring !== undefined && this.len > 0) {
      const last = new Uint8Array(this.len);
      const start = (this.pos - this.len + ring.length) % ring.length;
      const first = Math.min(this.len, ring.length - start);
      last.set(ring.subarray(start, start + first));
      last.set(ring.subarray(0, this.len - first), first);
      this.packed = new Uint8Array(deflateRawSync(last, { level: 1 }));
    }
    this.ring = undefined;
    this.pos = 0;
    this.len = 0;
  }

  /** The parked window's bytes (to prime a fresh stream with), and the ring refilled with them. */
  unpack(): Uint8Array | undefined {
    const packed = this.packed;
    if (packed === undefined) return undefined;
    this.packed = undefined;
    const window = inflateRawSync(packed);
    this.add(window);
    return window;
  }
}

/** @internal — parks every idle engine now, as the sweep would (for tests); returns how many are still awake. */
export function parkIdleEngines(): number {
  for (const ref of awake) {
    const engine = ref.deref();
    if (engine !== undefined) engine.used = false;
  }
  sweep();
  return awake.size;
}
