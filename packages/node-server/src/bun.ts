/**
 * The Bun listener: `Bun.listen` sockets (TCP, or TLS with `key` and
 * `cert`), each read by the codec's own HTTP/1.1 handshake and run by the
 * server core — the same `WebSocketServer` API as on Node, standalone only.
 */
import { pakoBackend, ServerEndpoint } from '@rfc6455/codec';
import { type BunSocket, BunStream } from './bun-stream.js';
import { type CoreOptions, ServerCore } from './server-core.js';
import { HTTP1 } from './transport.js';
import { zlibBackendAvailable } from './zlib-backend.js';
import { zlibThreadPoolBackend } from './zlib-thread-pool.js';

export * from './runtime-exports.js';

export interface BunServerOptions<Data = unknown> extends CoreOptions<Data> {
  /** Port to listen on; 0 (default) for any free one. */
  readonly port?: number;
  /** Interface to listen on. Default `0.0.0.0`. */
  readonly hostname?: string;
  /** TLS certificate chain and key (PEM): the server speaks wss://. */
  readonly cert?: string;
  readonly key?: string;
}

/** The address a server listens on. */
export interface ListenAddress {
  readonly hostname: string;
  readonly port: number;
}

interface BunListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

interface BunHandlers {
  open(socket: BunSocket): void;
  data(socket: BunSocket, chunk: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket): void;
  error(socket: BunSocket, error: Error): void;
}

interface BunNamespace {
  listen(options: {
    hostname: string;
    port: number;
    tls?: { cert: string; key: string };
    socket: BunHandlers;
  }): BunListener;
}

/**
 * A WebSocket server on Bun. Requests that are not WebSocket upgrades get
 * the codec's answer (400 with a reason; 426 for another WebSocket version):
 * HTTP is out of scope here; run `Bun.serve` on another port for it.
 */
export class WebSocketServer<Data = unknown> extends ServerCore<Data> {
  private readonly listener: BunListener;
  private readonly secure: boolean;

  constructor(options: BunServerOptions<Data> = {}) {
    // Bun's node:zlib is native zlib with the internals the zlib backend steps (checked at load), else pako.
    // Compression runs on Bun's zlib thread pool (1.4-1.5x Bun.serve on compressed 16 KiB JSON against
    // 0.9x on the event loop, bench:server); Deno's async zlib measured slower than its sync one.
    super(options, zlibBackendAvailable ? zlibThreadPoolBackend : pakoBackend);
    const bun = (globalThis as { Bun?: BunNamespace }).Bun;
    if (bun === undefined) throw new Error('this is the Bun entry point: use @rfc6455/node-server on Node');
    this.secure = options.cert !== undefined || options.key !== undefined;
    // Handlers shared by every socket: each finds its stream in `socket.data`.
    const handlers: BunHandlers = {
      open: (socket) => {
        if (this.closing) {
          socket.terminate();
          return;
        }
        socket.setNoDelay?.(true);
        const stream = new BunStream(socket);
        this.begin(stream, new ServerEndpoint(this.endpointOptions), undefined, this.secure, HTTP1, true);
      },
      data: (socket, chunk) => socket.data?.received(chunk),
      drain: (socket) => socket.data?.writable(),
      end: (socket) => socket.data?.ended(),
      close: (socket) => socket.data?.closed(),
      error: (socket, error) => socket.data?.failed(error),
    };
    this.listener = bun.listen({
      hostname: options.hostname ?? '0.0.0.0',
      port: options.port ?? 0,
      ...(this.secure && { tls: { cert: options.cert ?? '', key: options.key ?? '' } }),
      socket: handlers,
    });
    queueMicrotask(() => this.emit('listening'));
  }

  /** Where the server listens (known as soon as it is constructed). */
  address(): ListenAddress {
    return { hostname: this.listener.hostname, port: this.listener.port };
  }

  protected stopAccepting(): Promise<void> {
    // Open connections stay: the core closes each with its closing handshake.
    this.listener.stop(false);
    return Promise.resolve();
  }
}
