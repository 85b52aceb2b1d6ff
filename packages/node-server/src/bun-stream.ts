/**
 * A socket of `Bun.listen` (TCP or TLS) as a byte stream. Bun calls the
 * listener's handlers; the listener forwards them here. A write goes to the
 * kernel at once and what it could not take waits for Bun's `drain`.
 */
import { JOIN_SIZE, RuntimeStream } from './runtime-stream.js';

/**
 * Where writes are joined, shared by every socket: Bun's `write` is done
 * with its argument when it returns (what the kernel did not take is copied
 * out before the next use).
 */
let scratch: Uint8Array | undefined;

/** The part of Bun's `Socket` used here (no dependency on Bun's type declarations). */
export interface BunSocket {
  /**
   * Bytes the kernel took of `bytes` (or of its `length` bytes from
   * `offset`): possibly fewer than given, the rest not kept; -1 when closed.
   */
  write(bytes: Uint8Array, offset?: number, length?: number): number;
  /** Half-closes (FIN) while reading goes on. */
  shutdown(halfClose?: boolean): void;
  /** Closes at once; the kernel still sends what it holds, then FIN. */
  end(): void;
  /** Closes at once with a reset: what the kernel holds is lost. */
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
    for (;;) {
      let n: number;
      let length: number;
      if (this.joins) {
        scratch ??= new Uint8Array(JOIN_SIZE);
        length = this.join(scratch);
        n = this.socket.write(scratch, 0, length);
        // What the kernel did not take waits in memory of its own: the scratch is shared.
        if (n >= 0 && n < length) this.putBack(scratch.slice(n, length));
      } else {
        const bytes = this.shift();
        if (bytes === undefined) break;
        length = bytes.byteLength;
        n = this.socket.write(bytes);
        if (n >= 0 && n < length) this.putBack(bytes.subarray(n));
      }
      if (n < 0) return; // closed: Bun's close handler follows
      this.wrote(n);
      if (n < length) return; // the rest waits for Bun's drain
    }
    this.flushed();
  }

  protected shutdownTransport(): void {
    this.socket.shutdown();
  }

  protected closeTransport(): void {
    // destroy() has dropped the queue; what the kernel took still goes out, then FIN, as with Node's
    // destroy() and Deno's close(). terminate() would reset the connection and lose those bytes too.
    this.socket.end();
  }

  protected pauseTransport(): void {
    this.socket.pause();
  }

  protected resumeTransport(): void {
    this.socket.resume();
  }
}
