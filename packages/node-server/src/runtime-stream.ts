/**
 * What the Bun and Deno connections share as byte streams: Node's event
 * names and flags, the write queue behind cork/uncork and the high-water
 * mark, and the close sequence of a socket without half-open (the peer's FIN
 * ends our side once the queue is written; `close` comes when both are done).
 * Each runtime supplies how bytes reach its transport.
 */
import { EventEmitter } from 'node:events';
import type { ByteStream, ByteStreamEvents } from './byte-stream.js';

/** Over this many queued bytes `write()` returns false and a `drain` follows (Node's socket default). */
const HIGH_WATER_MARK = 16 * 1024;

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
  /** Bytes waiting for the transport, oldest first. */
  protected queue: Uint8Array[] = [];
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
    if (this.corked > 0 && --this.corked === 0 && this.queue.length > 0) this.transmit();
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
    if (this.writableEnded && this.queue.length === 0) this.destroy();
    else this.end();
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

/** One buffer holding the chunks in order (one write instead of many). */
export function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
