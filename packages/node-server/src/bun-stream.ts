/**
 * A socket of `Bun.listen` (TCP or TLS) as a byte stream. Bun calls the
 * listener's handlers; the listener forwards them here. A write goes to the
 * kernel at once and what it could not take waits for Bun's `drain`.
 */
import { concat, RuntimeStream } from './runtime-stream.js';

/** The part of Bun's `Socket` used here (no dependency on Bun's type declarations). */
export interface BunSocket {
  /** Bytes the kernel took (possibly fewer than given; the rest is not kept), or -1 when closed. */
  write(bytes: Uint8Array): number;
  /** Half-closes (FIN) while reading goes on. */
  shutdown(halfClose?: boolean): void;
  /** Closes once what the kernel holds is sent. */
  end(): void;
  /** Closes at once. */
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay?(noDelay?: boolean): boolean;
  readonly remoteAddress: string;
  data: BunStream | undefined;
}

export class BunStream extends RuntimeStream {
  private readonly socket: BunSocket;

  constructor(socket: BunSocket) {
    super();
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress;
    socket.data = this;
  }

  /** Bun's `data` handler: a fresh buffer per call. */
  received(chunk: Uint8Array): void {
    if (this.destroyed) return;
    this.bytesRead += chunk.byteLength;
    this.emit('data', chunk);
  }

  /** Bun's `drain` handler: the kernel takes bytes again. */
  writable(): void {
    this.transmit();
  }

  /** Bun's `end` handler: the peer's FIN. */
  ended(): void {
    this.peerEnded();
  }

  /** Bun's `close` handler: the socket is gone (maybe by our own destroy). */
  closed(): void {
    this.destroy();
  }

  /** Bun's `error` handler. */
  failed(error: Error): void {
    this.fail(error);
  }

  protected transmit(): void {
    if (this.destroyed) return;
    const queue = this.queue;
    if (queue.length > 0) {
      const bytes = queue.length === 1 ? (queue[0] as Uint8Array) : concat(queue, this.writableLength);
      const n = this.socket.write(bytes);
      if (n < 0) return; // closed: Bun's close handler follows
      this.bytesWritten += n;
      if (n < bytes.byteLength) {
        this.queue = [bytes.subarray(n)];
        this.writableLength = bytes.byteLength - n;
        return;
      }
      this.queue = [];
      this.writableLength = 0;
    }
    this.flushed();
  }

  protected shutdownTransport(): void {
    this.socket.shutdown();
  }

  protected closeTransport(): void {
    // What was written is in the kernel: a graceful close sends it; bytes still queued here are dropped (Node's destroy).
    if (this.queue.length > 0) this.socket.terminate();
    else this.socket.end();
  }

  protected pauseTransport(): void {
    this.socket.pause();
  }

  protected resumeTransport(): void {
    this.socket.resume();
  }
}
