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

class ZlibDeflater implements Deflater {
  private readonly handle: NativeHandle;
  private readonly state: Uint32Array;

  constructor(options: DeflaterOptions) {
    const z = native(createDeflateRaw({ windowBits: options.windowBits, level: options.level, memLevel: options.memLevel }));
    this.handle = z.handle;
    this.state = z.state;
    // Compressing valid input cannot fail; a failure would show as output that does not inflate.
    this.handle.onerror = () => {};
  }

  compress(bytes: Uint8Array): Uint8Array {
    const bound = bytes.length + (bytes.length >>> 10) * 5 + 64;
    if (scratch.length < bound) scratch = new Uint8Array(bound + (bound >>> 2));
    let out = scratch;
    let used = 0;
    let inOff = 0;
    let inLen = bytes.length;
    for (;;) {
      const room = out.length - used;
      this.handle.writeSync(Z_SYNC_FLUSH, bytes, inOff, inLen, out, used, room);
      const availOut = this.state[0] as number;
      const availIn = this.state[1] as number;
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
    return out.subarray(0, used);
  }

  reset(): void {
    this.handle.reset();
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
