// The server the web-standard clients (Chromium, Deno, undici) talk to: an
// http server that serves the scenario page, with the WebSocketServer attached.
// With `http2`, an h2 TLS server with extended CONNECT (RFC 8441) and
// HTTP/1.1 allowed serves the same page and scenarios over https/wss.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type Transport, WebSocketServer } from '../src/index.js';

const scenarios = readFileSync(new URL('./fixtures/web-scenarios.mjs', import.meta.url));

export async function startWebServer(options: { http2?: { key: string; cert: string } } = {}) {
  const serve = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    if (req.url === '/web-scenarios.mjs') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(scenarios);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>ws test</title>');
  };
  const http = options.http2
    ? createSecureServer({ ...options.http2, allowHTTP1: true, settings: { enableConnectProtocol: true } }, serve)
    : createServer(serve);
  // A browser keeps its HTTP/2 connection open: stop() ends them so close() can finish.
  const sessions = new Set<{ destroy(): void }>();
  http.on('session', (session: { destroy(): void }) => sessions.add(session));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const offers: string[] = [];
  const closes: Array<[number, string]> = [];
  /** The Sec-WebSocket-Extensions value the server accepted, per connection. */
  const accepted: string[] = [];
  /** How each WebSocket arrived. */
  const transports: Transport[] = [];
  const wss = new WebSocketServer({
    server: http,
    perMessageDeflate: true,
    handleUpgrade: (info) => {
      offers.push(info.headers['sec-websocket-extensions'] ?? '');
      if (info.path === '/forbidden') return { accept: false, status: 403, body: 'forbidden' };
      return { accept: true, protocol: info.protocols.includes('chat') ? 'chat' : null };
    },
  });
  wss.on('connection', (ws) => {
    accepted.push(ws.extensions);
    transports.push(ws.transport);
    ws.on('close', (code, reason) => closes.push([code, reason]));
    ws.on('message', (data) => {
      if (data === 'stream') {
        void ws.sendStream(
          (async function* () {
            for (let i = 1; i <= 16; i++) yield new Uint8Array(65536).fill(i);
          })(),
        );
      } else if (data === 'close-me') {
        ws.close(4001, 'server reason ✓');
      } else {
        ws.send(data);
      }
    });
  });
  return {
    wss,
    http,
    port,
    offers,
    accepted,
    closes,
    transports,
    async stop() {
      await wss.close({ timeout: 500 });
      const closed = new Promise((resolve) => http.close(resolve));
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}

/** What every web-standard client must report for the scenarios. */
export const expected = {
  protocol: 'chat',
  // The server accepts permessage-deflate; Chromium and undici offer it (Deno offers nothing).
  extensions: 'permessage-deflate',
  text: 'héllo ✓',
  binary: [0, 1, 2, 255],
  binaryIsArrayBuffer: true,
  bigEchoOk: true,
  streamedLength: 16 * 65536,
  streamedLast: 16,
  // The server's close reply echoes the code and the reason.
  clientClose: { code: 4000, reason: 'client bye', wasClean: true },
  noProtocol: '',
  serverClose: { code: 4001, reason: 'server reason ✓', wasClean: true },
  // A 403 fails the handshake: 1006 in browsers; Deno reports 0, Node 20's undici no close event.
  rejected: { errored: true, code: 1006 as number | null },
};
