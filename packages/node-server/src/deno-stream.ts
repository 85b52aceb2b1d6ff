/**
 * A `Deno.Conn` (TCP or TLS) as a byte stream. Reads run in a loop that
 * stops while paused; writes go out one at a time, everything queued
 * meanwhile joined into the next one, so a burst of small frames costs one
 * `write` call rather than one each.
 */
import { concat, RuntimeStream } from './runtime-stream.js';

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
 */
const MIN_READ = 4 * 1024;
const MAX_READ = 64 * 1024;

export class DenoStream extends RuntimeStream {
  private readonly conn: DenoConn;
  private reading = false;
  private writing = false;
  private buffer = new Uint8Array(MIN_READ);

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
   * The bytes of a read, in memory nobody else will write: a read that
   * filled at least half the buffer keeps it (a new one is made, twice as
   * large if it was full); a shorter one is copied out and the buffer kept,
   * halved when mostly unused.
   */
  private take(n: number): Uint8Array {
    const buffer = this.buffer;
    const size = buffer.byteLength;
    if (n * 2 >= size) {
      this.buffer = new Uint8Array(n === size ? Math.min(size * 2, MAX_READ) : size);
      return buffer.subarray(0, n);
    }
    if (size > MIN_READ && n * 4 < size) this.buffer = new Uint8Array(size / 2);
    return buffer.slice(0, n);
  }

  protected transmit(): void {
    if (!this.writing) void this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0 && !this.destroyed) {
        const chunks = this.queue;
        this.queue = [];
        let total = 0;
        for (const c of chunks) total += c.byteLength;
        let bytes = chunks.length === 1 ? (chunks[0] as Uint8Array) : concat(chunks, total);
        while (bytes.byteLength > 0) {
          const n = await this.conn.write(bytes);
          if (this.destroyed) return;
          this.bytesWritten += n;
          bytes = bytes.subarray(n);
        }
        this.writableLength -= total;
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
