/**
 * What the Bun and Deno connections share as byte streams: Node's event
 * names and flags, the write queue behind cork/uncork and the high-water
 * mark, and the close sequence of a socket without half-open (the peer's FIN
 * ends our side once the queue is written; `close` comes when both are done).
 * Each runtime supplies how bytes reach its transport.
 *
 * Neither runtime has a vectored write, so queued chunks (a frame's header
 * and payload, a burst of small frames) are joined into one write: with
 * Nagle off each write is a TCP segment and a call into the runtime. They
 * are joined in scratch memory the runtime reuses rather than in a new
 * buffer: allocating is what costs, not copying — a fresh typed array is
 * zeroed, and on Deno each one costs about a microsecond besides.
 */
import { EventEmitter } from 'node:events';
import type { ByteStream, ByteStreamEvents } from './byte-stream.js';

/** Over this many queued bytes `write()` returns false and a `drain` follows (Node's socket default). */
const HIGH_WATER_MARK = 16 * 1024;

/**
 * Size of the scratch buffers writes are joined in. A chunk at least this
 * large goes to the transport as it is (copying it would cost more than the
 * extra write saves).
 */
export const JOIN_SIZE = 32 * 1024;

export abstract class RuntimeStream extends EventEmitter<ByteStreamEvents> implements ByteStream {
  writableLength = 0;
  writableEnded = false;
  writableNeedDrain = false;
  destroyed = false;
  readonly allowHalfOpen = false;
  remoteAddress: string | undefined;
  /** Bytes received and bytes handed to the kernel, as Node's socket counts them. */
  bytesRead = 0;
  bytesWritten = 0;
  /** Bytes waiting for the transport, oldest first, from `queue[head]` on. */
  private queue: Uint8Array[] = [];
  private head = 0;
  protected paused = false;
  /** The peer's FIN arrived. */
  protected readEnded = false;
  private corked = 0;
  private closeEmitted = false;

  write(bytes: Uint8Array): boolean {
    if (this.writableEnded || this.destroyed) return false;
    this.queue.push(bytes);
    this.writableLength += bytes.byteLength;
    if (this.corked === 0) this.transmit();
    if (this.writableLength > HIGH_WATER_MARK) {
      this.writableNeedDrain = true;
      return false;
    }
    return true;
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked > 0 && --this.corked === 0 && this.queued) this.transmit();
  }

  end(): void {
    if (this.writableEnded || this.destroyed) return;
    this.writableEnded = true;
    this.corked = 0;
    this.transmit();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.queue = [];
    this.head = 0;
    this.writableLength = 0;
    this.closeTransport();
    // Node reports 'close' on a later tick, after the caller's own bookkeeping.
    queueMicrotask(() => this.emitClose());
  }

  pause(): void {
    this.paused = true;
    this.pauseTransport();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeTransport();
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** The peer half-closed: without half-open, our side ends once the queue is written. */
  protected peerEnded(): void {
    if (this.readEnded) return;
    this.readEnded = true;
    if (this.writableEnded && this.writableLength === 0) this.destroy();
    else this.end();
  }

  /** Whether bytes wait in the queue (not counting those handed to a write still in progress). */
  protected get queued(): boolean {
    return this.head < this.queue.length;
  }

  /** Whether the next write would join chunks, in scratch memory given to {@link join}, rather than {@link shift} one. */
  protected get joins(): boolean {
    const queue = this.queue;
    const head = this.head;
    return head + 1 < queue.length && (queue[head] as Uint8Array).byteLength < JOIN_SIZE;
  }

  /** Takes the first queued chunk off the queue. */
  protected shift(): Uint8Array | undefined {
    const queue = this.queue;
    const head = this.head;
    if (head === queue.length) return undefined;
    this.advance(head + 1);
    return queue[head];
  }

  /**
   * Copies as many queued bytes into `scratch` as fit and takes them off
   * the queue (a chunk that fits only in part leaves its rest queued).
   * Returns how many it copied.
   */
  protected join(scratch: Uint8Array): number {
    const queue = this.queue;
    const size = scratch.byteLength;
    let i = this.head;
    let at = 0;
    while (i < queue.length && at < size) {
      const chunk = queue[i] as Uint8Array;
      const room = size - at;
      if (chunk.byteLength <= room) {
        scratch.set(chunk, at);
        at += chunk.byteLength;
        i++;
      } else {
        scratch.set(chunk.subarray(0, room), at);
        queue[i] = chunk.subarray(room);
        at = size;
      }
    }
    this.advance(i);
    return at;
  }

  private advance(head: number): void {
    if (head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else this.head = head;
  }

  /** Puts back, first in line, what a write did not take. */
  protected putBack(bytes: Uint8Array): void {
    if (this.head > 0) this.queue[--this.head] = bytes;
    else this.queue.unshift(bytes);
  }

  /** The transport took `n` bytes. */
  protected wrote(n: number): void {
    this.bytesWritten += n;
    this.writableLength -= n;
  }

  /** The transport took every queued byte: `drain`, and the close once both sides ended. */
  protected flushed(): void {
    if (this.writableEnded) {
      if (this.readEnded) this.destroy();
      else this.shutdownTransport();
    }
    if (this.writableNeedDrain && !this.destroyed) {
      this.writableNeedDrain = false;
      this.emit('drain');
    }
  }

  /** A transport error: `error` (to whoever listens), then `close`. */
  protected fail(error: unknown): void {
    if (this.destroyed) return;
    if (this.listenerCount('error') > 0) this.emit('error', error instanceof Error ? error : new Error(String(error)));
    this.destroy();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close');
  }

  /** Hands queued bytes to the transport (some may stay queued until it can take them). */
  protected abstract transmit(): void;
  /** Half-closes our side (FIN) after the queue was written. */
  protected abstract shutdownTransport(): void;
  protected abstract closeTransport(): void;
  protected abstract pauseTransport(): void;
  protected abstract resumeTransport(): void;
}
