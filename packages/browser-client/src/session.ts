/**
 * The engine under both APIs: one client connection from dial to close,
 * running the codec's `ClientHandshake` and `Connection` over a byte stream.
 *
 *   connecting ──101──▶ open ──close()/peer close──▶ closing ──EOF──▶ closed
 *        └──refusal, failure, timeout, abort, transport error──────────▶ closed
 *
 * The loop is the one the design describes: read → receive → dispatch events
 * → write everything queued in one go. The session reads from the transport
 * only when its sink has room (`sink.demand()`), so a slow reader pushes back
 * through TCP to the server.
 */
import {
  acceptExtensions,
  ClientHandshake,
  type ClientHandshakeEvent,
  Connection,
  type Extension,
  type HeaderInit,
  type HttpHeaders,
  HandshakeFailure,
  type MessageMode,
  offerExtensions,
  type PerMessageDeflateOptions,
  permessageDeflate,
  type SendCommand,
} from '@rfc6455/codec';
import { HandshakeError } from './errors.js';
import type { ByteStream, Transport } from './transport.js';

/** Options shared by every client API. */
export interface ClientOptions {
  /** Opens the byte stream. Required in the main entry; runtime entries default to their dialer. */
  readonly transport?: Transport;
  /** Extra request headers, e.g. Authorization or Cookie. */
  readonly headers?: HeaderInit;
  /** `Origin` to send; browsers always send one, other clients need not. */
  readonly origin?: string;
  /**
   * permessage-deflate (RFC 7692). Default `true`: offer it as browsers do
   * (`permessage-deflate; client_max_window_bits`). `false` offers nothing;
   * an object tunes the offer and the compressor (the codec's
   * `PerMessageDeflateOptions`: context takeover, window bits, threshold,
   * level, fallback offers). A server response that does not match the offer
   * fails the connection during the handshake (error, then close 1006).
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Milliseconds from dialing to the 101 response. Default 30 000; 0 disables. */
  readonly handshakeTimeout?: number;
  /** Milliseconds to wait for the server to end the transport after the close frames. Default 10 000. */
  readonly closeTimeout?: number;
  /** Largest incoming message in bytes (default 16 MiB); larger ones close with 1009. */
  readonly maxMessageSize?: number;
  /** Largest handshake response head in bytes (default 16 KiB). */
  readonly maxHandshakeSize?: number;
  /** Split outgoing messages into frames of at most this many bytes. Default: never. */
  readonly fragmentSize?: number;
  /** Source of randomness for the key and masks (default `crypto.getRandomValues`). */
  readonly random?: (bytes: Uint8Array) => void;
}

/** Options the client APIs set for themselves rather than take from the caller. */
export interface SessionInternals {
  /** The codec's message mode: 'parts' delivers messages piece by piece (`SessionSink.part`). */
  readonly messageMode?: MessageMode;
}

export interface OpenInfo {
  readonly protocol: string;
  readonly extensions: string;
  readonly headers: HttpHeaders;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  /** Why it ended badly: a HandshakeError, a transport error or a protocol error. */
  readonly error: Error | undefined;
  /** True when the handshake never completed. */
  readonly beforeOpen: boolean;
}

export interface SessionSink {
  open(info: OpenInfo): void;
  message(data: string | Uint8Array): void;
  /** A piece of a message, with `messageMode: 'parts'` only; `last` on its final piece. */
  part?(data: string | Uint8Array, binary: boolean, last: boolean): void;
  closed(info: CloseInfo): void;
  /** A promise while the sink is full: the session stops reading until it settles. */
  demand?(): Promise<void> | undefined;
}

const noop = (): void => {};

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: number;
  constructor(code: number, reason: string) {
    super(`WebSocket protocol error ${code}: ${reason}`);
    this.code = code;
  }
}

export class Session {
  readonly url: URL;
  private readonly options: ClientOptions;
  private readonly protocols: readonly string[];
  private readonly sink: SessionSink;
  private readonly internals: SessionInternals;
  /** The extensions offered, to validate the response against (empty: none offered). */
  private readonly offered: readonly Extension[];
  private readonly abortController = new AbortController();
  private abortReason: HandshakeError | undefined;
  private stream: ByteStream | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private conn: Connection | undefined;
  private buffered = 0;
  private transportClosing = false;
  private failure: Error | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private done = false;
  private lastWrite: Promise<void> = Promise.resolve();

  /** Throws the codec's UsageError for invalid `perMessageDeflate` options. */
  constructor(url: URL, protocols: readonly string[], options: ClientOptions, sink: SessionSink, internals: SessionInternals = {}) {
    this.url = url;
    this.protocols = protocols;
    this.options = options;
    this.sink = sink;
    this.internals = internals;
    const deflate = options.perMessageDeflate ?? true;
    this.offered = deflate === false ? [] : [permessageDeflate(deflate === true ? {} : deflate)];
  }

  /** Bytes handed to the transport writer and not yet accepted by it. */
  get bufferedAmount(): number {
    return this.buffered;
  }

  get isOpen(): boolean {
    return this.conn !== undefined && this.conn.state === 'open' && !this.done;
  }

  start(): void {
    this.run().catch((error: unknown) => this.finish(1006, '', false, toError(error), this.conn === undefined));
  }

  /** Queues a message and writes it; throws the codec's UsageError when not allowed. Resolves when the transport took the bytes. */
  send(command: SendCommand): Promise<void> {
    const conn = this.conn;
    if (conn === undefined) throw new Error('not open');
    conn.send(command);
    return this.flush();
  }

  /** Starts the closing handshake, or abandons the attempt while connecting. */
  close(code?: number, reason?: string): void {
    if (this.done) return;
    const conn = this.conn;
    if (conn === undefined) {
      this.abort(new HandshakeError('aborted', 'the connection was closed before the handshake completed'));
      return;
    }
    if (conn.state !== 'open') return;
    conn.send(code === undefined ? { type: 'close' } : { type: 'close', code, reason: reason ?? '' });
    void this.flush();
    this.armCloseTimer();
  }

  /** Ends everything now: no close frame, the transport is torn down. */
  abort(reason: HandshakeError): void {
    if (this.done) return;
    this.abortReason ??= reason;
    this.abortController.abort(reason);
    this.teardown();
  }

  private async run(): Promise<void> {
    const options = this.options;
    const transport = options.transport;
    if (transport === undefined) {
      throw new HandshakeError(
        'transport',
        'no transport: pass options.transport, or import the client from a runtime entry (/node, /deno, /bun)',
      );
    }
    const handshake = new ClientHandshake(this.url, {
      protocols: this.protocols,
      ...(this.offered.length > 0 ? { extensions: offerExtensions(this.offered) } : {}),
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      ...(options.headers !== undefined ? { headers: options.headers } : {}),
      ...(options.random !== undefined ? { random: options.random } : {}),
      ...(options.maxHandshakeSize !== undefined ? { maxHeadSize: options.maxHandshakeSize } : {}),
    });
    const timeout = options.handshakeTimeout ?? 30_000;
    const timer =
      timeout > 0
        ? setTimeout(() => this.abort(new HandshakeError('timeout', `no handshake response within ${timeout} ms`)), timeout)
        : undefined;
    let event: ClientHandshakeEvent;
    try {
      event = await this.handshake(transport, handshake);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    if (event.type !== 'open') {
      this.teardown();
      if (event.type === 'unexpected-response') {
        throw new HandshakeError('rejected', `the server refused the upgrade: ${event.status} ${event.reason}`, {
          status: event.status,
          statusText: event.reason,
          headers: event.headers,
          body: event.body,
        });
      }
      throw new HandshakeError('failed', `invalid handshake response: ${event.reason}`, {
        failure: event.failure,
        ...(event.headers !== null ? { headers: event.headers } : {}),
      });
    }
    // The codec's handshake already refused extensions that were not offered;
    // this checks the parameters (RFC 7692 §7). Failing here is failing the
    // handshake, as a browser does: no frame is sent, the transport is closed,
    // and the application sees error then close with 1006.
    const agreed = acceptExtensions(event.extensions, this.offered);
    if (!agreed.ok) {
      this.teardown();
      throw new HandshakeError('failed', `invalid handshake response: ${agreed.reason}`, {
        failure: HandshakeFailure.InvalidExtensions,
        headers: event.headers,
      });
    }
    const conn = new Connection({
      role: 'client',
      extensions: agreed.negotiated,
      ...(this.internals.messageMode !== undefined ? { messageMode: this.internals.messageMode } : {}),
      ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
      ...(options.fragmentSize !== undefined ? { fragmentSize: options.fragmentSize } : {}),
      ...(options.random !== undefined ? { random: options.random } : {}),
    });
    this.conn = conn;
    this.sink.open({
      protocol: event.protocol ?? '',
      extensions: event.extensions.length > 0 ? (event.headers.get('sec-websocket-extensions') ?? '') : '',
      headers: event.headers,
    });
    if (event.trailing.length > 0) conn.receive(event.trailing);
    this.process();
    const reader = this.reader as ReadableStreamDefaultReader<Uint8Array>;
    while (!this.done) {
      const wait = this.sink.demand?.();
      if (wait !== undefined) await wait;
      if (this.done) break;
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        this.failure ??= toError(error);
        conn.receiveEof();
        this.process();
        break;
      }
      if (chunk.done) conn.receiveEof();
      else conn.receive(chunk.value);
      this.process();
      if (chunk.done) break;
    }
  }

  private async handshake(transport: Transport, handshake: ClientHandshake): Promise<ClientHandshakeEvent> {
    let stream: ByteStream;
    try {
      stream = await transport(this.url, { signal: this.abortController.signal });
    } catch (error) {
      throw this.abortReason ?? new HandshakeError('transport', `could not connect: ${toError(error).message}`, { cause: error });
    }
    this.stream = stream;
    this.reader = stream.readable.getReader();
    this.writer = stream.writable.getWriter();
    this.reader.closed.catch(noop);
    this.writer.closed.catch(noop);
    if (this.abortReason !== undefined) {
      this.teardown();
      throw this.abortReason;
    }
    try {
      await this.writer.write(handshake.request);
      for (;;) {
        const event = handshake.nextEvent();
        if (event !== undefined) return event;
        const chunk = await this.reader.read();
        if (this.abortReason !== undefined) throw this.abortReason;
        if (chunk.done) handshake.receiveEof();
        else handshake.receive(chunk.value);
      }
    } catch (error) {
      this.teardown();
      if (this.abortReason !== undefined) throw this.abortReason;
      if (error instanceof HandshakeError) throw error;
      throw new HandshakeError('transport', `the transport failed during the handshake: ${toError(error).message}`, {
        cause: error,
      });
    }
  }

  /** Dispatches every event the last input produced, then writes what the connection queued. */
  private process(): void {
    const conn = this.conn as Connection;
    for (let ev = conn.nextEvent(); ev !== undefined; ev = conn.nextEvent()) {
      switch (ev.type) {
        case 'text':
        case 'binary':
          if (!this.done) this.sink.message(ev.data);
          break;
        case 'text-part':
        case 'binary-part':
          if (!this.done) this.sink.part?.(ev.data, ev.type === 'binary-part', ev.last);
          break;
        case 'close':
          this.armCloseTimer();
          break;
        case 'protocol-error':
          this.failure ??= new ProtocolError(ev.code, ev.reason);
          break;
        case 'closed':
          void this.flush();
          this.finish(ev.code, ev.reason, ev.wasClean && this.failure === undefined, this.failure, false);
          return;
        default:
          break;
      }
    }
    void this.flush();
    if (conn.shouldCloseTransport) this.closeTransport();
  }

  private flush(): Promise<void> {
    const writer = this.writer;
    const conn = this.conn;
    if (writer === undefined || conn === undefined) return this.lastWrite;
    const out = conn.takeOutgoing();
    if (out.length === 0 || this.transportClosing) return this.lastWrite;
    for (const bytes of out) {
      const size = bytes.byteLength;
      this.buffered += size;
      const written = writer.write(bytes).then(
        () => {
          this.buffered -= size;
        },
        (error: unknown) => {
          this.buffered -= size;
          this.failure ??= toError(error);
          this.teardown();
          throw error;
        },
      );
      written.catch(noop);
      this.lastWrite = written;
    }
    return this.lastWrite;
  }

  /** Half-closes after what is queued has been written, then stops reading. */
  private closeTransport(): void {
    if (this.transportClosing) return;
    this.transportClosing = true;
    const writer = this.writer;
    const reader = this.reader;
    const cancel = (): void => {
      reader?.cancel().catch(noop);
    };
    if (writer === undefined) cancel();
    else writer.close().then(cancel, cancel);
  }

  /** Tears the transport down at once. The read loop then sees the end. */
  private teardown(): void {
    this.transportClosing = true;
    this.writer?.abort().catch(noop);
    this.reader?.cancel().catch(noop);
    if (this.stream !== undefined && this.reader === undefined) this.stream.readable.cancel().catch(noop);
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined || this.done) return;
    const ms = this.options.closeTimeout ?? 10_000;
    this.closeTimer = setTimeout(() => {
      this.failure ??= new Error(`the server did not close the connection within ${ms} ms`);
      this.teardown();
    }, ms);
  }

  private finish(code: number, reason: string, wasClean: boolean, error: Error | undefined, beforeOpen: boolean): void {
    if (this.done) return;
    this.done = true;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    if (!this.transportClosing) this.closeTransport();
    this.sink.closed({ code, reason, wasClean, error, beforeOpen });
  }
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
