/**
 * permessage-deflate compression on libuv's thread pool: the codec's async
 * deflater over Node's public zlib streams, whose work runs off the event
 * loop. A server compressing on its event loop uses one core; with this, the
 * event loop only frames and writes while the pool's threads (4 by default,
 * `UV_THREADPOOL_SIZE`) compress, so a server uses every core it has.
 * Decompression stays on the synchronous backend (see the codec's
 * permessage-deflate for why).
 *
 * Each connection's deflater runs one compression at a time, in order (its
 * context is one DEFLATE stream); different connections compress in
 * parallel. Idle deflaters are parked like the synchronous ones.
 */
import { constants, createDeflateRaw, type DeflateRaw } from 'node:zlib';
import type { AsyncDeflater, CompressionBackend, DeflaterOptions } from '@rfc6455/codec';
import { zlibBackend } from './zlib-backend.js';
import { History, type Parkable, touch } from './zlib-parking.js';

type Done = (result: Uint8Array | Error) => void;
interface Job {
  readonly bytes: Uint8Array;
  readonly done: Done;
}
/** A reset waits in the queue like a compression: it applies after the calls made before it. */
const RESET = 'reset';

class ThreadPoolDeflater implements AsyncDeflater, Parkable {
  private stream: DeflateRaw | undefined;
  private readonly history: History;
  private readonly queue: (Job | typeof RESET)[] = [];
  private running: Job | undefined;
  /** Output of the running compression, in the pieces the stream emitted. */
  private pieces: Buffer[] = [];
  private failure: Error | undefined;
  used = false;
  listed = false;
  readonly cost: number;

  constructor(private readonly options: DeflaterOptions) {
    this.history = new History(1 << options.windowBits);
    // zlib's deflate state (see ZlibDeflater) and the stream's 16 KiB output chunk.
    this.cost = (4 << options.windowBits) + (4 << (options.memLevel + 7)) + 16 * 1024;
  }

  compress(bytes: Uint8Array, done: Done): void {
    this.queue.push({ bytes, done });
    this.next();
  }

  reset(): void {
    this.queue.push(RESET);
    this.next();
  }

  park(): boolean {
    if (this.running !== undefined) return false;
    const stream = this.stream;
    if (stream === undefined) return true;
    this.history.pack();
    this.stream = undefined;
    stream.close();
    return true;
  }

  private next(): void {
    while (this.running === undefined && this.queue.length > 0) {
      const job = this.queue.shift() as Job | typeof RESET;
      if (job === RESET) {
        this.history.clear();
        // A stream primed with a dictionary would restore it on reset(): start a fresh one.
        this.stream?.close();
        this.stream = undefined;
        continue;
      }
      if (this.failure !== undefined) {
        job.done(this.failure);
        continue;
      }
      this.running = job;
      const stream = this.stream ?? this.wake();
      touch(this);
      // Every write ends with a sync flush (the stream's default flush), so one trip to the pool per message.
      stream.write(job.bytes, this.written);
    }
  }

  private wake(): DeflateRaw {
    const dictionary = this.history.unpack();
    const stream = createDeflateRaw({
      windowBits: this.options.windowBits,
      level: this.options.level,
      memLevel: this.options.memLevel,
      flush: constants.Z_SYNC_FLUSH,
      ...(dictionary !== undefined && { dictionary }),
    });
    stream.on('data', this.collect);
    stream.on('error', this.failed);
    this.stream = stream;
    return stream;
  }

  private readonly collect = (piece: Buffer): void => {
    this.pieces.push(piece);
  };

  /** The write's callback: its output was emitted before it. */
  private readonly written = (error?: Error | null): void => {
    const job = this.running;
    if (job === undefined) return;
    if (error) {
      this.failed(error);
      return;
    }
    const pieces = this.pieces;
    this.pieces = [];
    this.running = undefined;
    this.history.add(job.bytes);
    job.done(pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces));
    this.next();
  };

  /** A zlib error (it does not happen for valid input; memory exhaustion would): this and every later call fail. */
  private readonly failed = (error: Error): void => {
    this.failure ??= error;
    this.stream?.destroy();
    this.stream = undefined;
    const job = this.running;
    this.running = undefined;
    this.pieces = [];
    job?.done(this.failure);
    this.next();
  };
}

/**
 * `zlibBackend` with compression on the thread pool: pass it as
 * `perMessageDeflate: { backend: zlibThreadPoolBackend }`.
 */
export const zlibThreadPoolBackend: CompressionBackend = {
  name: 'node:zlib (thread pool)',
  createInflater: zlibBackend.createInflater,
  createDeflater: zlibBackend.createDeflater,
  createAsyncDeflater: (options) => new ThreadPoolDeflater(options),
};
