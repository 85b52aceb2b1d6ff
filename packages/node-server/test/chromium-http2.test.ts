import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium, missingPeers } from '../../../scripts/test-peers.js';
import { type Transport, type WebSocket, WebSocketServer } from '../src/index.js';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';
import { expected, startWebServer } from './web-server.js';

let browser: Awaited<ReturnType<typeof launchChromium<BrowserContext>>> | undefined;
let context: BrowserContext;
const tls = selfSignedCertificate();

beforeAll(async () => {
  browser = await launchChromium(chromium, 'node-server-chromium-h2', { ignoreHTTPSErrors: true });
  context = browser.context;
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

interface Site {
  readonly origin: string;
  /** The HTTP/2 session that served the page, if it came over HTTP/2. */
  pageSession: ServerHttp2Session | undefined;
  readonly transports: Transport[];
  readonly extensions: string[];
  readonly closes: Array<[number, string]>;
  stop(): Promise<void>;
}

/** An h2 TLS server (HTTP/1.1 allowed) serving a blank page, with a WebSocketServer attached. */
async function startSite(options: { enableConnectProtocol: boolean; deflate: boolean }): Promise<Site> {
  const server: Http2SecureServer = createSecureServer({
    ...tls,
    allowHTTP1: true,
    settings: { enableConnectProtocol: options.enableConnectProtocol },
  });
  const site: Site = {
    origin: '',
    pageSession: undefined,
    transports: [],
    extensions: [],
    closes: [],
    stop: async () => {
      await wss.close({ timeout: 500 });
      server.close();
      for (const s of sessions) s.destroy();
    },
  };
  const sessions: ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  server.on('request', (req, res) => {
    if ('stream' in req) site.pageSession = req.stream.session as ServerHttp2Session;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>h2 ws test</title>');
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: options.deflate, heartbeatInterval: 0 });
  wss.on('connection', (ws: WebSocket) => {
    site.transports.push(ws.transport);
    site.extensions.push(ws.extensions);
    ws.on('close', (code, reason) => site.closes.push([code, reason]));
    ws.on('message', (data, isBinary) => {
      if (data === 'close me') ws.close(4001, 'server reason ✓');
      else ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (site as { origin: string }).origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return site;
}

/**
 * Runs in the page: echoes text, binary, 1 MiB of each, then closes from the
 * client on one socket and lets the server close another. Returns what the
 * page saw; sizes and equality are checked in the page so 1 MiB never crosses
 * the protocol driver.
 */
const PAGE_SCENARIO = `(async (url) => {
  const open = () => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error('websocket error'));
  });
  const reply = (ws) => new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); });
  const closed = (ws) => new Promise((resolve) => { ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean }); });
  const ws = await open();
  const out = { extensions: ws.extensions, nextHop: performance.getEntriesByType('navigation')[0].nextHopProtocol };
  let r = reply(ws); ws.send('héllo ✓'); out.text = await r;
  r = reply(ws); ws.send(new Uint8Array([0, 1, 2, 255])); out.binary = Array.from(new Uint8Array(await r));
  const big = new Uint8Array(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 255;
  r = reply(ws); ws.send(big);
  const echoed = new Uint8Array(await r);
  out.bigBinary = echoed.length === big.length && echoed.every((b, i) => b === big[i]);
  const bigText = 'ω'.repeat(1 << 19) + 'end';
  r = reply(ws); ws.send(bigText); out.bigText = (await r) === bigText;
  const c1 = closed(ws); ws.close(4000, 'client bye'); out.clientClose = await c1;
  const ws2 = await open();
  const c2 = closed(ws2); ws2.send('close me'); out.serverClose = await c2;
  return out;
})`;

describe.skipIf(missingPeers({ chromium: CHROMIUM }) !== null)('Chromium over HTTP/2', () => {
  it.each([
    { deflate: true, extensions: 'permessage-deflate' },
    { deflate: false, extensions: '' },
  ])(
    'opens wss:// WebSockets as extended CONNECT streams on the page’s h2 connection (deflate: $deflate)',
    async ({ deflate, extensions }) => {
      const site = await startSite({ enableConnectProtocol: true, deflate });
      try {
        const page = await context.newPage();
        await page.goto(`${site.origin}/`);
        const result = (await page.evaluate(
          `${PAGE_SCENARIO}('wss://127.0.0.1:${site.origin.split(':')[2]}/echo')`,
        )) as Record<string, unknown>;
        await page.close();
        expect(result).toEqual({
          extensions: deflate ? expect.stringMatching(/^permessage-deflate/) : '',
          nextHop: 'h2',
          text: 'héllo ✓',
          binary: [0, 1, 2, 255],
          bigBinary: true,
          bigText: true,
          clientClose: { code: 4000, reason: 'client bye', wasClean: true },
          serverClose: { code: 4001, reason: 'server reason ✓', wasClean: true },
        });
        expect(site.pageSession).toBeDefined();
        expect(site.transports).toHaveLength(2);
        for (const t of site.transports) {
          expect(t.type).toBe('http2');
          // The same HTTP/2 connection that carried the page.
          expect(t.type === 'http2' && t.session).toBe(site.pageSession);
        }
        expect(site.extensions.map((e) => e.split(';')[0])).toEqual([extensions, extensions]);
        expect(site.closes).toEqual([
          [4000, 'client bye'],
          [4001, 'server reason ✓'],
        ]);
      } finally {
        await site.stop();
      }
    },
  );

  it('runs the shared web scenarios over HTTP/2, as the HTTP/1.1 Chromium test does', async () => {
    const server = await startWebServer({ http2: tls });
    try {
      const page = await context.newPage();
      await page.goto(`https://127.0.0.1:${server.port}/`);
      // A string, so vitest's transform leaves the dynamic import alone.
      const result = await page.evaluate(
        `import('/web-scenarios.mjs').then((m) => m.run('wss://127.0.0.1:${server.port}'))`,
      );
      await page.close();
      expect(result).toEqual(expected);
      expect(server.offers).toEqual(Array(3).fill('permessage-deflate; client_max_window_bits'));
      expect(server.accepted).toEqual(['permessage-deflate', 'permessage-deflate']);
      expect(server.closes).toEqual([
        [4000, 'client bye'],
        [4001, 'server reason ✓'],
      ]);
      expect(server.transports.map((t) => t.type)).toEqual(['http2', 'http2']);
    } finally {
      await server.stop();
    }
  });

  it('falls back to an HTTP/1.1 upgrade when the server does not enable extended CONNECT', async () => {
    const site = await startSite({ enableConnectProtocol: false, deflate: true });
    try {
      const page = await context.newPage();
      await page.goto(`${site.origin}/`);
      const result = (await page.evaluate(
        `${PAGE_SCENARIO}('wss://127.0.0.1:${site.origin.split(':')[2]}/echo')`,
      )) as Record<string, unknown>;
      await page.close();
      expect(result).toMatchObject({ nextHop: 'h2', text: 'héllo ✓', bigBinary: true, bigText: true });
      expect(site.pageSession).toBeDefined();
      expect(site.transports.map((t) => t.type)).toEqual(['http1', 'http1']);
    } finally {
      await site.stop();
    }
  });
});
