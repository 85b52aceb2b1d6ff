import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium, missingPeers } from '../../../scripts/test-peers.js';
import { expected, startWebServer } from './web-server.js';

let server: Awaited<ReturnType<typeof startWebServer>>;
let browser: Awaited<ReturnType<typeof launchChromium<BrowserContext>>> | undefined;
let context: BrowserContext;

beforeAll(async () => {
  server = await startWebServer();
  browser = await launchChromium(chromium, 'node-server-chromium');
  context = browser.context;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe.skipIf(missingPeers({ chromium: CHROMIUM }) !== null)('Chromium', () => {
  it('runs the scenarios with its native WebSocket; negotiating permessage-deflate', async () => {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/`);
    const closesBefore = server.closes.length;
    const offersBefore = server.offers.length;
    const acceptedBefore = server.accepted.length;
    // A string, so vitest's transform leaves the dynamic import alone.
    const result = await page.evaluate(
      `import('/web-scenarios.mjs').then((m) => m.run('ws://127.0.0.1:${server.port}'))`,
    );
    expect(result).toEqual(expected);
    // result.extensions is the page's ws.extensions: 'permessage-deflate' (in `expected`).
    expect(server.offers.slice(offersBefore)).toEqual(Array(3).fill('permessage-deflate; client_max_window_bits'));
    expect(server.accepted.slice(acceptedBefore)).toEqual(['permessage-deflate', 'permessage-deflate']);
    expect(server.closes.slice(closesBefore)).toEqual([
      [4000, 'client bye'],
      [4001, 'server reason ✓'],
    ]);
    await page.close();
  });
});
