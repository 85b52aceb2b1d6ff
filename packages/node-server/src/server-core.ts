/**
 * The runtime-neutral server core: the connection registry, the upgrade
 * decision (Origin policy, then the application's hook), the handshake,
 * close and heartbeat timers, backpressure settings, encode-once broadcast,
 * topics and graceful shutdown. It runs each connection on a `ByteStream`
 * (a Node socket or HTTP/2 stream as it is, or a Bun/Deno connection behind
 * a small adapter), keeps time with a `Clock` (the platform's timers unless
 * the `clock` option gives another) and knows no listener: server.ts (Node),
 * bun.ts and deno.ts accept connections and hand them to `begin()`. Every
 * protocol rule — validation, negotiation, the bytes behind the head — stays
 * in the codec's endpoint.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import {
  type CompressionBackend,
  type Endpoint,
  type MessageMode,
  ServerEndpoint,
  type ServerEndpointOptions,
  type PerMessageDeflateOptions,
  type TextAs,
  type UpgradeRequestEvent,
  UsageError,
  permessageDeflate,
} from '@rfc6455/codec';
import { MessagePreEncoder } from '@rfc6455/codec/frames';
import { type PublishOptions, type PublishResult, TOPICS_SUBPROTOCOL } from '@rfc6455/topics';
import type { ByteStream } from './byte-stream.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { fanOut } from './fan-out.js';
import { allocateMessage } from './message-allocator.js';
import { nodeTextCodec } from './text-codec.js';
import { type SubscribeAuthorizer, ServerTopics, type TopicsHubFactory } from './topics.js';
import { abortTransport, respondAndClose, responseHeaders, type Transport } from './transport.js';
import { normalizeDecision, type UpgradeDecision, type UpgradeHook, type UpgradeInfo, upgradeInfo } from './upgrade.js';
import { type ConnectionSettings, type OverflowPolicy, WebSocket } from './websocket.js';

export type { AcceptDecision, RejectDecision, UpgradeDecision, UpgradeHook, UpgradeInfo } from './upgrade.js';

/** The options every listener shares (Node, Bun, Deno). */
export interface CoreOptions<Data = unknown> {
  /** Authorization: sees URL, headers, cookies, Origin and offers; accepts or rejects. Throwing rejects with 500. */
  readonly handleUpgrade?: UpgradeHook<Data>;
  /** Alias of `handleUpgrade`. */
  readonly verify?: UpgradeHook<Data>;
  /** Origins allowed to connect (exact match, e.g. `https://example.com`). Requests without Origin pass. Others get 403. */
  readonly allowedOrigins?: readonly string[];
  /** Largest message accepted (default 16 MiB); larger ones close with 1009. */
  readonly maxMessageSize?: number;
  /** Largest frame accepted (default `maxMessageSize`). */
  readonly maxFramePayload?: number;
  /** `'parts'` emits `message-part` events as frames arrive instead of whole messages. */
  readonly messageMode?: MessageMode;
  /**
   * `'string'` (default): text messages arrive as strings. `'bytes'`: as
   * Buffers of validated UTF-8 with `isBinary` false (as ws delivers them),
   * never decoded: a proxy or broker passes them on with
   * `send(data, { binary: isBinary })` without decoding and re-encoding.
   */
  readonly textAs?: TextAs;
  /** Split sent messages into frames of at most this many bytes. */
  readonly fragmentSize?: number;
  /** Time from the connection (standalone) or the `upgrade` event (attached) to the decision. Default 10 000 ms. */
  readonly handshakeTimeout?: number;
  /** Time the peer has to answer a close frame and close TCP before the socket is destroyed. Default 5 000 ms. */
  readonly closeTimeout?: number;
  /** Ping every connection this often; a connection with no traffic since the last ping is terminated. Default 30 000 ms; 0 disables. */
  readonly heartbeatInterval?: number;
  /** Most bytes a connection may have waiting to be written. Default 16 MiB. */
  readonly maxBufferedAmount?: number;
  /** Over `maxBufferedAmount`: `'close'` (default) sends 1008 and destroys after `closeTimeout`; `'drop'` skips the message. */
  readonly onBufferOverflow?: OverflowPolicy;
  /** Stop reading from a socket while its write buffer is over this many bytes; resume on 'drain'. Default 1 MiB. */
  readonly readPauseThreshold?: number;
  /** Largest request head in bytes (standalone listener; Node's parser applies its own `maxHeaderSize` when attached). Default 16 KiB; over it → 431. */
  readonly maxHeadSize?: number;
  /** Most request header lines. Default 100; over it → 431. */
  readonly maxHeaderCount?: number;
  /** Longest request line in bytes. Default 8 KiB; over it → 400. */
  readonly maxStartLineLength?: number;
  /** Most bytes a client may send after its request head before the decision. Default 64 KiB; over it → 400. */
  readonly maxEarlyDataSize?: number;
  /**
   * permessage-deflate (RFC 7692): `false` (default) declines every offer;
   * `true` accepts a client's offer with the codec's defaults (context kept on
   * both sides, window 15, level 6, messages from 1 KiB) on Node's zlib;
   * an object sets the codec's options (`serverNoContextTakeover`,
   * `clientNoContextTakeover`, `serverMaxWindowBits`, `clientMaxWindowBits`,
   * `threshold`, `level`, `memLevel`, `backend`).
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * The hub behind `ws.subscribe()` and `wss.publish()`, made on first use
   * from the callbacks the server passes: e.g.
   * `(handlers) => new RedisTopics({ connection, ...handlers })` across
   * processes. Default: a `MemoryTopics` (one process, 1 000 publications of
   * history per topic).
   */
  readonly topics?: TopicsHubFactory<WebSocket<Data>>;
  /**
   * Whether a client speaking `rfc6455.topics.v1` may subscribe to a topic;
   * a refusal is answered with `unsubscribed` code 4403. Default: any topic.
   */
  readonly authorizeSubscribe?: SubscribeAuthorizer<WebSocket<Data>>;
  /** Most topics a `rfc6455.topics.v1` client may subscribe to; more are answered with `unsubscribed` 4429. Default 1 000. */
  readonly maxTopicsPerConnection?: number;
  /** Longest topic in UTF-8 bytes, 1–65 535. Default 1 024. */
  readonly maxTopicBytes?: number;
  /**
   * The timers behind `handshakeTimeout`, `closeTimeout`,
   * `heartbeatInterval` and `close({ timeout })`. Default `systemClock`
   * (the platform's, unref'd); a test or a simulation passes its own to move
   * time by hand.
   */
  readonly clock?: Clock;
}

export interface CloseOptions {
  /** Close code sent to every connection. Default 1001 (going away). */
  readonly code?: number;
  readonly reason?: string;
  /** How long to wait for the closing handshakes before destroying what is left. Default 5 000 ms. */
  readonly timeout?: number;
}

interface Pending {
  readonly socket: ByteStream;
  readonly endpoint: ServerEndpoint;
  readonly request: IncomingMessage | undefined;
  readonly secure: boolean;
  readonly transport: Transport;
  /** HTTP/2: the request named version 13 (a refusal otherwise says which version this server speaks). */
  readonly versionOk: boolean;
  timer: TimerHandle | undefined;
  done: boolean;
  onData: (chunk: Uint8Array) => void;
  onClose: () => void;
}

const NO_PENDING_DATA = (): void => {};

/** The events a `WebSocketServer` emits and their arguments. */
export interface WebSocketServerEvents<Data = unknown> {
  connection: [ws: WebSocket<Data>, info: UpgradeInfo];
  listening: [];
  error: [error: Error];
  close: [];
}

/**
 * What the listeners share: `clients`, `broadcast()`, `publish()`, `close()`
 * and the handshake of each connection a listener passes to `begin()`.
 * Events: `connection` (ws, info), `listening`, `error` (listener errors, or
 * a throwing upgrade hook when a listener exists), `close` (after `close()`
 * finished).
 */
export abstract class ServerCore<Data = unknown> extends EventEmitter<WebSocketServerEvents<Data>> {
  /** Open connections. */
  readonly clients = new Set<WebSocket<Data>>();
  private readonly pending = new Set<Pending>();
  private readonly hook: UpgradeHook<Data> | undefined;
  private readonly allowedOrigins: ReadonlySet<string> | undefined;
  /** @internal — what each connection's `ServerEndpoint` is made with. */
  protected readonly endpointOptions: ServerEndpointOptions<TextAs>;
  private readonly settings: ConnectionSettings;
  protected readonly handshakeTimeout: number;
  private readonly clock: Clock;
  private readonly heartbeat: TimerHandle | undefined;
  /** Set once `close()` was called: listeners refuse new connections. */
  protected closing: Promise<void> | undefined;
  /** Encodes a broadcast once per kind of connection (plain, or a shared deflate encoding). */
  private readonly preEncoder: MessagePreEncoder;
  private readonly topics: ServerTopics<Data>;

  /** `deflateBackend`: the listener's runtime's default for permessage-deflate (an explicit `backend` option wins). */
  constructor(options: CoreOptions<Data>, deflateBackend: CompressionBackend) {
    super();
    this.hook = options.handleUpgrade ?? options.verify;
    this.allowedOrigins = options.allowedOrigins ? new Set(options.allowedOrigins) : undefined;
    const pmd = options.perMessageDeflate ?? false;
    this.endpointOptions = {
      // Node's SIMD UTF-8 validation and native string decoding, instead of the codec's portable ones.
      text: nodeTextCodec,
      // And buffers for large messages that skip zero-filling (every byte is written before it is read).
      allocate: allocateMessage,
      ...(options.textAs !== undefined && { textAs: options.textAs }),
      ...(options.maxMessageSize !== undefined && { maxMessageSize: options.maxMessageSize }),
      ...(options.maxFramePayload !== undefined && { maxFramePayload: options.maxFramePayload }),
      ...(options.messageMode !== undefined && { messageMode: options.messageMode }),
      ...(options.fragmentSize !== undefined && { fragmentSize: options.fragmentSize }),
      ...(options.maxHeadSize !== undefined && { maxHeadSize: options.maxHeadSize }),
      ...(options.maxHeaderCount !== undefined && { maxHeaderCount: options.maxHeaderCount }),
      ...(options.maxStartLineLength !== undefined && { maxStartLineLength: options.maxStartLineLength }),
      ...(options.maxEarlyDataSize !== undefined && { maxEarlyDataSize: options.maxEarlyDataSize }),
      ...(pmd !== false && {
        // A backend that compresses off the event loop hands frames over later, through this.
        onOutgoing: this.outgoing,
        extensions: [
          permessageDeflate({
            ...(pmd === true ? {} : pmd),
            backend: (pmd === true ? undefined : pmd.backend) ?? deflateBackend,
          }),
        ],
      }),
    };
    new ServerEndpoint(this.endpointOptions); // validates the options now rather than per connection
    this.preEncoder = new MessagePreEncoder(
      options.fragmentSize !== undefined ? { fragmentSize: options.fragmentSize } : {},
    );
    const maxTopics = options.maxTopicsPerConnection ?? 1_000;
    if (!Number.isSafeInteger(maxTopics) || maxTopics < 1) {
      throw new UsageError('ERR_INVALID_ARGUMENT', 'maxTopicsPerConnection must be a positive integer');
    }
    this.topics = new ServerTopics<Data>(this.preEncoder, {
      factory: options.topics,
      authorize: options.authorizeSubscribe,
      maxTopicsPerConnection: maxTopics,
      maxTopicBytes: options.maxTopicBytes,
    });
    this.clock = options.clock ?? systemClock;
    this.settings = {
      clock: this.clock,
      closeTimeout: options.closeTimeout ?? 5_000,
      maxBufferedAmount: options.maxBufferedAmount ?? 16 * 1024 * 1024,
      onBufferOverflow: options.onBufferOverflow ?? 'close',
      readPauseThreshold: options.readPauseThreshold ?? 1024 * 1024,
    };
    this.handshakeTimeout = options.handshakeTimeout ?? 10_000;
    const interval = options.heartbeatInterval ?? 30_000;
    if (interval > 0) this.heartbeat = this.clock.setInterval(this.beat, interval);
  }

  /**
   * Stops taking connections (attached listeners off, own listener closed);
   * resolves once the listener is closed.
   */
  protected abstract stopAccepting(): Promise<void>;

  /**
   * Sends one message to many connections, encoded once per kind of
   * connection: server frames are not masked, so the same bytes go to every
   * socket. Connections that negotiated permessage-deflate without server
   * context takeover get one compressed encoding per window size; every
   * other connection (no deflate, or a deflater that keeps context, whose
   * output depends on that connection's history) gets the plain frame, which
   * RFC 7692 allows at any time (RSV1 is per message). Each connection's
   * backpressure policy applies (a connection over `maxBufferedAmount` is
   * closed with 1008 or skipped). Binary payloads over the codec's copy
   * threshold are written by reference: don't modify them afterwards. Returns
   * how many connections the message was written to.
   */
  broadcast(data: string | Uint8Array, filter?: (ws: WebSocket<Data>) => boolean): number {
    const message = typeof data === 'string' ? ({ type: 'text', data } as const) : ({ type: 'binary', data } as const);
    return fanOut(this.preEncoder, message, this.clients, filter);
  }

  /**
   * Publishes `data` (a string as its UTF-8 bytes) on `topic` through the
   * topics hub: every subscriber, on this process or (with a shared hub such
   * as `RedisTopics`) on any other, receives it once as a publication
   * envelope, encoded once per compression class here. Resolves with its
   * `{ epoch, offset, duplicate }`. With `idempotencyKey`, a retry of a
   * publish that failed or timed out publishes at most once. Bytes given are
   * kept by reference in the hub's history: don't modify them afterwards.
   */
  publish(topic: string, data: string | Uint8Array, options?: PublishOptions): Promise<PublishResult> {
    return this.topics.publish(topic, data, options);
  }

  /**
   * Graceful shutdown: stops accepting, sends `code` (1001) to every
   * connection, waits up to `timeout` for them to close, destroys the rest.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options);
    return this.closing;
  }

  private async shutdown(options: CloseOptions): Promise<void> {
    const code = options.code ?? 1001;
    const reason = options.reason ?? 'server shutting down';
    const timeout = options.timeout ?? 5_000;
    if (this.heartbeat !== undefined) this.clock.clearInterval(this.heartbeat);
    this.topics.close();
    const listenerClosed = this.stopAccepting();
    for (const p of this.pending) this.abort(p);
    const all = [...this.clients].map((ws) =>
      ws.readyState === WebSocket.CLOSED
        ? Promise.resolve()
        : new Promise<void>((resolve) => ws.once('close', () => resolve())),
    );
    for (const ws of this.clients) ws.close(code, reason);
    let timer: TimerHandle | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, timeout);
    });
    await Promise.race([Promise.all(all), expired]);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    for (const ws of this.clients) ws.terminate();
    await Promise.all(all);
    await listenerClosed;
    this.emit('close');
  }

  // ---- handshakes ------------------------------------------------------------

  /**
   * @internal — runs the handshake of a connection a listener accepted: the
   * endpoint reads the request (or was made from one already parsed), the
   * Origin policy and hook decide, and an accepted one becomes a `WebSocket`.
   */
  protected begin(
    socket: ByteStream,
    endpoint: ServerEndpoint,
    request: IncomingMessage | undefined,
    secure: boolean,
    transport: Transport,
    versionOk: boolean,
  ): void {
    const p: Pending = {
      socket,
      endpoint,
      request,
      secure,
      transport,
      versionOk,
      timer: undefined,
      done: false,
      onData: (chunk) => {
        endpoint.receive(chunk);
        this.step(p);
      },
      onClose: () => this.settle(p),
    };
    p.timer = this.clock.setTimeout(() => this.abort(p), this.handshakeTimeout);
    this.pending.add(p);
    socket.on('data', p.onData);
    socket.on('error', NO_PENDING_DATA);
    socket.on('close', p.onClose);
    this.step(p);
  }

  private step(p: Pending): void {
    for (let ev = p.endpoint.nextEvent(); ev !== undefined && !p.done; ev = p.endpoint.nextEvent()) {
      if (ev.type === 'request') {
        void this.decide(p, ev);
      } else if (ev.type === 'protocol-error' || ev.type === 'closed') {
        // A bad request (its 400/426/431 is queued), too much early data, or the client hung up.
        this.refuse(p);
      }
    }
  }

  private async decide(p: Pending, ev: UpgradeRequestEvent): Promise<void> {
    const info = upgradeInfo(ev, p.socket, p.transport, p.secure, p.request);
    let decision: UpgradeDecision<Data>;
    if (this.allowedOrigins !== undefined && ev.origin !== null && !this.allowedOrigins.has(ev.origin)) {
      decision = { accept: false, status: 403, body: 'origin not allowed\n' };
    } else if (this.hook === undefined) {
      decision = true;
    } else {
      try {
        decision = await this.hook(info);
      } catch (error) {
        this.reportError(error);
        decision = { accept: false, status: 500, body: 'internal error\n' };
      }
    }
    if (p.done) return; // timed out, closed by the peer or by shutdown meanwhile
    if (this.closing) decision = { accept: false, status: 503, body: 'server shutting down\n' };
    const endpoint = p.endpoint;
    const normalized = normalizeDecision(decision);
    try {
      endpoint.send(
        normalized.accept
          ? {
              type: 'accept',
              // The server speaks the topics subprotocol itself: offered and not decided by the hook, it is chosen.
              protocol:
                normalized.protocol !== undefined
                  ? normalized.protocol
                  : ev.protocols.includes(TOPICS_SUBPROTOCOL)
                    ? TOPICS_SUBPROTOCOL
                    : null,
              headers: normalized.headers,
            }
          : { type: 'reject', status: normalized.status ?? 403, headers: normalized.headers, body: normalized.body },
      );
    } catch (error) {
      // The decision itself was invalid (a subprotocol not offered, a bad header): an application bug, answered with 500.
      this.reportError(error);
      endpoint.send({ type: 'reject', status: 500, body: 'internal error\n' });
    }
    if (!normalized.accept || endpoint.state !== 'open') {
      this.refuse(p);
      return;
    }
    this.settle(p, true);
    // HTTP/1.1: the 101 is in takeOutgoing() and `open` comes first. HTTP/2: a
    // `response` (:status 200 and its fields) comes first, for the stream's HEADERS.
    let extensions = '';
    for (let ev = endpoint.nextEvent(); ev !== undefined; ev = endpoint.nextEvent()) {
      if (ev.type === 'open') {
        extensions = ev.extensions;
        break;
      }
      if (ev.type === 'response') {
        try {
          (p.socket as unknown as ServerHttp2Stream).respond(responseHeaders(ev.status, ev.headers));
        } catch (error) {
          // Node refuses fields HTTP/2 forbids (e.g. Connection) that the hook added: an application bug.
          this.reportError(error);
          abortTransport(p.socket);
          return;
        }
      }
    }
    const ws = new WebSocket<Data>(p.socket, endpoint, this.settings, extensions, normalized.data as Data, p.transport);
    this.clients.add(ws);
    if (this.endpointOptions.onOutgoing !== undefined) this.byEndpoint.set(endpoint, ws);
    ws.topicsLink = this.topics;
    ws.onFinish = this.forget;
    this.emit('connection', ws, info);
    // The 101, and frames the client sent right behind its request, are handled now.
    ws.start();
  }

  /** The handshake ended without a WebSocket: write the endpoint's answer (if any) and close. */
  private refuse(p: Pending): void {
    this.settle(p);
    if (p.transport.type === 'http1') {
      endWithin(p.socket, p.endpoint.takeOutgoing(), this.settings.closeTimeout, this.clock);
      return;
    }
    const stream = p.socket as unknown as ServerHttp2Stream;
    for (let ev = p.endpoint.nextEvent(); ev !== undefined; ev = p.endpoint.nextEvent()) {
      if (ev.type !== 'response') continue;
      // RFC 6455 §4.4: a refusal of another version names the one this server speaks.
      const fields = p.versionOk ? ev.headers : [...ev.headers, ['sec-websocket-version', '13'] as const];
      respondAndClose(stream, ev.status, fields, ev.body);
      return;
    }
    // No answer to give (the client went away first).
    abortTransport(stream);
  }

  private reportError(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', asError(error));
  }

  /**
   * The handshake is over (decided, failed or abandoned): drop its listeners
   * and timer. A socket handed to a `WebSocket` gets that object's error
   * listener instead of a no-op one (one listener, not an array of two).
   */
  private settle(p: Pending, handedOver = false): void {
    if (p.done) return;
    p.done = true;
    if (p.timer !== undefined) this.clock.clearTimeout(p.timer);
    p.timer = undefined;
    this.pending.delete(p);
    p.socket.off('data', p.onData);
    p.socket.off('close', p.onClose);
    p.socket.off('error', NO_PENDING_DATA);
    if (!handedOver) p.socket.on('error', NO_PENDING_DATA); // re-added last: stays for the socket's life
  }

  private abort(p: Pending): void {
    this.settle(p);
    abortTransport(p.socket);
  }

  /** The connections whose endpoints may produce output later (a deferred compressor), by endpoint. */
  private readonly byEndpoint = new WeakMap<ServerEndpoint<TextAs>, WebSocket<Data>>();

  /** Output of an endpoint's deferred compression is ready: one function for every connection. */
  private readonly outgoing = (endpoint: Endpoint<TextAs>): void => {
    this.byEndpoint.get(endpoint as ServerEndpoint<TextAs>)?.onOutgoing();
  };

  /** One function for every connection (no closure per connection). */
  private readonly forget = (ws: WebSocket<Data>): void => {
    this.clients.delete(ws);
    this.topics.disconnect(ws);
  };

  private readonly beat = (): void => {
    for (const ws of this.clients) {
      if (!ws.isAlive) {
        ws.terminate();
        continue;
      }
      ws.isAlive = false;
      ws.ping();
    }
  };
}

/** Writes a final response, half-closes, and destroys if the peer doesn't close within `ms`. */
function endWithin(socket: ByteStream, bytes: readonly Uint8Array[], ms: number, clock: Clock): void {
  if (socket.destroyed) return;
  for (const b of bytes) socket.write(b);
  socket.end();
  const timer = clock.setTimeout(() => socket.destroy(), ms);
  socket.once('close', () => clock.clearTimeout(timer));
}

/** What a hook threw, as an Error for the `error` event (a hook may throw anything). */
function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
