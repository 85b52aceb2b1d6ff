/**
 * Chromium's native WebSocket runs the web scenarios against the Bun and
 * Deno listeners (the real binaries), negotiating permessage-deflate. The
 * page and its module come from a Node http server; the WebSockets go to the
 * runtime's port.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium, missingPeers } from '../../../scripts/test-peers.js';
import { BUN, DENO, type Runtime, startWebScenarioServer } from './runtime-server.js';
import { expected } from './web-server.js';

const missing = missingPeers({ chromium: CHROMIUM, deno: DENO, bun: BUN });
const scenarios = readFileSync(new URL('./fixtures/web-scenarios.mjs', import.meta.url));

let page: Server;
let pagePort: number;
let browser: Awaited<ReturnType<typeof launchChromium<BrowserContext>>> | undefined;

beforeAll(async () => {
  if (missing !== null) return;
  page = createServer((req, res) => {
    if (req.url === '/web-scenarios.mjs') res.writeHead(200, { 'content-type': 'text/javascript' }).end(scenarios);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>ws test</title>');
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pagePort = (page.address() as AddressInfo).port;
  browser = await launchChromium(chromium, 'node-server-runtime-chromium');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (page) await new Promise((resolve) => page.close(resolve));
});

describe.skipIf(missing !== null).each(['deno', 'bun'] as const)(
  'Chromium against the %s listener',
  (runtime: Runtime) => {
    it('runs the scenarios with its native WebSocket; negotiating permessage-deflate', async () => {
      const server = await startWebScenarioServer(runtime);
      try {
        expect(server.runtime.startsWith(runtime)).toBe(true);
        const tab = await (browser as NonNullable<typeof browser>).context.newPage();
        await tab.goto(`http://127.0.0.1:${pagePort}/`);
        // A string, so vitest's transform leaves the dynamic import alone.
        const result = await tab.evaluate(
          `import('/web-scenarios.mjs').then((m) => m.run('ws://127.0.0.1:${server.port}'))`,
        );
        expect(result).toEqual(expected);
        await tab.close();
        // Three upgrade requests, two connections, two closes.
        await server.until(7);
        const events = server.later.map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(events.filter((e) => 'offer' in e).map((e) => e.offer)).toEqual(
          Array(3).fill('permessage-deflate; client_max_window_bits'),
        );
        expect(events.filter((e) => 'accepted' in e).map((e) => e.accepted)).toEqual([
          'permessage-deflate',
          'permessage-deflate',
        ]);
        expect(events.filter((e) => 'close' in e).map((e) => e.close)).toEqual([
          [4000, 'client bye'],
          [4001, 'server reason ✓'],
        ]);
      } finally {
        await server.stop();
      }
    });
  },
);
