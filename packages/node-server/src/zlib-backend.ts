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
import { createDeflateRaw, createInflateRaw, constants } from 'node:zlib';
import { type CompressionBackend, type Deflater, type DeflaterOptions, type Inflater, InflateStatus } from '@rfc6455/codec';

interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
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

class ZlibInflater implements Inflater {
  private readonly handle: NativeHandle;
  private readonly state: Uint32Array;
  private input: Uint8Array = EMPTY;
  private offset = 0;
  private available = 0;
  produced = 0;
  error = '';
  private failed = false;

  constructor(windowBits: number) {
    // zlib's raw inflate needs at least 9 (8 is read with 9: a larger window reads any smaller one).
    const z = native(createInflateRaw({ windowBits: Math.max(9, windowBits) }));
    this.handle = z.handle;
    this.state = z.state;
    this.handle.onerror = (message) => {
      this.failed = true;
      this.error = message;
    };
  }

  get pendingInput(): number {
    return this.available;
  }

  setInput(bytes: Uint8Array): void {
    this.input = bytes;
    this.offset = 0;
    this.available = bytes.length;
  }

  inflate(out: Uint8Array, at: number, room: number): InflateStatus {
    if (this.failed) return InflateStatus.Error;
    const before = this.available;
    this.handle.writeSync(Z_NO_FLUSH, this.input, this.offset, before, out, at, room);
    if (this.failed) return InflateStatus.Error;
    const availOut = this.state[0] as number;
    const availIn = this.state[1] as number;
    this.produced = room - availOut;
    this.offset += before - availIn;
    this.available = availIn;
    if (availIn === 0 && availOut > 0) return InflateStatus.NeedInput;
    // Input and output room both left and nothing moved: only the end of the
    // stream (a BFINAL block) stops zlib like that; Node does not report Z_STREAM_END.
    if (this.produced === 0 && availIn === before && availOut > 0) return InflateStatus.StreamEnd;
    return InflateStatus.More;
  }

  reset(): void {
    this.handle.reset();
    this.failed = false;
    this.error = '';
  }
}

// Compression output scratch shared by every deflater: compress() is synchronous
// and its result is valid until the next call (the codec copies it).
let scratch = new Uint8Array(64 * 1024);

/** A deflater unused for one to two of these is parked. */
const PARK_AFTER_MS = 1000;
/** Deflaters holding a native zlib stream; swept every PARK_AFTER_MS while not empty. */
const awake = new Set<ZlibDeflater>();
let sweeper: NodeJS.Timeout | undefined;

function sweep(): void {
  for (const d of awake) {
    if (d.used) d.used = false;
    else {
      d.park();
      awake.delete(d);
    }
  }
  if (awake.size === 0) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/**
 * A deflater on a native zlib stream that is parked when idle.
 *
 * zlib's deflate state is ~256 KiB at window 15 / memLevel 8 (window, hash
 * chains, pending buffer), and with context takeover a connection must keep it
 * for as long as it lives. But every `compress()` ends with a sync flush, so
 * between calls all that state is equivalent to the last 2^windowBits bytes of
 * input: a fresh stream primed with them (`deflateSetDictionary`, Node's
 * `dictionary` option) may refer to exactly the bytes the peer's inflater
 * still holds. So the deflater keeps those bytes in a ring while awake, and a
 * server-wide sweep parks deflaters unused for ~1–2 s: the native stream is
 * closed and only the bytes are kept (at most 2^windowBits, fewer if fewer were
 * ever sent). The next `compress()` resumes from them.
 */
class ZlibDeflater implements Deflater {
  private handle: NativeHandle | undefined;
  private state: Uint32Array | undefined;
  /** Whether the live stream was primed with a dictionary (its reset() would restore it). */
  private primed = false;
  /** The last input bytes, as a ring of 2^windowBits while awake. */
  private ring: Uint8Array | undefined;
  private ringPos = 0;
  private ringLen = 0;
  /** While parked: the last input bytes in order (undefined: none). */
  private parked: Uint8Array | undefined;
  /** Set by compress(), cleared by the sweep. */
  used = false;

  constructor(private readonly options: DeflaterOptions) {
    this.wake();
  }

  private wake(): void {
    const dictionary = this.parked;
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
    this.parked = undefined;
    this.ringPos = 0;
    this.ringLen = 0;
    if (dictionary !== undefined) this.remember(dictionary);
  }

  /** @internal — run by the sweep: closes the native stream, keeping only the window's bytes. */
  park(): void {
    const handle = this.handle;
    if (handle === undefined) return;
    const ring = this.ring;
    let last: Uint8Array | undefined;
    if (ring !== undefined && this.ringLen > 0) {
      last = new Uint8Array(this.ringLen);
      const start = (this.ringPos - this.ringLen + ring.length) % ring.length;
      const first = Math.min(this.ringLen, ring.length - start);
      last.set(ring.subarray(start, start + first));
      last.set(ring.subarray(0, this.ringLen - first), first);
    }
    this.parked = last;
    this.ring = undefined;
    this.handle = undefined;
    this.state = undefined;
    handle.close();
  }

  private remember(bytes: Uint8Array): void {
    const size = 1 << this.options.windowBits;
    const ring = (this.ring ??= new Uint8Array(size));
    let input = bytes;
    if (input.length >= size) input = input.subarray(input.length - size);
    const first = Math.min(input.length, size - this.ringPos);
    ring.set(input.subarray(0, first), this.ringPos);
    ring.set(input.subarray(first), 0);
    this.ringPos = (this.ringPos + input.length) % size;
    this.ringLen = Math.min(size, this.ringLen + input.length);
  }

  compress(bytes: Uint8Array): Uint8Array {
    if (this.handle === undefined) this.wake();
    const handle = this.handle as NativeHandle;
    const state = this.state as Uint32Array;
    if (!this.used) {
      this.used = true;
      awake.add(this);
      if (sweeper === undefined) {
        sweeper = setInterval(sweep, PARK_AFTER_MS);
        sweeper.unref();
      }
    }
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
    this.remember(bytes);
    return out.subarray(0, used);
  }

  reset(): void {
    this.ringPos = 0;
    this.ringLen = 0;
    this.parked = undefined;
    // A primed stream's reset() would restore its dictionary: start a fresh one instead.
    if (this.primed) this.park();
    else this.handle?.reset();
  }
}

/** @internal — parks every idle deflater now, as the sweep would (for tests). */
export function parkIdleDeflaters(): void {
  for (const d of awake) d.used = false;
  sweep();
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
