/**
 * Deno entry: the client with `Deno.connect` / `Deno.connectTls` as its
 * default transport. Needs `--allow-net` for the target host.
 */
import type { MessageMode } from '@rfc6455/codec';
import { ReconnectingWebSocket as BaseReconnecting, type ReconnectingWebSocketOptions } from './reconnecting.js';
import { type ByteStream, type DialInit, hostAndPort, type Transport } from './transport.js';
import { WebSocket as BaseWebSocket, type WebSocketOptions } from './websocket.js';
import { WebSocketStream as BaseWebSocketStream, type WebSocketStreamOptions } from './websocket-stream.js';

export * from './index.js';

interface DenoConn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  setNoDelay?(noDelay?: boolean): void;
  close(): void;
}
interface DenoNamespace {
  connect(options: { hostname: string; port: number; transport?: 'tcp'; signal?: AbortSignal }): Promise<DenoConn>;
  connectTls(options: {
    hostname: string;
    port: number;
    caCerts?: string[];
    alpnProtocols?: string[];
    signal?: AbortSignal;
  }): Promise<DenoConn>;
}

export interface DenoDialOptions {
  /** Extra PEM CA certificates for wss: (e.g. a test CA). */
  readonly caCerts?: string[];
}

function deno(): DenoNamespace {
  const ns = (globalThis as { Deno?: DenoNamespace }).Deno;
  if (ns === undefined) throw new Error('the /deno entry needs the Deno runtime');
  return ns;
}

/** A Transport over `Deno.connect` (ws:) or `Deno.connectTls` (wss:). */
export function denoTransport(options: DenoDialOptions = {}): Transport {
  return async (url: URL, init: DialInit): Promise<ByteStream> => {
    const { hostname, port, secure } = hostAndPort(url);
    const conn = secure
      ? await deno().connectTls({
          hostname,
          port,
          alpnProtocols: ['http/1.1'],
          ...(options.caCerts !== undefined ? { caCerts: options.caCerts } : {}),
          signal: init.signal,
        })
      : await deno().connect({ hostname, port, signal: init.signal });
    if (init.signal.aborted) {
      conn.close();
      throw init.signal.reason;
    }
    conn.setNoDelay?.(true);
    return { readable: conn.readable, writable: conn.writable };
  };
}

const defaultTransport = denoTransport();

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
