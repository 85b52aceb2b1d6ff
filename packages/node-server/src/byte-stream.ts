/**
 * The byte stream the server core runs a WebSocket on. It is the part of a
 * Node Duplex the core uses, written out so that a Node socket (or HTTP/2
 * stream) is one as it is — no wrapper, so no extra call per message on
 * Node — while the Bun and Deno listeners implement it over `Bun.listen`'s
 * and `Deno.listen`'s connections (see push-stream.ts).
 */

/** A listener the stream calls with `this` bound to the stream. */
type Listener<Args extends unknown[]> = (...args: Args) => void;

/** The events a byte stream emits, with Node's names and meanings. */
export interface ByteStreamEvents {
  /** Bytes read. The stream never reuses a chunk's memory after emitting it. */
  data: [chunk: Uint8Array];
  /** The write buffer went from over its high-water mark to empty. */
  drain: [];
  /** The peer half-closed (FIN); emitted only by a stream with `allowHalfOpen`. */
  end: [];
  /** Both directions are gone; emitted once. */
  close: [];
  /** A transport error; `close` follows. */
  error: [error: Error];
}

export interface ByteStream {
  /** Queues bytes; false once more than the high-water mark is waiting (then `drain` follows). */
  write(bytes: Uint8Array): boolean;
  /** Collects writes until `uncork()`, to hand them to the transport as one. */
  cork(): void;
  uncork(): void;
  /** Half-closes after the queued bytes are written. */
  end(): void;
  /** Closes both directions at once, dropping queued bytes. */
  destroy(): void;
  /** Stops emitting `data` (backpressure: the peer's TCP window fills). */
  pause(): void;
  resume(): void;
  isPaused(): boolean;
  /** Bytes queued and not yet handed to the kernel. */
  readonly writableLength: number;
  readonly writableEnded: boolean;
  /** A write returned false and `drain` has not followed yet. */
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
  /** Whether the peer's FIN leaves our side open (then `end` is emitted and the owner must `end()`). */
  readonly allowHalfOpen: boolean;
  /** The peer's IP address, when known. */
  readonly remoteAddress?: string | undefined;
  on<E extends keyof ByteStreamEvents>(event: E, listener: Listener<ByteStreamEvents[E]>): unknown;
  once<E extends keyof ByteStreamEvents>(event: E, listener: Listener<ByteStreamEvents[E]>): unknown;
  off<E extends keyof ByteStreamEvents>(event: E, listener: Listener<ByteStreamEvents[E]>): unknown;
}
