/**
 * A `CompressionBackend` for the codec's permessage-deflate over Node's own
 * zlib (native code) instead of pako (zlib ported to JavaScript).
 *
 * The codec's interface is synchronous and pull-based: compressed input is set,
 * then output is asked for into a caller's buffer, one bounded step at a time
 * (that is what bounds a decompression bomb). Node's public zlib API is either
 * asynchronous (streams) or one-shot (`inflateRawSync`, no state across
 * messages), so neither fits. Every zlib stream object owns a native handle
 * whose `writeSync(flush, in, inOff, inLen, out, outOff, outLen)` runs one
 * zlib call and leaves `[availOut, availIn]` in the object's `_writeState`:
 * this is what Node's own `*Sync` functions loop over (`processChunkSync` in
 * lib/zlib.js, unchanged in shape from Node 12 to 22). It is internal, so the
 * backend checks for it at load (`zlibBackendAvailable`) and the server falls
 * back to pako when it is missing.
 */
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type CompressionBackend,
  type Deflater,
  type DeflaterOptions,
  type Inflater,
  InflateStatus,
} from '@rfc6455/codec';

interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
  close(): void;
  onerror: ((message: string, errno: number) => void) | undefined;
}

interface ZlibInternals {
  _handle: NativeHandle;
  _writeState: Uint32Array;
}

const { Z_NO_FLUSH, Z_SYNC_FLUSH } = constants;
const EMPTY = new Uint8Array(0);

/** Detaches the native handle and its state from a zlib stream object; the stream itself is dropped. */
function native(stream: object): { handle: NativeHandle; state: Uint32Array } {
  const z = stream as ZlibInternals;
  const handle = z._handle;
  const state = z._writeState;
  if (handle === undefined || typeof handle.writeSync !== 'function' || !(state instanceof Uint32Array)) {
    throw new Error('node:zlib internals not available');
  }
  return { handle, state };
}

/** An engine unused for one to two of these is parked. */
const PARK_AFTER_MS = 1000;
/**
 * Engines holding a native zlib stream, swept every PARK_AFTER_MS while not
 * empty. Weak: an engine whose connection is gone is collected as before.
 */
const awake = new Set<WeakRef<Parkable>>();
let sweeper: NodeJS.Timeout | undefined;

interface Parkable {
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

function touch(engine: Parkable): void {
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
class History {
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

/**
 * Why engines park: a native zlib stream is ~256 KiB for a deflater (window
 * 15, memLevel 8: window, hash chains, pending buffer) and ~39 KiB for an
 * inflater (its state and 32 KiB window), held for the connection's life when
 * context is kept. But at the end of a message (a sync flush) all of a
 * stream's state is equivalent to its window: the last 2^bits bytes of
 * uncompressed data, the bytes the peer's side also holds. A fresh stream
 * primed with them (zlib's `deflateSetDictionary` / `inflateSetDictionary`,
 * Node's `dictionary` option) continues the same stream. So each engine keeps
 * those bytes in a ring while awake, and a server-wide sweep parks engines
 * unused for 1–2 s: the native stream is closed and the window kept deflated
 * (a few KiB for text). The next use resumes from it.
 */
class ZlibInflater implements Inflater, Parkable {
  private handle: NativeHandle | undefined;
  private state: Uint32Array | undefined;
  private primed = false;
  private readonly history: History;
  private input: Uint8Array = EMPTY;
  private offset = 0;
  private available = 0;
  /**
   * At a message boundary: the codec hands 00 00 ff ff after a message's last
   * frame and then empty input once that is consumed (or reset the stream).
   * Only then is the window all of the state.
   */
  private tail = false;
  private boundary = true;
  produced = 0;
  error = '';
  private failed = false;
  used = false;
  listed = false;
  /** zlib's inflate state (~7 KiB) and window. */
  readonly cost: number;

  constructor(private readonly windowBits: number) {
    this.history = new History(1 << Math.max(9, windowBits));
    this.cost = 7 * 1024 + (1 << Math.max(9, windowBits));
    this.wake();
  }

  private wake(): void {
    const dictionary = this.history.unpack();
    // zlib's raw inflate needs at least 9 (8 is read with 9: a larger window reads any smaller one).
    const z = native(
      createInflateRaw({ windowBits: Math.max(9, this.windowBits), ...(dictionary !== undefined && { dictionary }) }),
    );
    this.handle = z.handle;
    this.state = z.state;
    this.primed = dictionary !== undefined;
    this.handle.onerror = (message) => {
      this.failed = true;
      this.error = message;
    };
  }

  park(): boolean {
    const handle = this.handle;
    if (handle === undefined) return true;
    if (this.failed) {
      // Never used again (the codec drops a failed inflater): just release it.
      this.handle = undefined;
      this.state = undefined;
      handle.close();
      return true;
    }
    if (!this.boundary) return false;
    this.history.pack();
    this.handle = undefined;
    this.state = undefined;
    handle.close();
    return true;
  }

  get pendingInput(): number {
    return this.available;
  }

  setInput(bytes: Uint8Array): void {
    this.boundary = bytes.length === 0 && this.available === 0 && (this.boundary || this.tail);
    this.tail = bytes.length === 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xff && bytes[3] === 0xff;
    this.input = bytes;
    this.offset = 0;
    this.available = bytes.length;
  }

  inflate(out: Uint8Array, at: number, room: number): InflateStatus {
    if (this.failed) return InflateStatus.Error;
    if (this.handle === undefined) this.wake();
    touch(this);
    const before = this.available;
    (this.handle as NativeHandle).writeSync(Z_NO_FLUSH, this.input, this.offset, before, out, at, room);
    if (this.failed) return InflateStatus.Error;
    const state = this.state as Uint32Array;
    const availOut = state[0] as number;
    const availIn = state[1] as number;
    this.produced = room - availOut;
    if (this.produced > 0) this.history.add(out.subarray(at, at + this.produced));
    if (this.produced > 0 || availIn !== before) this.boundary = false;
    this.offset += before - availIn;
    this.available = availIn;
    if (availIn === 0 && availOut > 0) return InflateStatus.NeedInput;
    // Input and output room both left and nothing moved: only the end of the
    // stream (a BFINAL block) stops zlib like that; Node does not report Z_STREAM_END.
    if (this.produced === 0 && availIn === before && availOut > 0) return InflateStatus.StreamEnd;
    return InflateStatus.More;
  }

  reset(): void {
    this.history.clear();
    this.failed = false;
    this.error = '';
    this.tail = false;
    this.boundary = true;
    // A primed stream's reset() would restore its dictionary: start a fresh one instead.
    if (this.primed) {
      this.handle?.close();
      this.handle = undefined;
      this.state = undefined;
    } else this.handle?.reset();
  }
}

// Compression output scratch shared by every deflater: compress() is synchronous
// and its result is valid until the next call (the codec copies it).
let scratch = new Uint8Array(64 * 1024);

/** A deflater on a native zlib stream, parked when idle (see `ZlibInflater`); every compress() ends at a sync flush, so it may always park. */
class ZlibDeflater implements Deflater, Parkable {
  private handle: NativeHandle | undefined;
  private state: Uint32Array | undefined;
  private primed = false;
  private readonly history: History;
  used = false;
  listed = false;
  /** zlib's deflate state: window and hash chains (4 × 2^windowBits), hash heads and pending buffer (4 × 2^(memLevel+7)). */
  readonly cost: number;

  constructor(private readonly options: DeflaterOptions) {
    this.history = new History(1 << options.windowBits);
    this.cost = (4 << options.windowBits) + (4 << (options.memLevel + 7));
    this.wake();
  }

  private wake(): void {
    const dictionary = this.history.unpack();
    const z = native(
      createDeflateRaw({
        windowBits: this.options.windowBits,
        level: this.options.level,
        memLevel: this.options.memLevel,
        ...(dictionary !== undefined && { dictionary }),
      }),
    );
    this.handle = z.handle;
    this.state = z.state;
    // Compressing valid input cannot fail; a failure would show as output that does not inflate.
    this.handle.onerror = () => {};
    this.primed = dictionary !== undefined;
  }

  park(): boolean {
    const handle = this.handle;
    if (handle === undefined) return true;
    this.history.pack();
    this.handle = undefined;
    this.state = undefined;
    handle.close();
    return true;
  }

  compress(bytes: Uint8Array): Uint8Array {
    if (this.handle === undefined) this.wake();
    touch(this);
    const handle = this.handle as NativeHandle;
    const state = this.state as Uint32Array;
    const bound = bytes.length + (bytes.length >>> 10) * 5 + 64;
    if (scratch.length < bound) scratch = new Uint8Array(bound + (bound >>> 2));
    let out = scratch;
    let used = 0;
    let inOff = 0;
    let inLen = bytes.length;
    for (;;) {
      const room = out.length - used;
      handle.writeSync(Z_SYNC_FLUSH, bytes, inOff, inLen, out, used, room);
      const availOut = state[0] as number;
      const availIn = state[1] as number;
      used += room - availOut;
      inOff += inLen - availIn;
      inLen = availIn;
      // zlib is done with a sync flush once it left output room unused.
      if (availOut !== 0) break;
      const bigger = new Uint8Array(out.length * 2);
      bigger.set(out.subarray(0, used));
      out = bigger;
      scratch = out;
    }
    this.history.add(bytes);
    return out.subarray(0, used);
  }

  reset(): void {
    this.history.clear();
    // A primed stream's reset() would restore its dictionary: start a fresh one instead.
    if (this.primed) {
      this.handle?.close();
      this.handle = undefined;
      this.state = undefined;
    } else this.handle?.reset();
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

/** permessage-deflate on Node's native zlib. */
export const zlibBackend: CompressionBackend = {
  name: 'node:zlib',
  createInflater: (windowBits) => new ZlibInflater(windowBits),
  createDeflater: (options) => new ZlibDeflater(options),
};

/** Whether this Node exposes the zlib internals `zlibBackend` needs (checked once). */
export const zlibBackendAvailable: boolean = (() => {
  try {
    const d = zlibBackend.createDeflater({ windowBits: 15, level: 1, memLevel: 8 });
    const packed = d.compress(new TextEncoder().encode('probe probe probe'));
    const inf = zlibBackend.createInflater(15);
    inf.setInput(packed);
    const out = new Uint8Array(64);
    inf.inflate(out, 0, 64);
    return new TextDecoder().decode(out.subarray(0, inf.produced)) === 'probe probe probe';
  } catch {
    return false;
  }
})();
