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
 * Only the page's own origins may open /echo and /inspect: a browser lets
 * any page open a WebSocket to localhost, and the feed shows everything
 * that passes through the demo.
 */
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { extname, join, normalize } from 'node:path';
import { type UpgradeHook, WebSocketServer, type WebSocket } from '@rfc6455/node-server';
import { type OriginCheck, originPolicy } from './origin-policy.js';
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
}

export type { TapMessage } from './tap-message.js';

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
// Records kept for inspectors that connect after the traffic started (a reload).
const BACKLOG = 2000;
const MAX_REQUEST_LINE = 8 * 1024;

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const started = Date.now();
  const backlog: TapMessage[] = [];
  // Known once the front listens (--port 0 picks one); no upgrade can arrive before that.
  let originAllowed: OriginCheck = () => false;
  const sameOriginOnly =
    (route: (path: string) => boolean): UpgradeHook<unknown> =>
    (info) => {
      if (!route(info.path)) return { accept: false, status: 404, body: 'no WebSocket here\n' };
      if (!originAllowed(info.origin)) {
        return { accept: false, status: 403, body: `origin ${info.origin} may not use this demo (see rfc6455 demo --help: --allow-origin)\n` };
      }
      return true;
    };

  // The echo servers: this project's node-server, one accepting compression as
  // browsers offer it and one declining it (a native WebSocket cannot stop offering).
  const echoHook = sameOriginOnly(() => true);
  const echo = await startEcho(true, echoHook);
  const echoPlain = await startEcho(false, echoHook);
  const echoPort = echo.address()?.port as number;
  const echoPlainPort = echoPlain.address()?.port as number;

  // The page server: static files, and the inspector feed over a second WebSocket.
  const pages = http.createServer((req, res) => void serveStatic(options.staticDir, req, res));
  const inspector = new WebSocketServer({
    server: pages,
    handleUpgrade: sameOriginOnly((path) => path === '/inspect'),
  });
  inspector.on('connection', (ws: WebSocket) => {
    for (const message of backlog) ws.send(JSON.stringify(message));
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  const pagesPort = (pages.address() as net.AddressInfo).port;

  const publish = (message: TapMessage): void => {
    backlog.push(message);
    if (backlog.length > BACKLOG) backlog.splice(0, backlog.length - BACKLOG);
    inspector.broadcast(JSON.stringify(message));
  };

  let nextConn = 1;
  const sockets = new Set<net.Socket>();
  const front = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const eol = head.indexOf('\r\n');
      if (eol < 0 && head.length < MAX_REQUEST_LINE) return;
      client.off('data', onData);
      client.pause();
      const target = head.subarray(0, Math.max(eol, 0)).toString('latin1').split(' ')[1] ?? '';
      const url = URL.canParse(target, 'http://x') ? new URL(target, 'http://x') : new URL('http://x/');
      const isEcho = url.pathname === '/echo';
      const upstream = !isEcho ? pagesPort : url.searchParams.get('deflate') === 'off' ? echoPlainPort : echoPort;
      relay(client, head, upstream, isEcho ? nextConn++ : null);
    };
    client.on('data', onData);
  });

  function relay(client: net.Socket, first: Buffer, port: number, conn: number | null): void {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    const tap = (from: 'client' | 'server', bytes: Buffer): void => {
      if (conn !== null) publish({ type: 'bytes', conn, t: Date.now() - started, from, base64: bytes.toString('base64') });
    };
    if (conn !== null) publish({ type: 'open', conn, t: Date.now() - started, remote: client.remoteAddress ?? '' });
    tap('client', first);
    upstream.write(first);
    client.on('data', (chunk: Buffer) => {
      tap('client', chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      tap('server', chunk);
      client.write(chunk);
    });
    // Half-closes are passed on as they happen: the WebSocket close handshake ends with one.
    client.on('end', () => {
      if (conn !== null) publish({ type: 'end', conn, t: Date.now() - started, from: 'client' });
      upstream.end();
    });
    upstream.on('end', () => {
      if (conn !== null) publish({ type: 'end', conn, t: Date.now() - started, from: 'server' });
      client.end();
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
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
      // Going away (1001) for the echo connections, then for the inspectors,
      // so the inspectors still see the echo connections' close frames.
      const goingAway = { code: 1001, reason: 'demo shutting down', timeout: 2000 };
      await Promise.all([echo.close(goingAway), echoPlain.close(goingAway)]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await inspector.close(goingAway);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => pages.close(() => resolve()));
    },
  };
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
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

async function startEcho(perMessageDeflate: boolean, handleUpgrade: UpgradeHook<unknown>): Promise<WebSocketServer> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate, handleUpgrade });
  server.on('connection', (ws: WebSocket) => ws.on('message', (data: string | Buffer) => ws.send(data)));
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  return server;
}
