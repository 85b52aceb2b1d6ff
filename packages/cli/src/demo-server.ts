/**
 * The frame-inspector demo: one port that serves the page, an echo endpoint
 * and a live feed of every byte the echo connections carry.
 *
 *   browser ──TCP──▶ front (--port) ──┬─ /echo ─▶ wire tap ─▶ echo WebSocketServer (node-server)
 *                                     │                       (/echo?deflate=off: one that declines compression)
 *                                     └─ else ────────────▶ page server: static files + /inspect (node-server)
 *
 * The front is a byte-level router: it reads the request line, picks the
 * upstream and then only copies bytes. For /echo connections it also
 * reports each chunk, in each direction, to every inspector, exactly as it
 * crossed the wire — handshake heads included — so the page can dissect the
 * real traffic between the browser's native WebSocket and node-server. No
 * part of either endpoint is instrumented, which is what a protocol analyser
 * on the wire would see too.
 *
 * A connection that opens with the HTTP/2 preface (h2c by prior knowledge)
 * goes to demo-http2.ts instead, which serves WebSocket over HTTP/2 (RFC
 * 8441) on /echo only, carrying each stream to the same echo servers; its
 * taps report the stream's DATA, and its HEADERS in the `open` record.
 *
 * It runs on people's own machines, so every way in is bounded: upgrades
 * only from the page's own origins, a deadline for every request head, a
 * size limit on it, flow control through the relay (a peer that does not
 * read stalls its own connection instead of filling the demo's memory) and a
 * byte cap on the records kept for late inspectors.
 */
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { extname, join, normalize } from 'node:path';
import { UsageError } from '@rfc6455/codec';
import { type ServerOptions, type UpgradeHook, WebSocketServer, WebSocket } from '@rfc6455/node-server';
import { type OriginCheck, originPolicy } from './origin-policy.js';
import { TapBacklog } from './tap-backlog.js';
import { demoHttp2Front } from './demo-http2.js';
import type { TapMessage } from './tap-message.js';

export interface DemoOptions {
  readonly port: number;
  readonly host: string;
  /** Directory with index.html, app.js and app.css (built by scripts/build-demo.mjs). */
  readonly staticDir: string;
  /**
   * Origins besides the page's own (http://localhost:PORT, http://127.0.0.1:PORT,
   * http://[::1]:PORT, http://HOST:PORT) whose pages may open /echo and /inspect.
   * Normalize them with `parseOrigin`.
   */
  readonly allowedOrigins?: readonly string[];
  /** Let a page from any origin open /echo and /inspect (and so read what the demo relays). Default false. */
  readonly allowAnyOrigin?: boolean;
  /** Time a connection has to send its whole request head (408 after). Default 10 000 ms. */
  readonly headersTimeout?: number;
  /** Time a plain HTTP request may take from its first byte to its end. Default 30 000 ms (at least `headersTimeout`). */
  readonly requestTimeout?: number;
  /** Largest request head in bytes; a larger one is answered 431. Default 16 KiB. */
  readonly maxHeaderSize?: number;
  /** How long a connection being closed may take to finish before it is destroyed. Default 5 000 ms. */
  readonly closeTimeout?: number;
  /** Bytes of tap records kept for inspectors that connect later (a reload); oldest dropped first. Default 8 MiB. */
  readonly backlogBytes?: number;
  /** Payload bytes a kept record holds; longer chunks are kept cut, their full length noted. Default 16 KiB. */
  readonly maxRecordBytes?: number;
  /** Largest message the echo accepts (1009 beyond). Default 1 MiB. */
  readonly maxMessageSize?: number;
  /**
   * Bytes a WebSocket (echo or inspector feed) may have waiting to be
   * written; node-server closes it with 1008 beyond. Default 4 MiB; at least
   * `maxMessageSize`.
   */
  readonly maxBufferedAmount?: number;
  /** Ping every WebSocket this often; one silent since the last ping is dropped. Default 30 000 ms. */
  readonly heartbeatInterval?: number;
}

export interface Demo {
  readonly port: number;
  /** Closes every WebSocket with 1001 and stops listening. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

interface Limits {
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly maxHeaderSize: number;
  readonly closeTimeout: number;
  readonly backlogBytes: number;
  readonly maxRecordBytes: number;
  readonly maxMessageSize: number;
  readonly maxBufferedAmount: number;
  readonly heartbeatInterval: number;
}

function limitsOf(options: DemoOptions): Limits {
  const limits: Limits = {
    headersTimeout: options.headersTimeout ?? 10_000,
    requestTimeout: options.requestTimeout ?? Math.max(30_000, options.headersTimeout ?? 0),
    maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
    closeTimeout: options.closeTimeout ?? 5_000,
    backlogBytes: options.backlogBytes ?? 8 * 1024 * 1024,
    maxRecordBytes: options.maxRecordBytes ?? 16 * 1024,
    maxMessageSize: options.maxMessageSize ?? 1024 * 1024,
    maxBufferedAmount: options.maxBufferedAmount ?? 4 * 1024 * 1024,
    heartbeatInterval: options.heartbeatInterval ?? 30_000,
  };
  for (const [name, value] of Object.entries(limits)) {
    const least = name === 'heartbeatInterval' || name === 'maxRecordBytes' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < least)
      throw new UsageError('ERR_INVALID_ARGUMENT', `${name} must be a whole number ≥ ${least}, got ${value}`);
  }
  if (limits.requestTimeout < limits.headersTimeout) {
    throw new UsageError(
      'ERR_INVALID_ARGUMENT',
      `requestTimeout (${limits.requestTimeout}) must be at least headersTimeout (${limits.headersTimeout})`,
    );
  }
  if (limits.maxBufferedAmount < limits.maxMessageSize) {
    // Otherwise echoing one large message would always close the connection with 1008.
    throw new UsageError(
      'ERR_INVALID_ARGUMENT',
      `maxBufferedAmount (${limits.maxBufferedAmount}) must be at least maxMessageSize (${limits.maxMessageSize})`,
    );
  }
  return limits;
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const limits = limitsOf(options);
  const started = Date.now();
  const backlog = new TapBacklog({ maxBytes: limits.backlogBytes, maxRecordBytes: limits.maxRecordBytes });
  // Known once the front listens (--port 0 picks one); no upgrade can arrive before that.
  let originAllowed: OriginCheck = () => false;
  const sameOriginOnly =
    (route: (path: string) => boolean): UpgradeHook<unknown> =>
    (info) => {
      if (!route(info.path)) return { accept: false, status: 404, body: 'no WebSocket here\n' };
      if (!originAllowed(info.origin)) {
        return {
          accept: false,
          status: 403,
          body: `origin ${info.origin} may not use this demo (see rfc6455 demo --help: --allow-origin)\n`,
        };
      }
      return true;
    };
  const webSocketLimits = {
    handshakeTimeout: limits.headersTimeout,
    maxHeadSize: limits.maxHeaderSize,
    closeTimeout: limits.closeTimeout,
    maxMessageSize: limits.maxMessageSize,
    maxBufferedAmount: limits.maxBufferedAmount,
    heartbeatInterval: limits.heartbeatInterval,
  };

  // The echo servers: this project's node-server, one accepting compression as
  // browsers offer it and one declining it (a native WebSocket cannot stop offering).
  // Their own backpressure applies: over the read-pause threshold an echo stops
  // reading from a peer that does not read its replies.
  const echoHook = sameOriginOnly(() => true);
  const echo = await startEcho(true, echoHook, webSocketLimits);
  const echoPlain = await startEcho(false, echoHook, webSocketLimits);
  const echoPort = echo.address()?.port as number;
  const echoPlainPort = echoPlain.address()?.port as number;

  // The page server: static files, and the inspector feed over a second WebSocket.
  const pages = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeout,
      requestTimeout: limits.requestTimeout,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeout / 2))),
      keepAliveTimeout: Math.min(5_000, limits.requestTimeout),
    },
    (req, res) => void serveStatic(options.staticDir, req, res),
  );
  pages.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
    // Node's default writes the response and destroys at once, which can lose it.
    // Input that keeps coming after the answer raises this again: the answer stands.
    if (socket.destroyed || socket.writableEnded) return;
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    refuse(
      socket,
      error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400,
      limits.closeTimeout,
    );
  });
  const inspector = new WebSocketServer({
    server: pages,
    handleUpgrade: sameOriginOnly((path) => path === '/inspect'),
    ...webSocketLimits,
  });
  // Inspectors that have caught up with the backlog and now get records as they happen.
  const live = new WeakSet<WebSocket>();
  inspector.on('connection', (ws: WebSocket) => replay(ws));
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  const pagesPort = (pages.address() as net.AddressInfo).port;

  /**
   * Sends the backlog to a new inspector at the pace it reads (node-server's
   * send() says when to wait for 'drain'), reading it from the backlog
   * itself so records added meanwhile come in order; then joins the live feed.
   */
  function replay(ws: WebSocket): void {
    let cursor = backlog.start;
    const pump = (): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (cursor < backlog.start) {
        ws.send(
          JSON.stringify({
            type: 'gap',
            t: Date.now() - started,
            records: backlog.start - cursor,
          } satisfies TapMessage),
        );
        cursor = backlog.start;
      }
      for (const entry of backlog.from(cursor)) {
        cursor = entry.seq + 1;
        if (!ws.send(entry.json)) {
          ws.once('drain', pump);
          return;
        }
      }
      live.add(ws);
    };
    pump();
  }

  const publish = (message: TapMessage): void => {
    const kept = backlog.add(message);
    const whole = message.type === 'bytes' && kept.length < message.base64.length ? JSON.stringify(message) : kept;
    // Each inspector's own backpressure policy applies (node-server closes one that falls maxBufferedAmount behind).
    inspector.broadcast(whole, (ws) => live.has(ws));
  };

  let nextConn = 1;
  // Connections opening with the HTTP/2 preface (h2c by prior knowledge): WebSocket over HTTP/2 on /echo.
  const h2front = demoHttp2Front({
    echoPort,
    echoPlainPort,
    publish,
    nextConn: () => nextConn++,
    clock: () => Date.now() - started,
    maxHeaderSize: limits.maxHeaderSize,
  });
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Errors end in 'close', which the relay handles; without a listener they would throw.
    socket.on('error', ignore);
  };
  const front = net.createServer((client) => {
    track(client);
    let head: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      client.off('data', onData);
      refuse(client, 408, limits.closeTimeout);
    }, limits.headersTimeout);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const eol = head.indexOf('\r\n');
      if (eol < 0) {
        if (head.length <= limits.maxHeaderSize) return;
        clearTimeout(timer);
        client.off('data', onData);
        refuse(client, 431, limits.closeTimeout);
        return;
      }
      clearTimeout(timer);
      client.off('data', onData);
      client.pause();
      if (head.subarray(0, eol).toString('latin1') === 'PRI * HTTP/2.0') {
        h2front.accept(client, head);
        return;
      }
      const target = head.subarray(0, eol).toString('latin1').split(' ')[1] ?? '';
      const url = URL.canParse(target, 'http://x') ? new URL(target, 'http://x') : new URL('http://x/');
      const isEcho = url.pathname === '/echo';
      const upstream = !isEcho ? pagesPort : url.searchParams.get('deflate') === 'off' ? echoPlainPort : echoPort;
      relay(client, head, upstream, isEcho ? nextConn++ : null);
    };
    client.on('data', onData);
    client.on('close', () => clearTimeout(timer));
  });

  function relay(client: net.Socket, first: Buffer, port: number, conn: number | null): void {
    const upstream = net.connect(port, '127.0.0.1');
    track(upstream);
    const tap = (from: 'client' | 'server') =>
      conn === null
        ? ignore
        : (bytes: Buffer): void =>
            publish({ type: 'bytes', conn, t: Date.now() - started, from, base64: bytes.toString('base64') });
    if (conn !== null) publish({ type: 'open', conn, t: Date.now() - started, remote: client.remoteAddress ?? '' });
    tap('client')(first);
    upstream.write(first);
    forward(client, upstream, tap('client'));
    forward(upstream, client, tap('server'));
    // Half-closes are passed on as they happen: the WebSocket close handshake ends with one.
    client.on('end', () => {
      if (conn !== null) publish({ type: 'end', conn, t: Date.now() - started, from: 'client' });
      upstream.end();
    });
    upstream.on('end', () => {
      if (conn !== null) publish({ type: 'end', conn, t: Date.now() - started, from: 'server' });
      client.end();
    });
    // One side gone for good ends the other, letting what was already relayed
    // (a 431, a close frame) reach it first.
    client.on('close', () => closeWithin(upstream, limits.closeTimeout));
    upstream.on('close', () => closeWithin(client, limits.closeTimeout));
    client.resume();
  }

  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(options.port, options.host, () => {
      front.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await Promise.all([echo.close({ timeout: 0 }), echoPlain.close({ timeout: 0 }), inspector.close({ timeout: 0 })]);
    pages.close();
    throw error;
  });
  const port = (front.address() as net.AddressInfo).port;
  originAllowed = originPolicy({
    port,
    host: options.host,
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    ...(options.allowAnyOrigin === undefined ? {} : { allowAnyOrigin: options.allowAnyOrigin }),
  });

  return {
    port,
    async close() {
      front.close();
      h2front.close();
      // Going away (1001) for the echo connections, then for the inspectors,
      // so the inspectors still see the echo connections' close frames.
      const goingAway = { code: 1001, reason: 'demo shutting down', timeout: 2000 };
      await Promise.all([echo.close(goingAway), echoPlain.close(goingAway)]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await inspector.close(goingAway);
      for (const socket of sockets) socket.destroy();
      pages.closeAllConnections();
      await new Promise<void>((resolve) => pages.close(() => resolve()));
    },
  };
}

const ignore = (): void => {};

/**
 * Copies `from` to `to` with flow control: when `to` cannot take more
 * (a peer that does not read), `from` is no longer read until `to` drains,
 * so what waits is bounded by the sockets' buffers, not by how much the
 * sender sends.
 */
function forward(from: net.Socket, to: net.Socket, tap: (bytes: Buffer) => void): void {
  const resume = (): void => {
    from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    if (to.destroyed || to.writableEnded) return; // nowhere to go any more
    tap(chunk);
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', resume);
    }
  });
  to.once('close', resume);
}

/** Ends a socket gracefully, destroying it if it has not closed within `ms`. */
function closeWithin(socket: net.Socket, ms: number): void {
  if (socket.destroyed) return;
  socket.end();
  const timer = setTimeout(() => socket.destroy(), ms);
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Answers a request the demo will not serve and closes. Input still coming
 * is read and dropped: closing with unread input makes the kernel reset the
 * connection, and the peer may then never see the answer.
 */
function refuse(socket: net.Socket, status: 400 | 408 | 431, ms: number): void {
  if (socket.destroyed) return;
  const body = `${status} ${http.STATUS_CODES[status]}\n`;
  socket.on('data', ignore);
  socket.resume();
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  const timer = setTimeout(() => socket.destroy(), ms);
  socket.once('close', () => clearTimeout(timer));
}

async function serveStatic(dir: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const file = normalize(join(dir, path === '/' ? 'index.html' : path));
  if (!file.startsWith(normalize(dir)) || req.method !== 'GET') {
    res.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(file);
    res
      .writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      })
      .end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

async function startEcho(
  perMessageDeflate: boolean,
  handleUpgrade: UpgradeHook<unknown>,
  limits: Omit<ServerOptions, 'port' | 'host' | 'perMessageDeflate' | 'handleUpgrade'>,
): Promise<WebSocketServer> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate, handleUpgrade, ...limits });
  server.on('connection', (ws: WebSocket) => ws.on('message', (data: string | Buffer) => ws.send(data)));
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  return server;
}
