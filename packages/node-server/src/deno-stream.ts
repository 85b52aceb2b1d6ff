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

/** Bytes read at once; a short read is copied out, so the buffer is reused. */
const READ_SIZE = 64 * 1024;
/** A read at least this long keeps its buffer (no copy) and a new one is made. */
const HAND_OVER = 16 * 1024;

export class DenoStream extends RuntimeStream {
  private readonly conn: DenoConn;
  private reading = false;
  private writing = false;
  private buffer = new Uint8Array(READ_SIZE);

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
        let chunk: Uint8Array;
        if (n >= HAND_OVER) {
          chunk = this.buffer.subarray(0, n);
          this.buffer = new Uint8Array(READ_SIZE);
        } else {
          chunk = this.buffer.slice(0, n);
        }
        this.emit('data', chunk);
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.reading = false;
    }
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
