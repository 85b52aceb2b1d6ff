/**
 * The raw-DEFLATE engine behind permessage-deflate, as a small interface so a
 * runtime with a faster native zlib (e.g. a Node adapter over `node:zlib`) can
 * plug its own in, and the default implementation over pako's zlib port,
 * which is pure JavaScript and so runs in every runtime the codec supports.
 *
 * The interface is pull-based on purpose: the caller hands over compressed
 * input and then asks for output into a buffer of its choosing, one bounded
 * step at a time. That is what lets the message size limit apply to inflated
 * bytes as they are produced, so a decompression bomb costs at most one step
 * of output beyond the limit, never the whole expansion.
 */
import {
  Z_BUF_ERROR,
  Z_DEFAULT_STRATEGY,
  Z_NO_FLUSH,
  Z_OK,
  Z_STREAM_END,
  Z_SYNC_FLUSH,
  ZStream,
  zlibDeflate,
  zlibDeflateInit2,
  zlibDeflateReset,
  zlibInflate,
  zlibInflateInit2,
  zlibInflateReset,
} from 'pako';

/** Outcome of one {@link Inflater.inflate} step. */
export const InflateStatus = {
  /** Output was produced or input remains: call again. */
  More: 0,
  /** All input given so far is consumed and all its output delivered. */
  NeedInput: 1,
  /** The stream ended with a BFINAL block; the rest of the input (if any) is untouched. */
  StreamEnd: 2,
  /** The input is not valid DEFLATE data; see `error`. */
  Error: 3,
} as const;
export type InflateStatus = (typeof InflateStatus)[keyof typeof InflateStatus];

/** A raw-DEFLATE decompressor with state across calls (the LZ77 window). */
export interface Inflater {
  /** Supplies compressed input; the inflater reads it in place until it is consumed. */
  setInput(bytes: Uint8Array): void;
  /** Compressed input bytes not consumed yet. */
  readonly pendingInput: number;
  /**
   * Decompresses into `out[at, at + room)`. Returns the status; `produced`
   * says how many bytes were written.
   */
  inflate(out: Uint8Array, at: number, room: number): InflateStatus;
  readonly produced: number;
  /** Why the last step failed. */
  readonly error: string;
  /**
   * Forgets the window: the next input byte starts a new stream. Input not
   * consumed yet is kept (it may follow a BFINAL block in the same message).
   */
  reset(): void;
}

/** A raw-DEFLATE compressor with state across calls. */
export interface Deflater {
  /**
   * Compresses `bytes` and ends with a sync flush, so everything so far can
   * be decoded by the peer and the output ends with `00 00 ff ff`. Returns a
   * view that is valid until the next call on any deflater of this backend
   * (the caller copies what it keeps).
   */
  compress(bytes: Uint8Array): Uint8Array;
  /** Forgets the window: the next output does not refer to earlier input. */
  reset(): void;
}

/**
 * A compressor whose work runs off the calling thread (a native thread pool,
 * a worker): a connection's compression then costs its event loop nothing but
 * the hand-off, and a server uses more than one core. The codec uses one only
 * when the endpoint can take output later (its `onOutgoing` option is set).
 */
export interface AsyncDeflater {
  /**
   * Compresses `bytes` and ends with a sync flush, as {@link Deflater.compress}
   * does, and calls `done` with the output (the caller's to keep) or with an
   * Error. Calls complete in the order they were made, never before
   * `compress` returns. `bytes` must stay unchanged until then.
   */
  compress(bytes: Uint8Array, done: (result: Uint8Array | Error) => void): void;
  /** Forgets the window once the calls made so far are done. */
  reset(): void;
}

export interface DeflaterOptions {
  /** LZ77 window, 9–15 (zlib cannot produce a raw stream with 8). */
  readonly windowBits: number;
  /** 0 (store) – 9 (best). */
  readonly level: number;
  /** 1–9: memory for the match finder and the symbol buffer. */
  readonly memLevel: number;
}

export interface CompressionBackend {
  readonly name: string;
  /** An inflater for a peer whose window is at most 2^windowBits bytes (8–15). */
  createInflater(windowBits: number): Inflater;
  createDeflater(options: DeflaterOptions): Deflater;
  /**
   * Optional: a compressor that works off the calling thread. An endpoint
   * with an `onOutgoing` callback compresses its messages through it; every
   * other user (an endpoint without one, the broadcast pre-encoder) keeps
   * the synchronous `createDeflater`.
   */
  createAsyncDeflater?(options: DeflaterOptions): AsyncDeflater;
}

// Shared output scratch for deflate: compression is synchronous, so one
// buffer serves every connection and per-connection memory stays small.
let deflateScratch = new Uint8Array(64 * 1024);

class PakoInflater implements Inflater {
  private readonly strm = new ZStream();
  produced = 0;
  error = '';

  constructor(windowBits: number) {
    const status = zlibInflateInit2(this.strm, -windowBits);
    if (status !== Z_OK) throw new RangeError(`cannot inflate with a window of ${windowBits} bits`);
  }

  get pendingInput(): number {
    return this.strm.avail_in;
  }

  setInput(bytes: Uint8Array): void {
    const s = this.strm;
    s.input = bytes;
    s.next_in = 0;
    s.avail_in = bytes.length;
  }

  inflate(out: Uint8Array, at: number, room: number): InflateStatus {
    const s = this.strm;
    // pako types its output as an ArrayBuffer-backed array; ours always is, or it is never written through a copy.
    s.output = out as Uint8Array<ArrayBuffer>;
    s.next_out = at;
    s.avail_out = room;
    const status = zlibInflate(s, Z_NO_FLUSH);
    this.produced = s.next_out - at;
    if (status === Z_STREAM_END) return InflateStatus.StreamEnd;
    if (status === Z_OK || status === Z_BUF_ERROR) {
      // Output space left over with no input left: everything given has been decoded.
      return s.avail_in === 0 && s.avail_out > 0 ? InflateStatus.NeedInput : InflateStatus.More;
    }
    this.error = s.msg || `inflate failed (${status})`;
    return InflateStatus.Error;
  }

  reset(): void {
    zlibInflateReset(this.strm);
    this.error = '';
  }
}

class PakoDeflater implements Deflater {
  private readonly strm = new ZStream();

  constructor(options: DeflaterOptions) {
    const status = zlibDeflateInit2(
      this.strm,
      options.level,
      8,
      -options.windowBits,
      options.memLevel,
      Z_DEFAULT_STRATEGY,
    );
    if (status !== Z_OK)
      throw new RangeError(
        `cannot deflate with window ${options.windowBits}, level ${options.level}, memLevel ${options.memLevel}`,
      );
  }

  compress(bytes: Uint8Array): Uint8Array {
    const s = this.strm;
    s.input = bytes;
    s.next_in = 0;
    s.avail_in = bytes.length;
    // Worst case of a stored block per 64 KiB plus the flush marker.
    const bound = bytes.length + (bytes.length >>> 10) * 5 + 64;
    if (deflateScratch.length < bound) deflateScratch = new Uint8Array(bound + (bound >>> 2));
    let out = deflateScratch;
    let used = 0;
    for (;;) {
      s.output = out as Uint8Array<ArrayBuffer>;
      s.next_out = used;
      s.avail_out = out.length - used;
      zlibDeflate(s, Z_SYNC_FLUSH);
      used = s.next_out;
      // zlib asks to be called again while it filled the whole output.
      if (s.avail_out !== 0) break;
      const bigger = new Uint8Array(out.length * 2);
      bigger.set(out.subarray(0, used));
      out = bigger;
      deflateScratch = out;
    }
    s.input = EMPTY;
    return out.subarray(0, used);
  }

  reset(): void {
    zlibDeflateReset(this.strm);
  }
}

const EMPTY = new Uint8Array(0);

/** The default backend: pako's JavaScript port of zlib. */
export const pakoBackend: CompressionBackend = {
  name: 'pako',
  createInflater: (windowBits) => new PakoInflater(windowBits),
  createDeflater: (options) => new PakoDeflater(options),
};
