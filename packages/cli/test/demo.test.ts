// The demo page in real headless Chromium (Debian's /usr/bin/chromium via
// playwright-core), served by `rfc6455 demo` as a separate process: the page's
// native WebSocket talks to node-server's echo through the wire tap, and the
// codec bundled into the page dissects what the tap saw.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, test as baseTest, expect } from 'vitest';
import { CHROMIUM, launchChromium, missingPeers } from '../../../scripts/test-peers.js';
import { start, stop } from './helpers.js';

/** Every test here drives Debian's Chromium. */
const test = baseTest.skipIf(missingPeers({ chromium: CHROMIUM }) !== null);

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

let demo: Awaited<ReturnType<typeof start>>;
let browser: Awaited<ReturnType<typeof launchChromium<BrowserContext>>> | undefined;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  demo = await start(['demo', '--port', '0'], /http:\/\/localhost:(\d+)\//);
  browser = await launchChromium(chromium, 'rfc6455-demo', { viewport: { width: 1440, height: 1000 } });
  context = browser.context;
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${demo.match[1]}/`);
  await page.locator('#status[data-state=open]').waitFor();
});

afterAll(async () => {
  await browser?.close();
  if (demo && demo.child.exitCode === null) await stop(demo.child, 'SIGKILL');
});

const inspector = () => page.locator('#inspector');

test('the opening handshake is shown with its headers and the computed accept key', async () => {
  const request = inspector().locator('.rec[data-kind=http-request][data-from=client]').first();
  await expect.poll(() => request.textContent()).toContain('Sec-WebSocket-Key');
  expect(await request.textContent()).toMatch(/computed Sec-WebSocket-Accept = .*= [A-Za-z0-9+/]{27}=/);
  const response = inspector().locator('.rec[data-kind=http-response][data-from=server]').first();
  const text = await response.textContent();
  expect(text).toContain('101 Switching Protocols');
  expect(text).toContain('✓ Sec-WebSocket-Accept matches');
  expect(text).toContain('permessage-deflate');
});

test('a text and a binary message show as frames in both directions', async () => {
  await page.fill('#text', 'Hello, inspector!');
  await page.click('#text-form button');
  // The browser compresses what it sends (permessage-deflate): the inspector inflates it.
  const clientFrame = inspector()
    .locator('.rec[data-kind=frame][data-from=client][data-opcode=text][data-masked=true]')
    .first();
  await clientFrame.waitFor();
  const clientText = await clientFrame.textContent();
  expect(clientText).toMatch(/MASK 1/);
  expect(clientText).toMatch(/key [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}/);
  expect(clientText).toMatch(/length \d+ \(7-bit\)/);
  await expect
    .poll(() => inspector().locator('.rec[data-kind=message][data-from=client]').first().textContent())
    .toContain('Hello, inspector!');
  // The server echoes small messages uncompressed: the text is in the frame itself.
  const serverFrame = inspector().locator('.rec[data-kind=frame][data-from=server][data-opcode=text]').first();
  await serverFrame.waitFor();
  const serverText = await serverFrame.textContent();
  expect(serverText).toContain('MASK 0');
  expect(serverText).toContain('length 17 (7-bit)');
  expect(serverText).toContain('"Hello, inspector!"');

  await page.fill('#binary', 'de ad be ef');
  await page.click('#binary-form button');
  const binary = inspector().locator('.rec[data-kind=frame][data-from=server][data-opcode=binary]').first();
  await binary.waitFor();
  expect(await binary.textContent()).toContain('de ad be ef');
  await page.click('#send-200');
  await inspector().locator('.rec[data-kind=frame][data-from=server][data-length-encoding="16-bit"]').first().waitFor();
  await expect.poll(() => page.locator('#messages .received').count()).toBeGreaterThanOrEqual(3);
});

test('pasted hex is dissected by the codec in the page', async () => {
  await page.fill('#hex', '81 85 37 fa 21 3d 7f 9f 4d 51 58  88 82 00 00 00 00 03 e8');
  await page.click('#hex-form button');
  const out = page.locator('#dissection');
  await expect.poll(() => out.textContent()).toContain('from the client (first frame is masked)');
  const frame = out.locator('.rec[data-kind=frame][data-opcode=text]');
  const text = await frame.textContent();
  expect(text).toContain('key 37 fa 21 3d');
  expect(text).toContain('"Hello"');
  expect(text).toContain('length 5 (7-bit)');
  expect(await out.locator('.rec[data-kind=frame][data-opcode=close]').textContent()).toContain(
    'close code 1000: Normal Closure',
  );
  expect(await out.textContent()).toContain('✓ all 19 bytes decoded');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'demo.png') });

  // Invalid input says where decoding stopped and why (the codec's reason and close code).
  await page.fill('#hex', '81 05 48 65 6c 6c 6f');
  await page.selectOption('#hex-from', 'client');
  await page.click('#hex-form button');
  await expect.poll(() => out.textContent()).toContain('decoding stopped at byte 0: 1002');
});

test('without compression a 70 KB message uses 64-bit lengths both ways', async () => {
  await page.uncheck('#deflate');
  await expect.poll(() => page.locator('#status').textContent()).toContain('no compression');
  await page.click('#send-70k');
  for (const from of ['client', 'server']) {
    const frame = inspector()
      .locator(`.rec[data-kind=frame][data-from=${from}][data-length-encoding="64-bit"]`)
      .first();
    await frame.waitFor();
    expect(await frame.textContent()).toContain('length 70000 (64-bit)');
  }
});

test('Ctrl-C closes the page connections with 1001 and exits cleanly', async () => {
  expect(await stop(demo.child, 'SIGINT')).toBe(0);
  await expect.poll(() => page.locator('#status').textContent()).toMatch(/closed 1001/);
  expect(await inspector().locator('.close-info').last().textContent()).toContain('1001: Going Away');
});
