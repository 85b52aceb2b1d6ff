/**
 * A `Deno.Conn` (TCP or TLS) as a byte stream. Reads run in a loop that
 * stops while paused; writes go out one at a time, what was queued
 * meanwhile joined (up to JOIN_SIZE) into the next one, so a burst of small
 * frames costs one `write` call rather than one each.
 */
import { JOIN_SIZE, RuntimeStream } from './runtime-stream.js';

/** The part of `Deno.Conn` used here (no dependency on Deno's type declarations). */
export interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
  readonly remoteAddr: { readonly hostname?: string };
}

/**
 * The read buffer's size adapts: an idle connection holds a small one while
 * its read is pending (which is always), a busy one grows it by doubling.
 * It shrinks only after this many short reads in a row: a message that
 * just overflows the buffer arrives as one full read and a short one, and
 * shrinking on that short read would make the next message do the same.
 */
const MIN_READ = 4 * 1024;
const MAX_READ = 64 * 1024;
const SHORT_READS = 16;

/**
 * Scratch buffers for joined writes, shared by every connection. A write
 * holds its buffer until its promise settles (Deno may still be reading it),
 * so each write in progress has one: as many as connections written to in
 * one turn of the event loop. Up to this many (4 MiB) are kept for reuse;
 * fewer made the bench's 50 connections allocate a third of their writes.
 */
const SCRATCH_KEPT = 128;
const scratchPool: Uint8Array[] = [];

export class DenoStream extends RuntimeStream {
  private readonly conn: DenoConn;
  private reading = false;
  private writing = false;
  private buffer = new Uint8Array(MIN_READ);
  /** Reads in a row that used under a quarter of the buffer. */
  private shortReads = 0;

  constructor(conn: DenoConn) {
    super();
    this.conn = conn;
    this.remoteAddress = conn.remoteAddr.hostname;
    void this.readLoop();
  }

  private async readLoop(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      while (!this.paused && !this.destroyed && !this.readEnded) {
        const n = await this.conn.read(this.buffer);
        if (this.destroyed) return;
        if (n === null) {
          this.peerEnded();
          return;
        }
        this.bytesRead += n;
        this.emit('data', this.take(n));
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.reading = false;
    }
  }

  /**
   * The bytes of a read, in memory nobody else will write. A read that
   * filled the buffer keeps it (the next read gets a new one, twice as large
   * up to the limit: more is likely waiting); a shorter one is copied out —
   * the copy, made by the typed-array constructor, is not zeroed first and
   * is no larger than the read — and the buffer is read into again.
   */
  private take(n: number): Uint8Array {
    const buffer = this.buffer;
    const size = buffer.byteLength;
    if (n === size) {
      this.shortReads = 0;
      this.buffer = new Uint8Array(Math.min(size * 2, MAX_READ));
      return buffer;
    }
    if (size > MIN_READ && n * 4 < size) {
      if (++this.shortReads === SHORT_READS) {
        this.shortReads = 0;
        this.buffer = new Uint8Array(size / 2);
      }
    } else this.shortReads = 0;
    return new Uint8Array(buffer.subarray(0, n));
  }

  protected transmit(): void {
    if (!this.writing) void this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (!this.destroyed) {
        let scratch: Uint8Array | undefined;
        let bytes: Uint8Array | undefined;
        if (this.joins) {
          scratch = scratchPool.pop() ?? new Uint8Array(JOIN_SIZE);
          bytes = scratch.subarray(0, this.join(scratch));
        } else bytes = this.shift();
        if (bytes === undefined) break;
        while (bytes.byteLength > 0) {
          const n = await this.conn.write(bytes);
          if (this.destroyed) return;
          this.wrote(n);
          bytes = bytes.subarray(n);
        }
        if (scratch !== undefined && scratchPool.length < SCRATCH_KEPT) scratchPool.push(scratch);
      }
    } catch (error) {
      this.writing = false;
      this.fail(error);
      return;
    }
    this.writing = false;
    if (!this.destroyed) this.flushed();
  }

  protected shutdownTransport(): void {
    this.conn.closeWrite().catch(() => this.destroy());
  }

  protected closeTransport(): void {
    try {
      this.conn.close();
    } catch {
      // already closed by the peer's reset
    }
  }

  protected pauseTransport(): void {
    // The read loop checks `paused` before its next read.
  }

  protected resumeTransport(): void {
    void this.readLoop();
  }
}
