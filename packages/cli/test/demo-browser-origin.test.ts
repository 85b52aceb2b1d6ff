// The cross-site WebSocket hijacking attempt as it happens: real headless
// Chromium on a page from another origin (another port is another origin)
// opens `rfc6455 demo`'s /inspect and /echo, and the browser's own Origin
// header gets it refused, while the demo's page still connects.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, test as baseTest, expect } from 'vitest';
import { CHROMIUM, launchChromium, missingPeers } from '../../../scripts/test-peers.js';
import { start, stop } from './helpers.js';

/** Every test here drives Debian's Chromium. */
const test = baseTest.skipIf(missingPeers({ chromium: CHROMIUM }) !== null);

let demo: Awaited<ReturnType<typeof start>>;
let other: Server;
let browser: Awaited<ReturnType<typeof launchChromium<BrowserContext>>> | undefined;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  demo = await start(['demo', '--port', '0'], /http:\/\/localhost:(\d+)\//);
  other = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>some other site</title>'),
  );
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  browser = await launchChromium(chromium, 'rfc6455-origin');
  context = browser.context;
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await browser?.close();
  if (demo && demo.child.exitCode === null) await stop(demo.child, 'SIGKILL');
  await new Promise<void>((resolve) => (other ? other.close(() => resolve()) : resolve()));
});

/** Opens a WebSocket from the page and reports whether it opened (and the first message, if any). */
function tryOpen(target: string): Promise<string> {
  return page.evaluate(
    (url) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => {
          ws.close();
          resolve('open');
        };
        ws.onclose = (ev) => resolve(`closed ${ev.code}`);
      }),
    target,
  );
}

test('a page from another origin cannot open the demo’s WebSockets; the demo’s own page can', async () => {
  const port = demo.match[1];
  await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
  expect(await tryOpen(`ws://127.0.0.1:${port}/inspect`)).toBe('closed 1006');
  expect(await tryOpen(`ws://localhost:${port}/echo`)).toBe('closed 1006');

  await page.goto(`http://localhost:${port}/`);
  expect(await tryOpen(`ws://localhost:${port}/inspect`)).toBe('open');
  await page.goto(`http://127.0.0.1:${port}/`);
  expect(await tryOpen(`ws://127.0.0.1:${port}/echo`)).toBe('open');
});
