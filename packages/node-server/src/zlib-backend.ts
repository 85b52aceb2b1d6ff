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
import { constants, createDeflateRaw, createInflateRaw } from 'node:zlib';
import {
  type CompressionBackend,
  type Deflater,
  type DeflaterOptions,
  type Inflater,
  InflateStatus,
} from '@rfc6455/codec';
import { History, type Parkable, touch } from './zlib-parking.js';

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

/** An inflater on a native zlib stream, parked when idle at a message boundary (see zlib-parking.ts). */
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
