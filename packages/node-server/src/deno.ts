/**
 * The Deno listener: `Deno.listen` / `Deno.listenTls` connections, each
 * read by the codec's own HTTP/1.1 handshake and run by the server core —
 * the same `WebSocketServer` API as on Node, standalone only.
 */
import { pakoBackend, ServerEndpoint } from '@rfc6455/codec';
import { type DenoConn, DenoStream } from './deno-stream.js';
import { type CoreOptions, ServerCore } from './server-core.js';
import { HTTP1 } from './transport.js';
import { zlibBackend, zlibBackendAvailable } from './zlib-backend.js';

export * from './runtime-exports.js';

export interface DenoServerOptions<Data = unknown> extends CoreOptions<Data> {
  /** Port to listen on; 0 (default) for any free one. */
  readonly port?: number;
  /** Interface to listen on. Default `0.0.0.0`, as `Deno.listen`. */
  readonly hostname?: string;
  /** TLS certificate chain and key (PEM): the server speaks wss:// (`Deno.listenTls`). */
  readonly cert?: string;
  readonly key?: string;
}

/** The address a server listens on. */
export interface ListenAddress {
  readonly hostname: string;
  readonly port: number;
}

interface DenoListener extends AsyncIterable<DenoConn> {
  readonly addr: { readonly hostname: string; readonly port: number };
  close(): void;
}

interface DenoNamespace {
  listen(options: { port: number; hostname?: string }): DenoListener;
  listenTls(options: { port: number; hostname?: string; cert: string; key: string }): DenoListener;
}

/**
 * A WebSocket server on Deno. Requests that are not WebSocket upgrades get
 * the codec's answer (400 with a reason; 426 for another WebSocket version):
 * HTTP is out of scope here; run `Deno.serve` on another port for it.
 */
export class WebSocketServer<Data = unknown> extends ServerCore<Data> {
  private readonly listener: DenoListener;
  private readonly secure: boolean;

  constructor(options: DenoServerOptions<Data> = {}) {
    // Deno's node:zlib is native zlib with the internals the zlib backend steps (checked at load), else pako.
    // On the event loop: Deno's async zlib streams (zlibThreadPoolBackend) measured 0.8x of this (bench:server).
    super(options, zlibBackendAvailable ? zlibBackend : pakoBackend);
    const deno = (globalThis as { Deno?: DenoNamespace }).Deno;
    if (deno === undefined) throw new Error('this is the Deno entry point: use @rfc6455/node-server on Node');
    const port = options.port ?? 0;
    const hostname = options.hostname;
    this.secure = options.cert !== undefined || options.key !== undefined;
    this.listener = this.secure
      ? deno.listenTls({ port, cert: options.cert ?? '', key: options.key ?? '', ...(hostname && { hostname }) })
      : deno.listen({ port, ...(hostname && { hostname }) });
    queueMicrotask(() => this.emit('listening'));
    void this.acceptLoop();
  }

  /** Where the server listens (known as soon as it is constructed). */
  address(): ListenAddress {
    return { hostname: this.listener.addr.hostname, port: this.listener.addr.port };
  }

  private async acceptLoop(): Promise<void> {
    try {
      for await (const conn of this.listener) {
        if (this.closing) {
          conn.close();
          continue;
        }
        try {
          conn.setNoDelay?.(true);
        } catch {
          // a TLS connection sets it on its TCP connection itself
        }
        this.begin(new DenoStream(conn), new ServerEndpoint(this.endpointOptions), undefined, this.secure, HTTP1, true);
      }
    } catch (error) {
      // The listener closed under the loop (shutdown), or failed.
      if (!this.closing && this.listenerCount('error') > 0) this.emit('error', error as Error);
    }
  }

  protected stopAccepting(): Promise<void> {
    try {
      this.listener.close();
    } catch {
      // already closed
    }
    return Promise.resolve();
  }
}
