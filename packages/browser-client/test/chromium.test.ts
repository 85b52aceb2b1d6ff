// The shared scenarios in real headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core). A page has no raw sockets, so the client runs
// over the transport a browser does have: its bytes travel through a native
// WebSocket to a small TCP bridge on 127.0.0.1, which relays them to the
// real `ws` server. The RFC 6455 session itself (handshake, framing, masking)
// is this package's, running in the page.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { scenarioNames } from './fixtures/scenarios.mjs';
import { startTestServer, type TestServer } from './fixtures/server.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

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

describe('Chromium', () => {
  let server: TestServer;
  let page: Awaited<ReturnType<typeof startPageServer>>;
  let context: BrowserContext;
  let profile: string;
  let results: Record<string, { ok: boolean; error?: string }>;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's chromium (node scripts/ensure-chromium.mjs installs it)`);
    }
    server = await startTestServer();
    page = await startPageServer(server.port);
    profile = mkdtempSync(join(tmpdir(), 'browser-client-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true });
    const tab = context.pages()[0] ?? (await context.newPage());
    await tab.goto(page.url);
    // A string, not a function: vitest rewrites import() inside functions it transforms.
    results = await tab.evaluate(`(async () => {
      const lib = await import('/client.js');
      const { runScenarios } = await import('/scenarios.js');
      return runScenarios(lib, ${JSON.stringify(server.url)}, { transport: lib.webSocketTunnel(${JSON.stringify(page.bridge)}) });
    })()`);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await page?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test('the page really tunnelled through the bridge', () => {
    expect(page.tunnels()).toBeGreaterThan(10);
  });

  for (const name of scenarioNames) {
    test(name, () => {
      const result = results[name];
      expect(result, `${name} did not run`).toBeDefined();
      if (!result?.ok) throw new Error(`chromium: ${result?.error}`);
    });
  }
});
