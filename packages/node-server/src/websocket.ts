/**
 * One accepted WebSocket connection on a Node socket or HTTP/2 stream.
 *
 * The adapter is a loop around the codec's `ServerEndpoint`: every `data` chunk
 * goes to `receive()`, every event is dispatched, and everything the codec
 * queued (replies, pongs, close frames, messages sent by listeners) leaves in
 * one write (`cork`/`uncork`, i.e. a single `writev`). All protocol logic stays
 * in the codec; this file only moves bytes, runs timers and applies the
 * backpressure policy.
 */
import { EventEmitter } from 'node:events';
import { type EndpointEvent, type ServerEndpoint, type TextAs, UsageError } from '@rfc6455/codec';
import type { PreEncodedMessage } from '@rfc6455/codec/frames';
import { type StreamPosition, TOPICS_SUBPROTOCOL, TopicsUsageError } from '@rfc6455/topics';
import type { ByteStream } from './byte-stream.js';
import type { Clock, TimerHandle } from './clock.js';
import type { TopicsLink } from './topics.js';
import { abortTransport, HTTP1, type Transport } from './transport.js';

export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

/** What to do when a send would push `bufferedAmount` past `maxBufferedAmount`. */
export type OverflowPolicy = 'close' | 'drop';

/** Settings shared by every connection of a server (see `ServerOptions`). */
export interface ConnectionSettings {
  /** The server's clock (`CoreOptions.clock`), for the close timer. */
  readonly clock: Clock;
  readonly closeTimeout: number;
  readonly maxBufferedAmount: number;
  readonly onBufferOverflow: OverflowPolicy;
  readonly readPauseThreshold: number;
}

/** Options of `ws.subscribe()`. */
export interface SubscribeOptions {
  /** Continue after this position (the last publication the client holds): what it missed is sent first. */
  readonly since?: StreamPosition;
}

/** Data accepted by `send()`. */
export type SendData = string | Uint8Array | ArrayBuffer;

/** How `send()` frames its data. */
export interface SendOptions {
  /**
   * Default: a string is sent as text, bytes as binary. `false` sends bytes
   * as a text message: they must be UTF-8 (checked natively, never decoded
   * or re-encoded; invalid bytes throw `UsageError` `ERR_INVALID_ARGUMENT`).
   * `true` sends a string's UTF-8 bytes as binary.
   */
  readonly binary?: boolean;
}

/** A source for `sendStream()`: chunks are sent as they come, never gathered. */
export type StreamSource =
  | AsyncIterable<string | Uint8Array>
  | Iterable<string | Uint8Array>
  | ReadableStream<string | Uint8Array>;

/** The events a `WebSocket` emits and their arguments. */
export interface WebSocketEvents {
  message: [data: string | Buffer, isBinary: boolean];
  'message-part': [data: string | Buffer, isBinary: boolean, last: boolean];
  close: [code: number, reason: string];
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  drain: [];
}

/** Raised (as an `error` event) when the peer broke the protocol; `closeCode` is the close code sent. */
export class WebSocketProtocolError extends Error {
  constructor(
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'WebSocketProtocolError';
  }
}

const EMPTY = Buffer.alloc(0);

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A text event's data as the `message` event gives it: a string, or (`textAs: 'bytes'`) a Buffer. */
function textData(data: string | Uint8Array): string | Buffer {
  return typeof data === 'string' ? data : toBuffer(data);
}

/** The data message `send()` makes of `data`, given its `binary` option. */
function toMessage(data: string | Uint8Array, binary: boolean | undefined): DataMessage {
  if (typeof data === 'string')
    return binary === true ? { type: 'binary', data: Buffer.from(data) } : { type: 'text', data };
  return binary === false ? { type: 'text', data } : { type: 'binary', data };
}

/** A message as `send()` hands it to the codec. */
type DataMessage =
  | { readonly type: 'text'; readonly data: string | Uint8Array }
  | { readonly type: 'binary'; readonly data: Uint8Array };

/**
 * A server-side WebSocket. Events: `message` (data, isBinary) — text arrives
 * as a string (a Buffer of validated UTF-8 with `textAs: 'bytes'`), binary as
 * a Buffer; `message-part` (data, isBinary, last) with
 * `messageMode: 'parts'`; `close` (code, reason), emitted exactly once;
 * `error` (only emitted when a listener is attached: a connection never throws
 * into the process for what the peer did); `ping`, `pong`, `drain`.
 */
export class WebSocket<Data = unknown> extends EventEmitter<WebSocketEvents> {
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  /** The subprotocol chosen in the handshake, or '' for none. */
  readonly protocol: string;
  /** The `Sec-WebSocket-Extensions` value the server accepted ('' for none). */
  readonly extensions: string;
  /** Whatever the upgrade hook attached. */
  data: Data;
  /** For the heartbeat: set when anything arrives, cleared when a ping is sent. */
  isAlive = true;

  /**
   * How it reached the server: an HTTP/1.1 upgrade or an HTTP/2 stream.
   * `{ type: 'http1' }`, or `{ type: 'http2', streamId, session }` for an
   * extended CONNECT (RFC 8441); WebSockets on one HTTP/2 connection share
   * `session`.
   */
  readonly transport: Transport;
  /** @internal — a TCP/TLS socket, an HTTP/2 stream, or a Bun/Deno connection. */ readonly socket: ByteStream;
  /** @internal — the codec endpoint this connection runs (the broadcast reads its encoding). */
  readonly endpoint: ServerEndpoint<TextAs>;
  /** @internal — the server's topics, set by `WebSocketServer` before `connection`. */
  topicsLink: TopicsLink<WebSocket<Data>> | undefined;
  private readonly settings: ConnectionSettings;
  private state: 1 | 2 | 3 = OPEN;
  private dispatching = false;
  private readPaused = false;
  private streaming = false;
  /** Sends made while a stream is being sent; created on first use (most connections never stream). */
  private deferred: Array<() => void> | undefined;
  private closeTimer: TimerHandle | undefined;
  private closeEmitted = false;
  private transportEnded = false;

  /** @internal — created by `WebSocketServer` once its endpoint accepted the request. */
  constructor(
    socket: ByteStream,
    endpoint: ServerEndpoint<TextAs>,
    settings: ConnectionSettings,
    extensions: string,
    data: Data,
    transport: Transport = HTTP1,
  ) {
    super();
    this.socket = socket;
    this.transport = transport;
    this.endpoint = endpoint;
    this.settings = settings;
    this.protocol = endpoint.protocol ?? '';
    this.extensions = extensions;
    this.data = data;
    // Shared listener functions that find this object on the socket: no
    // closures per connection (see "Memory" in the README).
    (socket as OwnedSocket)[OWNER] = this as WebSocket<unknown>;
    socket.on('data', socketData);
    socket.on('drain', socketDrain);
    socket.on('close', socketClose);
    socket.on('error', socketError);
    // Without allowHalfOpen (our own listener) Node ends our side when the
    // peer's FIN arrives; only half-open sockets (http's, and HTTP/2 streams,
    // whose END_STREAM plays FIN) need to be told.
    if (socket.allowHalfOpen) socket.on('end', socketEnd);
  }

  /** 1 (OPEN), 2 (CLOSING) or 3 (CLOSED): a WebSocket exists only once its handshake is done. */
  get readyState(): 1 | 2 | 3 {
    return this.state;
  }

  /** Bytes accepted by `send()` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength + this.endpoint.bufferedAmount;
  }

  get remoteAddress(): string | undefined {
    const transport = this.transport;
    return transport.type === 'http1' ? this.socket.remoteAddress : transport.session.socket?.remoteAddress;
  }

  /**
   * Sends a message: a string as text, bytes as binary (or as text with
   * `binary: false`, e.g. a `textAs: 'bytes'` message passed on). Payloads
   * given as bytes over the codec's copy threshold are written by reference:
   * don't modify them until 'drain'.
   * Returns false when the caller should wait for 'drain' (the buffer is over
   * the read-pause threshold), when the message was dropped by the
   * backpressure policy, or when the connection is no longer open (the message
   * is then silently discarded, as a closed socket would).
   */
  send(data: SendData, options?: SendOptions): boolean {
    if (this.state !== OPEN) return false;
    if (this.streaming) {
      (this.deferred ??= []).push(() => this.send(data, options));
      return false;
    }
    const message = toMessage(
      typeof data === 'string' || data instanceof Uint8Array ? data : new Uint8Array(data),
      options?.binary,
    );
    const size = typeof message.data === 'string' ? this.textFrameBytes(message.data) : frameBytes(message.data.length);
    if (!this.admit(size)) return false;
    this.endpoint.send(message);
    return this.afterSend();
  }

  /**
   * Streams one message from chunks (strings for text, bytes for binary) as
   * fragments while they are produced, waiting for 'drain' whenever the socket
   * buffer is over the read-pause threshold, so the message is never held in
   * memory whole. Other sends made meanwhile are queued until it ends.
   * Resolves when the last fragment is handed to the socket; rejects if the
   * connection closes first.
   */
  async sendStream(source: StreamSource, options: { binary?: boolean } = {}): Promise<void> {
    if (this.state !== OPEN) throw new UsageError('ERR_SEND_AFTER_CLOSE', 'the connection is not open');
    if (this.streaming) throw new UsageError('ERR_MESSAGE_INTERLEAVED', 'another stream is being sent');
    const binary = options.binary ?? true;
    // Byte chunks of text may end inside a code point: the decoder keeps the
    // partial sequence for the next chunk instead of sending U+FFFD for it. A
    // leading U+FEFF is the application's text, not a byte order mark to drop.
    const decoder = binary ? undefined : new TextDecoder('utf-8', { ignoreBOM: true });
    this.streaming = true;
    try {
      for await (const chunk of iterate(source)) {
        if (this.state !== OPEN)
          throw new UsageError('ERR_SEND_AFTER_CLOSE', 'the connection closed during the stream');
        if (decoder === undefined) this.sendBinaryFragment(chunk, false);
        else this.sendTextFragment(decodeChunk(decoder, chunk), false);
        if (this.socket.writableLength > this.settings.readPauseThreshold) await this.waitDrain();
      }
      if (this.state !== OPEN) throw new UsageError('ERR_SEND_AFTER_CLOSE', 'the connection closed during the stream');
      if (decoder === undefined) this.sendBinaryFragment(EMPTY, true);
      else this.sendTextFragment(decoder.decode(), true);
    } finally {
      this.streaming = false;
      const pending = this.deferred;
      this.deferred = undefined;
      if (pending !== undefined) for (const run of pending) run();
    }
  }

  /** Sends a ping (payload ≤125 bytes). */
  ping(data?: Uint8Array | string): void {
    if (this.state !== OPEN) return;
    this.endpoint.send({ type: 'ping', data: data ?? EMPTY });
    this.flushIfIdle();
  }

  /** Sends an unsolicited pong. */
  pong(data?: Uint8Array | string): void {
    if (this.state !== OPEN) return;
    this.endpoint.send({ type: 'pong', data: data ?? EMPTY });
    this.flushIfIdle();
  }

  /**
   * Starts the closing handshake. Throws `UsageError` for a code that may not
   * be sent or a reason over 123 bytes. If the peer doesn't answer within
   * `closeTimeout`, the socket is destroyed ('close' then reports 1006).
   */
  close(code?: number, reason?: string): void {
    if (this.state !== OPEN) return;
    this.endpoint.send(code === undefined ? { type: 'close' } : { type: 'close', code, reason: reason ?? '' });
    this.state = CLOSING;
    this.deferred = undefined;
    this.armCloseTimer();
    this.flushIfIdle();
  }

  /**
   * Subscribes this connection to `topic` on the server's topics hub. Its
   * publications arrive as `rfc6455.topics.v1` publication envelopes (binary
   * messages), after a `subscribed` envelope that answers this call: with
   * `since`, the publications after it (`recovered: true`), or
   * `recovered: false` when they are no longer kept. Subscribing again
   * resubscribes. Throws `TopicsUsageError` for an ill-formed topic or
   * position; does nothing once the connection is closing.
   */
  subscribe(topic: string, options: SubscribeOptions = {}): void {
    this.requireTopics().subscribe(this, topic, options.since);
  }

  /** Leaves `topic`; nothing is sent to the client. */
  unsubscribe(topic: string): void {
    this.requireTopics().unsubscribe(this, topic);
  }

  /** The topics this connection is subscribed to. */
  get topics(): string[] {
    return this.topicsLink?.topicsOf(this) ?? [];
  }

  private requireTopics(): TopicsLink<WebSocket<Data>> {
    if (this.topicsLink === undefined) {
      throw new TopicsUsageError('ERR_INVALID_STATE', 'this WebSocket does not belong to a WebSocketServer');
    }
    return this.topicsLink;
  }

  /** Destroys the socket (resets the HTTP/2 stream with CANCEL) at once, without a closing handshake. */
  terminate(): void {
    if (this.transportEnded) return;
    abortTransport(this.socket);
  }

  /**
   * @internal — sends a message encoded once for many connections
   * (broadcast). Honours the streaming state and the backpressure policy.
   * Returns false when the message was not sent (connection not open, or over
   * the limit).
   */
  sendPreEncoded(message: PreEncodedMessage): boolean {
    if (this.state !== OPEN) return false;
    if (this.streaming) {
      (this.deferred ??= []).push(() => this.sendPreEncoded(message));
      return true;
    }
    if (!this.admit(message.byteLength)) return false;
    this.endpoint.send({ type: 'pre-encoded', message });
    this.flushIfIdle();
    return true;
  }

  // ---- hot loop ------------------------------------------------------------

  /** @internal */
  onData(chunk: Uint8Array): void {
    this.isAlive = true;
    this.endpoint.receive(chunk);
    this.dispatchAll();
  }

  /** @internal — writes the 101 and handles what the client sent right behind its request. */
  start(): void {
    this.dispatchAll();
  }

  private dispatchAll(): void {
    this.dispatching = true;
    try {
      for (let ev = this.endpoint.nextEvent(); ev !== undefined; ev = this.endpoint.nextEvent()) this.dispatch(ev);
    } finally {
      this.dispatching = false;
      this.flush();
    }
  }

  private dispatch(ev: EndpointEvent): void {
    switch (ev.type) {
      case 'text':
        this.emit('message', textData(ev.data), false);
        return;
      case 'binary':
        // A client that negotiated the topics subprotocol talks to the topics layer, not the application.
        if (this.protocol === TOPICS_SUBPROTOCOL && this.topicsLink !== undefined)
          this.topicsLink.receive(this, ev.data);
        else this.emit('message', toBuffer(ev.data), true);
        return;
      case 'text-part':
        this.emit('message-part', textData(ev.data), false, ev.last);
        return;
      case 'binary-part':
        this.emit('message-part', toBuffer(ev.data), true, ev.last);
        return;
      case 'ping':
        this.emit('ping', toBuffer(ev.data));
        return;
      case 'pong':
        this.emit('pong', toBuffer(ev.data));
        return;
      case 'close':
        // The reply (if this side had not closed) is queued; the flush ends the transport.
        this.state = CLOSING;
        this.deferred = undefined;
        return;
      case 'protocol-error':
        this.state = CLOSING;
        this.deferred = undefined;
        // Only the frame phase reaches a WebSocket: the server handles the handshake's.
        if (ev.phase === 'frames') this.emitError(new WebSocketProtocolError(ev.code, ev.reason));
        return;
      case 'closed':
        this.finish(ev.code, ev.reason);
        return;
      default:
        // `request`, `open` and `rejected` belong to the handshake, which the server ran.
        return;
    }
  }

  /** Writes everything the codec queued, in one write, then applies read backpressure. */
  private flush(): void {
    if (this.transportEnded) {
      this.endpoint.takeOutgoing();
      return;
    }
    const endpoint = this.endpoint;
    const out = endpoint.takeOutgoing();
    if (out.length > 0) this.writeAll(out);
    // Frames still being compressed come before the end: the endpoint says when they are ready.
    if (endpoint.shouldCloseTransport && !endpoint.outputPending) {
      this.endTransport();
      return;
    }
    // Messages being compressed count: a peer sending faster than they compress is held back too.
    if (!this.readPaused && this.bufferedAmount > this.settings.readPauseThreshold) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  /**
   * @internal — frames compressed off the event loop are ready (or the
   * compression failed: its event is dispatched, then the close written).
   */
  onOutgoing(): void {
    if (this.dispatching) return; // written when the dispatch ends
    this.dispatchAll();
    // Reading paused for bytes that were still being compressed resumes here when no drain is coming.
    if (this.readPaused && !this.socket.writableNeedDrain && this.bufferedAmount <= this.settings.readPauseThreshold)
      this.onDrain();
  }

  private writeAll(out: readonly Uint8Array[]): void {
    const socket = this.socket;
    if (out.length === 1) {
      socket.write(out[0] as Uint8Array);
      return;
    }
    socket.cork();
    for (const bytes of out) socket.write(bytes);
    socket.uncork();
  }

  private flushIfIdle(): void {
    if (!this.dispatching) this.flush();
  }

  private afterSend(): boolean {
    this.flushIfIdle();
    return this.bufferedAmount <= this.settings.readPauseThreshold;
  }

  private sendBinaryFragment(chunk: string | Uint8Array, fin: boolean): void {
    this.endpoint.send({ type: 'binary', data: typeof chunk === 'string' ? Buffer.from(chunk) : chunk, fin });
    this.flush();
  }

  private sendTextFragment(text: string, fin: boolean): void {
    // A chunk that only began a code point has nothing to send yet.
    if (text === '' && !fin) return;
    this.endpoint.send({ type: 'text', data: text, fin });
    this.flush();
  }

  /**
   * The bytes a text message adds to the queue, as far as the cap needs to
   * know: UTF-8 takes at most 3 bytes per UTF-16 unit, so the exact count is
   * only taken when that bound would not fit.
   */
  private textFrameBytes(text: string): number {
    const bound = frameBytes(text.length * 3);
    if (this.bufferedAmount + bound <= this.settings.maxBufferedAmount) return bound;
    return frameBytes(Buffer.byteLength(text, 'utf8'));
  }

  /**
   * The backpressure policy: may a message of `size` more bytes be queued?
   * What waits is counted as it will be written (compressed frames as
   * compressed). A message that may still be compressed counts at its
   * uncompressed size, since its encoding cannot be undone once made.
   */
  private admit(size: number): boolean {
    const max = this.settings.maxBufferedAmount;
    if (this.bufferedAmount + size <= max) return true;
    // What the codec holds is the reply to the read being handled, written
    // when its dispatch ends. A peer that reads at once takes it now, and then
    // nothing waits: a message of any size is accepted, so the cap never
    // refuses a prompt reader because of messages it sent together.
    if (this.endpoint.bufferedAmount > 0 && !this.transportEnded) this.writeAll(this.endpoint.takeOutgoing());
    const waiting = this.bufferedAmount;
    if (waiting === 0 || waiting + size <= max) return true;
    // Bytes behind a compression still running on the thread pool wait on this server, not on the peer:
    // while nothing else waits, a prompt reader's message is not refused for them, up to a cap's worth
    // of such bytes (a loop of sends to a reader that never reads is still stopped).
    const pending = this.endpoint.outputPendingAmount;
    if (waiting === pending && pending <= max) return true;
    if (this.settings.onBufferOverflow === 'close') this.close(1008, 'send buffer overflow (slow reader)');
    return false;
  }

  private waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  // ---- transport end -------------------------------------------------------

  /** @internal */
  onDrain(): void {
    if (this.readPaused) {
      this.readPaused = false;
      if (!this.transportEnded) this.socket.resume();
    }
    if (this.listenerCount('drain') > 0) this.emit('drain');
  }

  /** @internal */
  onSocketError(error: Error): void {
    // A reset or a write after the peer vanished: 'close' follows and reports 1006.
    this.emitError(error);
  }

  /** @internal */
  onSocketEnd(): void {
    // The peer half-closed; ending our side lets 'close' arrive.
    if (!this.socket.writableEnded) this.socket.end();
  }

  /** @internal */
  onSocketClose(): void {
    this.transportEnded = true;
    this.clearCloseTimer();
    this.endpoint.receiveEof();
    try {
      this.dispatchAll();
    } finally {
      this.finish(1006, '');
    }
  }

  private endTransport(): void {
    if (this.socket.writableEnded) return;
    this.socket.end();
    // The peer should now close its side; destroy if it lingers (half-open).
    this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined || this.transportEnded) return;
    this.closeTimer = this.settings.clock.setTimeout(() => {
      this.closeTimer = undefined;
      abortTransport(this.socket);
    }, this.settings.closeTimeout);
  }

  private clearCloseTimer(): void {
    if (this.closeTimer === undefined) return;
    this.settings.clock.clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
  }

  /** @internal — run once by the server when the connection is gone. */
  onFinish: ((ws: WebSocket<Data>) => void) | undefined;

  private finish(code: number, reason: string): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.state = CLOSED;
    this.deferred = undefined;
    this.clearCloseTimer();
    const socket = this.socket;
    socket.off('data', socketData);
    socket.off('drain', socketDrain);
    socket.off('end', socketEnd);
    socket.off('close', socketClose);
    // Keep a no-op error listener: a late error on a dead socket must not crash the process.
    socket.off('error', socketError);
    socket.on('error', ignore);
    if (!socket.destroyed) socket.destroy();
    this.onFinish?.(this);
    this.onFinish = undefined;
    this.emit('close', code, reason);
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

function ignore(): void {}

/** Bytes of an unmasked frame carrying `payload` bytes (RFC 6455 §5.2); a fragmented message has a header per fragment. */
function frameBytes(payload: number): number {
  return payload + (payload < 126 ? 2 : payload < 65536 ? 4 : 10);
}

const OWNER = Symbol('rfc6455.websocket');
type OwnedSocket = ByteStream & { [OWNER]: WebSocket<unknown> };
function socketData(this: OwnedSocket, chunk: Uint8Array): void {
  this[OWNER].onData(chunk);
}
function socketDrain(this: OwnedSocket): void {
  this[OWNER].onDrain();
}
function socketClose(this: OwnedSocket): void {
  this[OWNER].onSocketClose();
}
function socketError(this: OwnedSocket, error: Error): void {
  this[OWNER].onSocketError(error);
}
function socketEnd(this: OwnedSocket): void {
  this[OWNER].onSocketEnd();
}

/**
 * The text of one chunk of a text stream. A string chunk first ends any
 * partial code point the bytes before it left (as U+FFFD, which is what those
 * bytes are without their continuation).
 */
function decodeChunk(decoder: TextDecoder, chunk: string | Uint8Array): string {
  return typeof chunk === 'string' ? decoder.decode() + chunk : decoder.decode(chunk, { stream: true });
}

async function* iterate(source: StreamSource): AsyncIterable<string | Uint8Array> {
  if (typeof (source as ReadableStream).getReader === 'function') {
    const reader = (source as ReadableStream<string | Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<string | Uint8Array>;
}
