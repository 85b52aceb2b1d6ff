/**
 * The Node listener: takes sockets either from an `http`/`https` server's
 * `upgrade` event (the head already parsed by Node) or from its own `net`/`tls`
 * listener (the head read by the codec), and streams from an `http2` server's
 * extended CONNECTs (RFC 8441), and hands each to the server core
 * (server-core.ts), which runs the handshake and the connection. Node's
 * sockets and streams are the core's byte streams as they are.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  Http2ServerRequest,
  Http2ServerResponse,
  IncomingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from 'node:http2';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { pakoBackend, ServerEndpoint } from '@rfc6455/codec';
import { type CoreOptions, ServerCore } from './server-core.js';
import {
  type AttachableServer,
  connectProtocolEnabled,
  H2_ERROR,
  HTTP1,
  headerPairs,
  isExtendedConnect,
  isHttp2Server,
  resetMalformed,
  resetStream,
} from './transport.js';
import { zlibBackendAvailable } from './zlib-backend.js';
import { zlibThreadPoolBackend } from './zlib-thread-pool.js';

export type {
  AcceptDecision,
  CloseOptions,
  CoreOptions,
  RejectDecision,
  UpgradeDecision,
  UpgradeHook,
  UpgradeInfo,
  WebSocketServerEvents,
} from './server-core.js';

export interface ServerOptions<Data = unknown> extends CoreOptions<Data> {
  /**
   * Attach to this server instead of listening: an `http`/`https` server's
   * `upgrade` event; an `http2` server's extended CONNECT streams (RFC 8441:
   * create it with `settings: { enableConnectProtocol: true }`) and, with
   * `allowHTTP1`, its HTTP/1.1 upgrades too.
   */
  readonly server?: AttachableServer;
  /** Listen on this port (0 for any) with a server of our own. */
  readonly port?: number;
  /** Interface to listen on. Default: Node's default (all interfaces). */
  readonly host?: string;
  /** TLS key and certificate (PEM): the standalone server speaks wss://. */
  readonly key?: TlsOptions['key'];
  readonly cert?: TlsOptions['cert'];
  /** Further TLS options for the standalone server. */
  readonly tls?: TlsOptions;
}

const IGNORE = (): void => {};

/**
 * A WebSocket server on Node: standalone (`port`, with TLS given `key` and
 * `cert`), attached to an `http`/`https`/`http2` server (`server`), or fed
 * by the application (`handleUpgrade`, `handleStream`).
 */
export class WebSocketServer<Data = unknown> extends ServerCore<Data> {
  private readonly attached: AttachableServer | undefined;
  private readonly own: NetServer | undefined;
  private readonly secure: boolean;

  constructor(options: ServerOptions<Data> = {}) {
    // Node's native zlib when its internals are reachable (about 2× pako; see README), compressing on
    // libuv's thread pool so zlib runs beside the event loop, as ws does; else pako.
    super(options, zlibBackendAvailable ? zlibThreadPoolBackend : pakoBackend);
    if (options.server !== undefined) {
      const server = options.server;
      this.attached = server;
      this.secure = 'setSecureContext' in server;
      if (isHttp2Server(server)) {
        server.on('stream', this.onStream);
        server.on('connect', this.onConnect);
      }
      server.on('upgrade', this.onUpgrade);
      return;
    }
    if (options.port === undefined) {
      // "noServer" mode: the application calls handleUpgrade() itself.
      this.secure = false;
      return;
    }
    const tlsOptions = options.tls ?? (options.key !== undefined || options.cert !== undefined ? {} : undefined);
    this.secure = tlsOptions !== undefined;
    const server = this.secure
      ? createTlsServer({
          handshakeTimeout: this.handshakeTimeout,
          ...tlsOptions,
          key: options.key,
          cert: options.cert,
        })
      : createNetServer();
    server.on(this.secure ? 'secureConnection' : 'connection', this.onRawConnection);
    server.on('error', (error: Error) => this.emit('error', error));
    server.on('listening', () => this.emit('listening'));
    if (this.secure) server.on('tlsClientError', IGNORE);
    server.listen(options.port, options.host);
    this.own = server;
  }

  /** The standalone listener's address (null when attached or not yet listening). */
  address(): AddressInfo | null {
    const address = this.own?.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  /** Takes over an upgrade request routed by the application (`noServer` style). */
  handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    this.onUpgrade(request, socket, head);
  }

  /**
   * Takes over an HTTP/2 extended CONNECT stream routed by the application
   * (`noServer` style, from an `http2` server's `stream` event): the same
   * hook, policies and WebSocket as `handleUpgrade`. `rawHeaders` (the
   * event's fourth argument) keeps repeated fields apart. A connection that
   * did not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL gets RST_STREAM
   * PROTOCOL_ERROR (RFC 8441 §3); a bad request gets 400.
   */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders?: readonly string[]): void {
    if (this.closing) {
      resetStream(stream, H2_ERROR.REFUSED_STREAM);
      return;
    }
    const session = stream.session as ServerHttp2Session | undefined;
    if (session === undefined || stream.destroyed) return;
    if (!connectProtocolEnabled(stream)) {
      resetMalformed(stream);
      return;
    }
    const endpoint = ServerEndpoint.fromExtendedConnect(
      {
        headers:
          rawHeaders !== undefined
            ? headerPairs(rawHeaders)
            : (headers as Readonly<Record<string, string | readonly string[] | undefined>>),
      },
      this.endpointOptions,
    );
    this.begin(
      stream,
      endpoint,
      undefined,
      this.secure || session.encrypted === true,
      { type: 'http2', streamId: stream.id as number, session },
      headers['sec-websocket-version'] === '13',
    );
  }

  protected stopAccepting(): Promise<void> {
    this.attached?.off('upgrade', this.onUpgrade);
    this.attached?.off('stream', this.onStream);
    this.attached?.off('connect', this.onConnect);
    return this.own ? new Promise<void>((resolve) => this.own?.close(() => resolve())) : Promise.resolve();
  }

  private readonly onRawConnection = (socket: Socket): void => {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.begin(socket, new ServerEndpoint(this.endpointOptions), undefined, this.secure, HTTP1, true);
  };

  private readonly onUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer): void => {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const endpoint = ServerEndpoint.fromParsedRequest(
      {
        method: request.method ?? 'GET',
        target: request.url ?? '/',
        httpVersion: request.httpVersion,
        headers: request.rawHeaders,
        trailing: head,
      },
      this.endpointOptions,
    );
    socket.setNoDelay(true);
    this.begin(socket, endpoint, request, this.secure || 'encrypted' in socket, HTTP1, true);
  };

  private readonly onStream = (
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    _flags: number,
    rawHeaders: string[],
  ): void => {
    // Other requests, and plain CONNECT (tunnels), stay with the application.
    if (isExtendedConnect(headers)) this.handleStream(stream, headers, rawHeaders);
  };

  /**
   * Node's HTTP/2 compatibility layer (an `http2` server with a `request`
   * listener) reports every CONNECT as a `connect` event, and answers 405
   * when nobody listens, which would answer the extended CONNECTs taken from
   * the `stream` event too. This listener keeps those quiet and, when it is
   * the only one, gives other CONNECTs the answer Node gives without a
   * listener (405 over HTTP/2, a destroyed socket over HTTP/1.1).
   */
  private readonly onConnect = (
    request: IncomingMessage | Http2ServerRequest,
    response: ServerResponse | Http2ServerResponse | Duplex,
  ): void => {
    if ('stream' in request) {
      if (isExtendedConnect(request.headers)) return;
      if ((this.attached?.listenerCount('connect') ?? 0) > 1) return;
      const h2response = response as Http2ServerResponse;
      h2response.statusCode = 405;
      h2response.end();
      return;
    }
    if ((this.attached?.listenerCount('connect') ?? 0) > 1) return;
    (response as Duplex).destroy();
  };
}
