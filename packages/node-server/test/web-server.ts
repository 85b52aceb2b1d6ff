// The server the web-standard clients (Chromium, Deno, undici) talk to: an
// http server that serves the scenario page, with the WebSocketServer attached.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '../src/index.js';

const scenarios = readFileSync(new URL('./fixtures/web-scenarios.mjs', import.meta.url));

export async function startWebServer() {
  const http = createServer((req, res) => {
    if (req.url === '/web-scenarios.mjs') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(scenarios);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>ws test</title>');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const offers: string[] = [];
  const closes: Array<[number, string]> = [];
  /** The Sec-WebSocket-Extensions value the server accepted, per connection. */
  const accepted: string[] = [];
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
    async stop() {
      await wss.close({ timeout: 500 });
      await new Promise((resolve) => http.close(resolve));
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
