/**
 * Node entry: the client with a TCP/TLS dialer (`node:net`, `node:tls`) as
 * its default transport, and WebSocket over HTTP/2 (`node:http2`, RFC 8441)
 * on request. Also what the Bun entry uses.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { MessageMode } from '@rfc6455/codec';
import { ReconnectingWebSocket as BaseReconnecting, type ReconnectingWebSocketOptions } from './reconnecting.js';
import { type Http2Mode, Http2SessionPool } from './node-http2.js';
import { socketToByteStream } from './node-stream.js';
import { type ByteStream, type DialInit, type Dialed, hostAndPort, type Transport } from './transport.js';
import { WebSocket as BaseWebSocket, type WebSocketOptions } from './websocket.js';
import { WebSocketStream as BaseWebSocketStream, type WebSocketStreamOptions } from './websocket-stream.js';

export * from './index.js';
export { type Http2Mode, type Http2PoolOptions, Http2SessionPool } from './node-http2.js';
export { socketToByteStream } from './node-stream.js';

export interface NodeDialOptions {
  /** Options for `tls.connect` on wss: URLs (ca, cert, rejectUnauthorized, …). */
  readonly tls?: tls.ConnectionOptions;
  /** Disable Nagle's algorithm (default true). */
  readonly noDelay?: boolean;
  /**
   * WebSocket over HTTP/2 (RFC 8441): `'never'` (default), `'prefer'` (an
   * HTTP/2 stream when the server enables extended CONNECT in its SETTINGS,
   * else HTTP/1.1) or `'require'` (fail instead of falling back). wss: offers
   * h2 by ALPN; ws: speaks h2c by prior knowledge. See `Http2Mode`.
   */
  readonly http2?: Http2Mode;
  /**
   * Where HTTP/2 sessions are shared. Default: one pool for the process,
   * keyed by origin and the `tls` options object.
   */
  readonly http2Pool?: Http2SessionPool;
}

/** The pool WebSockets share unless given their own. */
const defaultPool = new Http2SessionPool();

/** A Transport that dials TCP (ws:) or TLS (wss:) with Node's sockets, or opens HTTP/2 streams (`http2`). */
export function nodeTransport(options: NodeDialOptions = {}): Transport {
  return (url: URL, init: DialInit) => openNodeTransport(url, init, options);
}

/**
 * One attempt of {@link nodeTransport}: an HTTP/2 stream opener when
 * `options.http2` asks for it and the server supports RFC 8441, else a
 * TCP/TLS byte stream for the HTTP/1.1 upgrade.
 */
export async function openNodeTransport(url: URL, init: DialInit, options: NodeDialOptions = {}): Promise<Dialed> {
  const mode = options.http2 ?? 'never';
  if (mode === 'never') return dialNode(url, init, options);
  const got = await (options.http2Pool ?? defaultPool).dial(url, init, options.tls);
  if (got.type === 'http2') return got.dialer;
  if (mode === 'require') {
    got.socket?.destroy();
    throw new Error(`HTTP/2 was required but ${got.reason}`);
  }
  if (got.socket === undefined) return dialNode(url, init, options);
  got.socket.setNoDelay(options.noDelay ?? true);
  return socketToByteStream(got.socket);
}

export function dialNode(url: URL, init: DialInit, options: NodeDialOptions = {}): Promise<ByteStream> {
  const { hostname, port, secure } = hostAndPort(url);
  return new Promise((resolve, reject) => {
    if (init.signal.aborted) {
      reject(init.signal.reason);
      return;
    }
    const socket: net.Socket = secure
      ? tls.connect({
          host: hostname,
          port,
          ...(net.isIP(hostname) === 0 ? { servername: hostname } : {}),
          ALPNProtocols: ['http/1.1'],
          ...options.tls,
        })
      : net.connect({ host: hostname, port });
    const onAbort = (): void => {
      socket.destroy();
      reject(init.signal.reason);
    };
    const onError = (error: Error): void => {
      init.signal.removeEventListener('abort', onAbort);
      reject(error);
    };
    init.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.off('error', onError);
      init.signal.removeEventListener('abort', onAbort);
      socket.setNoDelay(options.noDelay ?? true);
      resolve(socketToByteStream(socket));
    });
  });
}

/** What the Node classes add to the client options: HTTP/2 without building a transport. */
export interface NodeClientOptions {
  /** As `NodeDialOptions.http2`; ignored when `transport` is given. */
  readonly http2?: Http2Mode;
}

const defaultTransports: { readonly [M in Http2Mode]: Transport } = {
  never: nodeTransport(),
  prefer: nodeTransport({ http2: 'prefer' }),
  require: nodeTransport({ http2: 'require' }),
};

function transportFor(options: { readonly transport?: Transport; readonly http2?: Http2Mode }): Transport {
  return options.transport ?? defaultTransports[options.http2 ?? 'never'];
}

export class WebSocket extends BaseWebSocket {
  constructor(
    url: string | URL,
    protocols?: string | readonly string[],
    options: WebSocketOptions & NodeClientOptions = {},
  ) {
    super(url, protocols, { ...options, transport: transportFor(options) });
  }
}

export class WebSocketStream<M extends MessageMode = 'whole'> extends BaseWebSocketStream<M> {
  constructor(
    url: string | URL,
    options: WebSocketStreamOptions & NodeClientOptions & { readonly messageMode?: M } = {},
  ) {
    super(url, { ...options, transport: transportFor(options) });
  }
}

export class ReconnectingWebSocket extends BaseReconnecting {
  constructor(
    url: string | URL,
    protocols?: string | readonly string[],
    options: ReconnectingWebSocketOptions & NodeClientOptions = {},
  ) {
    super(url, protocols, { ...options, transport: transportFor(options) });
  }
}
