/**
 * Node entry: the client with a TCP/TLS dialer (`node:net`, `node:tls`) as
 * its default transport. Also what the Bun entry uses.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { MessageMode } from '@rfc6455/codec';
import { ReconnectingWebSocket as BaseReconnecting, type ReconnectingWebSocketOptions } from './reconnecting.js';
import { socketToByteStream } from './node-stream.js';
import { type ByteStream, type DialInit, hostAndPort, type Transport } from './transport.js';
import { WebSocket as BaseWebSocket, type WebSocketOptions } from './websocket.js';
import { WebSocketStream as BaseWebSocketStream, type WebSocketStreamOptions } from './websocket-stream.js';

export * from './index.js';
export { socketToByteStream } from './node-stream.js';

export interface NodeDialOptions {
  /** Options for `tls.connect` on wss: URLs (ca, cert, rejectUnauthorized, …). */
  readonly tls?: tls.ConnectionOptions;
  /** Disable Nagle's algorithm (default true). */
  readonly noDelay?: boolean;
}

/** A Transport that dials TCP (ws:) or TLS (wss:) with Node's sockets. */
export function nodeTransport(options: NodeDialOptions = {}): Transport {
  return (url: URL, init: DialInit) => dialNode(url, init, options);
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

const defaultTransport = nodeTransport();

export class WebSocket extends BaseWebSocket {
  constructor(url: string | URL, protocols?: string | readonly string[], options: WebSocketOptions = {}) {
    super(url, protocols, { ...options, transport: options.transport ?? defaultTransport });
  }
}

export class WebSocketStream<M extends MessageMode = 'whole'> extends BaseWebSocketStream<M> {
  constructor(url: string | URL, options: WebSocketStreamOptions & { readonly messageMode?: M } = {}) {
    super(url, { ...options, transport: options.transport ?? defaultTransport });
  }
}

export class ReconnectingWebSocket extends BaseReconnecting {
  constructor(url: string | URL, protocols?: string | readonly string[], options: ReconnectingWebSocketOptions = {}) {
    super(url, protocols, { ...options, transport: options.transport ?? defaultTransport });
  }
}
