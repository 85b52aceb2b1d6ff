// The shared scenarios in real headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core). A page has no raw sockets, so the client runs
// over the transport a browser does have: its bytes travel through a native
// WebSocket to a small TCP bridge on 127.0.0.1, which relays them to the
// real `ws` server. The RFC 6455 session itself (handshake, framing, masking)
// is this package's, running in the page.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { scenarioNames } from './fixtures/scenarios.mjs';
import { CHROMIUM, launchChromium, missingPeers } from '../../../scripts/test-peers.js';
import { startTestServer, type TestServer } from './fixtures/server.js';

/** Serves the page, the bundled client and the scenarios, and bridges /bridge?target=host:port to TCP. */
async function startPageServer(allowedPort: number) {
  const bundle = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('../dist/index.js', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const files: Record<string, [string, string]> = {
    '/': ['text/html', '<!doctype html><title>browser-client</title>'],
    '/client.js': ['text/javascript', bundle.outputFiles[0]?.text ?? ''],
    '/scenarios.js': ['text/javascript', readFileSync(new URL('./fixtures/scenarios.mjs', import.meta.url), 'utf8')],
  };
  const server = http.createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (file === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  const bridge = new WebSocketServer({ server, path: '/bridge', maxPayload: 64 * 1024 * 1024 });
  let tunnels = 0;
  bridge.on('connection', (ws, req) => {
    const target = new URL(req.url ?? '', 'http://x').searchParams.get('target') ?? '';
    // Only the test server: a bridge must never be an open relay.
    if (target !== `127.0.0.1:${allowedPort}`) {
      ws.close(4403, 'target not allowed');
      return;
    }
    tunnels++;
    const socket = net.connect(allowedPort, '127.0.0.1');
    socket.on('data', (chunk) => ws.send(chunk, { binary: true }));
    socket.on('end', () => ws.close(1000));
    socket.on('error', () => ws.terminate());
    ws.on('message', (data) => socket.write(data as Buffer));
    ws.on('close', () => socket.end());
    ws.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    bridge: `ws://127.0.0.1:${port}/bridge`,
    tunnels: () => tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of bridge.clients) c.terminate();
        bridge.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Responses the client must refuse (the same list as the deflateBadResponse scenario, default options). */
const BAD_EXTENSIONS = [
  'x-unknown',
  'permessage-deflate; server_max_window_bits=7',
  'permessage-deflate; client_max_window_bits',
  'permessage-deflate; mystery',
  'permessage-deflate, permessage-deflate',
];

describe.skipIf(missingPeers({ chromium: CHROMIUM }) !== null)('Chromium', () => {
  let server: TestServer;
  let page: Awaited<ReturnType<typeof startPageServer>>;
  let browser: Awaited<ReturnType<typeof launchChromium<BrowserContext>>> | undefined;
  let context: BrowserContext;
  let results: Record<string, { ok: boolean; error?: string }>;
  let native: { offer: string; extensions: string; bad: Record<string, string> };

  beforeAll(async () => {
    server = await startTestServer();
    page = await startPageServer(server.port);
    browser = await launchChromium(chromium, 'browser-client-chromium');
    context = browser.context;
    const tab = context.pages()[0] ?? (await context.newPage());
    await tab.goto(page.url);
    // A string, not a function: vitest rewrites import() inside functions it transforms.
    results = await tab.evaluate(`(async () => {
      const lib = await import('/client.js');
      const { runScenarios } = await import('/scenarios.js');
      return runScenarios(lib, ${JSON.stringify(server.url)}, { transport: lib.webSocketTunnel(${JSON.stringify(page.bridge)}) });
    })()`);
    // The reference: Chromium's own WebSocket against the same server.
    native = await tab.evaluate(`(async () => {
      const base = ${JSON.stringify(server.url)};
      const run = (path, onMessage) => new Promise((resolve) => {
        const ws = new WebSocket(base + path);
        const order = [];
        ws.onopen = () => order.push('open');
        ws.onerror = () => order.push('error');
        ws.onmessage = (ev) => onMessage?.(ws, ev.data);
        ws.onclose = (ev) => resolve({ order: [...order, 'close'].join(), code: ev.code, clean: ev.wasClean, extensions: ws.extensions });
      });
      let offer = '';
      await run('/headers', (ws, data) => { offer = JSON.parse(data)['sec-websocket-extensions']; ws.close(); });
      let extensions = '';
      await run('/deflate/headers', (ws) => { extensions = ws.extensions; ws.close(); });
      const bad = {};
      for (const ext of ${JSON.stringify(BAD_EXTENSIONS)}) {
        const r = await run('/bad-ext?ext=' + encodeURIComponent(ext));
        bad[ext] = r.order + ' ' + r.code + ' ' + r.clean;
      }
      return { offer, extensions, bad };
    })()`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await page?.close();
    await server?.close();
  });

  test('the page really tunnelled through the bridge', () => {
    expect(page.tunnels()).toBeGreaterThan(10);
  });

  test("Chromium's native WebSocket: the same offer, extensions value and failures as this client", () => {
    expect(native.offer).toBe('permessage-deflate; client_max_window_bits');
    expect(native.extensions).toBe('permessage-deflate');
    for (const ext of BAD_EXTENSIONS) expect(native.bad[ext], ext).toBe('error,close 1006 false');
  });

  for (const name of scenarioNames) {
    test(name, () => {
      const result = results[name];
      expect(result, `${name} did not run`).toBeDefined();
      if (!result?.ok) throw new Error(`chromium: ${result?.error}`);
    });
  }
});
