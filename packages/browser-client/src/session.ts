/**
 * The engine under every client API: one connection from dial to close. The
 * codec's `ClientEndpoint` does all of RFC 6455 (request, response checks,
 * extension agreement, frames, closing handshake); this class only moves
 * bytes and time between it and a byte stream:
 *
 *   dial → write takeOutgoing() → read → receive()/receiveEof() → dispatch events → write …
 *
 * plus the two timers the endpoint has no clock for (handshake, close). The
 * session reads from the transport only when its sink has room
 * (`sink.demand()`), so a slow reader pushes back through TCP to the server.
 */
import {
  ClientEndpoint,
  type ClientEndpointOptions,
  type EndpointEvent,
  type Extension,
  type FrameCommand,
  type HeaderInit,
  type HttpHeaders,
  type MessageMode,
  type PerMessageDeflateOptions,
  permessageDeflate,
  UsageError,
} from '@rfc6455/codec';
import { HandshakeError } from './errors.js';
import { ProtocolError } from './protocol-error.js';
import { type ByteStream, type Dialed, type HttpVersionInfo, isExtendedConnect, type Transport } from './transport.js';

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
  /** Milliseconds from dialing to the handshake response (the 101 over HTTP/1.1, the 2xx over HTTP/2). Default 30 000; 0 disables. */
  readonly handshakeTimeout?: number;
  /**
   * Milliseconds to wait for the server to end the transport after this side sent or answered a close
   * frame. Default 10 000. Then the client ends it: cleanly when both close frames crossed, else with an error.
   */
  readonly closeTimeout?: number;
  /** Largest incoming message in bytes (default 16 MiB); larger ones close with 1009. */
  readonly maxMessageSize?: number;
  /** Largest handshake response head in bytes (default 16 KiB); a larger one fails the handshake. */
  readonly maxHeadSize?: number;
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
  /** HTTP/1.1, or the HTTP/2 stream the WebSocket runs on (RFC 8441). */
  readonly http: HttpVersionInfo;
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

export class Session {
  readonly url: URL;
  private readonly options: ClientOptions;
  private readonly protocols: readonly string[];
  private readonly sink: SessionSink;
  private readonly internals: SessionInternals;
  private readonly offered: readonly Extension[];
  private readonly abortController = new AbortController();
  private endpoint: ClientEndpoint | undefined;
  private aborted = false;
  private opened = false;
  /** The server's close frame arrived (the endpoint queued the reply, unless this side had sent one). */
  private closeReceived = false;
  private stream: ByteStream | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private buffered = 0;
  private transportClosing = false;
  /** The first reason the connection ends badly; it decides what the application is told. */
  private failure: Error | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private done = false;
  private lastWrite: Promise<void> = Promise.resolve();
  private http: HttpVersionInfo = { httpVersion: '1.1' };

  /** Throws the codec's UsageError for invalid `perMessageDeflate` options. */
  constructor(
    url: URL,
    protocols: readonly string[],
    options: ClientOptions,
    sink: SessionSink,
    internals: SessionInternals = {},
  ) {
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
    return this.endpoint !== undefined && this.endpoint.state === 'open' && !this.done;
  }

  start(): void {
    this.run().catch((error: unknown) => this.fail(toError(error)));
  }

  /** Queues a message and writes it; throws the codec's UsageError when not allowed. Resolves when the transport took the bytes. */
  send(command: FrameCommand): Promise<void> {
    const endpoint = this.endpoint;
    if (endpoint === undefined)
      throw new UsageError('ERR_INVALID_STATE', `cannot send ${command.type}: the connection has not started`);
    endpoint.send(command);
    return this.flush();
  }

  /** Starts the closing handshake, or abandons the attempt while connecting. */
  close(code?: number, reason?: string): void {
    if (this.done) return;
    const endpoint = this.endpoint;
    if (endpoint === undefined || endpoint.state === 'connecting') {
      this.abort(new HandshakeError('aborted', 'the connection was closed before the handshake completed'));
      return;
    }
    if (endpoint.state !== 'open') return;
    endpoint.send(code === undefined ? { type: 'close' } : { type: 'close', code, reason: reason ?? '' });
    void this.flush();
    this.armCloseTimer();
  }

  /** Ends an attempt now: no close frame, the transport is torn down, `reason` is what the application sees. */
  abort(reason: HandshakeError): void {
    if (this.done || this.aborted) return;
    this.aborted = true;
    this.failure ??= reason;
    this.abortController.abort(reason);
    this.teardown();
  }

  private async run(): Promise<void> {
    const transport = this.options.transport;
    if (transport === undefined) {
      throw new HandshakeError(
        'transport',
        'no transport: pass options.transport, or import the client from a runtime entry (/node, /deno, /bun)',
      );
    }
    // Invalid headers, origin or limits throw here and end the attempt as an error event.
    let endpoint = new ClientEndpoint(this.url, this.endpointOptions());
    this.endpoint = endpoint;
    if (this.aborted) throw this.failure ?? new HandshakeError('aborted', 'the attempt was abandoned');
    this.armHandshakeTimer();
    const signal = this.abortController.signal;
    let dialed: Dialed;
    try {
      dialed = await transport(this.url, { signal });
    } catch (error) {
      throw (
        this.failure ??
        new HandshakeError('transport', `could not connect: ${toError(error).message}`, { cause: error })
      );
    }
    let stream: ByteStream;
    if (isExtendedConnect(dialed)) {
      // RFC 8441: the handshake is the stream's request and response heads, not bytes.
      endpoint = ClientEndpoint.forExtendedConnect(this.url, this.endpointOptions());
      this.endpoint = endpoint;
      let opened: Awaited<ReturnType<typeof dialed.open>>;
      try {
        opened = await dialed.open(endpoint.requestHeaders ?? {}, { signal });
      } catch (error) {
        throw (
          this.failure ??
          new HandshakeError('transport', `the HTTP/2 stream failed: ${toError(error).message}`, { cause: error })
        );
      }
      this.http = { httpVersion: '2', streamId: opened.streamId };
      stream = opened;
      endpoint.receiveResponseHeaders({ status: opened.status, headers: opened.headers });
    } else {
      stream = dialed;
    }
    this.stream = stream;
    const reader = stream.readable.getReader();
    this.reader = reader;
    this.writer = stream.writable.getWriter();
    reader.closed.catch(noop);
    this.writer.closed.catch(noop);
    if (this.aborted) {
      this.teardown();
      throw this.failure;
    }
    // Nothing can answer a request not yet written; a server that takes no bytes is the handshake timer's to end.
    await this.flush();
    // Over HTTP/2 the response head may already have opened or refused.
    this.process(endpoint);
    while (!this.done) {
      const wait = this.sink.demand?.();
      if (wait !== undefined) await wait;
      if (this.done) break;
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        this.failure ??= this.transportError(error);
        chunk = { done: true, value: undefined };
      }
      // Bytes that arrive after an abort are not looked at: the attempt is over.
      if (chunk.done || this.aborted) endpoint.receiveEof();
      else endpoint.receive(chunk.value);
      this.process(endpoint);
      if (chunk.done || this.aborted) break;
    }
  }

  private endpointOptions(): ClientEndpointOptions {
    const options = this.options;
    return {
      protocols: this.protocols,
      extensions: this.offered,
      ...(options.origin !== undefined && { origin: options.origin }),
      ...(options.headers !== undefined && { headers: options.headers }),
      ...(options.random !== undefined && { random: options.random }),
      ...(options.maxHeadSize !== undefined && { maxHeadSize: options.maxHeadSize }),
      ...(options.maxMessageSize !== undefined && { maxMessageSize: options.maxMessageSize }),
      ...(options.fragmentSize !== undefined && { fragmentSize: options.fragmentSize }),
      ...(this.internals.messageMode !== undefined && { messageMode: this.internals.messageMode }),
    };
  }

  /** Dispatches every event the last input produced, writes what the endpoint queued, closes when it says so. */
  private process(endpoint: ClientEndpoint): void {
    for (let ev = endpoint.nextEvent(); ev !== undefined; ev = endpoint.nextEvent()) this.dispatch(ev);
    void this.flush();
    if (!endpoint.shouldCloseTransport || this.transportClosing) return;
    // A failed handshake is abandoned at once, as browsers fail it; after the
    // open the close frame queued before must go out first.
    if (this.opened) this.closeTransport();
    else this.teardown();
  }

  private dispatch(ev: EndpointEvent): void {
    switch (ev.type) {
      case 'open':
        this.opened = true;
        this.clearHandshakeTimer();
        this.sink.open({
          protocol: ev.protocol ?? '',
          // The value as the server sent it, as browsers report it.
          extensions: ev.extensions === '' ? '' : (ev.headers.get('sec-websocket-extensions') ?? ev.extensions),
          headers: ev.headers,
          http: this.http,
        });
        return;
      case 'rejected':
        this.failure ??= new HandshakeError('rejected', `the server refused the upgrade: ${ev.status} ${ev.reason}`, {
          status: ev.status,
          statusText: ev.reason,
          headers: ev.headers,
          body: ev.body,
        });
        return;
      case 'protocol-error':
        if (ev.phase === 'handshake') {
          this.failure ??= new HandshakeError('failed', `invalid handshake response: ${ev.reason}`, {
            failure: ev.failure,
            ...(ev.headers !== null && { headers: ev.headers }),
          });
        } else {
          this.failure ??= new ProtocolError(ev.code, ev.reason);
        }
        return;
      case 'text':
      case 'binary':
        if (!this.done) this.sink.message(ev.data);
        return;
      case 'text-part':
      case 'binary-part':
        if (!this.done) this.sink.part?.(ev.data, ev.type === 'binary-part', ev.last);
        return;
      case 'close':
        this.closeReceived = true;
        this.armCloseTimer();
        return;
      case 'closed':
        // Whatever the last input queued (a close frame after a protocol error) goes out first.
        void this.flush();
        this.finish(ev.code, ev.reason, ev.wasClean && this.failure === undefined, this.failure, !this.opened);
        return;
      default:
        return;
    }
  }

  private flush(): Promise<void> {
    const writer = this.writer;
    const endpoint = this.endpoint;
    if (writer === undefined || endpoint === undefined) return this.lastWrite;
    const out = endpoint.takeOutgoing();
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
          this.failure ??= this.transportError(error);
          this.teardown();
          throw error;
        },
      );
      written.catch(noop);
      this.lastWrite = written;
    }
    return this.lastWrite;
  }

  /** A transport error as the application sees it: before the 101 it fails the handshake. */
  private transportError(error: unknown): Error {
    if (this.opened) return toError(error);
    return new HandshakeError('transport', `the transport failed during the handshake: ${toError(error).message}`, {
      cause: error,
    });
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

  private armHandshakeTimer(): void {
    const ms = this.options.handshakeTimeout ?? 30_000;
    if (ms <= 0) return;
    this.handshakeTimer = setTimeout(
      () => this.abort(new HandshakeError('timeout', `no handshake response within ${ms} ms`)),
      ms,
    );
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined || this.done) return;
    const ms = this.options.closeTimeout ?? 10_000;
    this.closeTimer = setTimeout(() => {
      // §7.1.1 leaves closing TCP to the server, but the client may once it
      // waited long enough; §7.1.4 calls the close clean whoever closes TCP,
      // provided the closing handshake completed: both close frames crossed.
      if (!this.closeReceived) this.failure ??= new Error(`the server did not close the connection within ${ms} ms`);
      else if (this.buffered > 0) this.failure ??= new Error(`the close frame was not written within ${ms} ms`);
      this.teardown();
    }, ms);
  }

  /** Ends an attempt that failed outside the endpoint (no transport, invalid options, dial failure, abort). */
  private fail(error: Error): void {
    this.failure ??= error;
    this.teardown();
    this.finish(1006, '', false, this.failure, !this.opened);
  }

  private finish(code: number, reason: string, wasClean: boolean, error: Error | undefined, beforeOpen: boolean): void {
    if (this.done) return;
    this.done = true;
    this.clearHandshakeTimer();
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    if (!this.transportClosing) this.closeTransport();
    this.sink.closed({ code, reason, wasClean, error, beforeOpen });
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
