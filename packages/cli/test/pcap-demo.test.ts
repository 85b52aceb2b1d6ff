import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, test as baseTest, expect } from 'vitest';
import { CHROMIUM, launchChromium, missingPeers } from '../../../scripts/test-peers.js';
import { run, start, stop } from './helpers.js';

/** Every test here drives Debian's Chromium. */
const test = baseTest.skipIf(missingPeers({ chromium: CHROMIUM }) !== null);

const EXAMPLE = fileURLToPath(new URL('../../../examples/captures/socketio-upgrade.pcapng', import.meta.url));
let demo: Awaited<ReturnType<typeof start>>;
let browser: Awaited<ReturnType<typeof launchChromium<BrowserContext>>> | undefined;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  demo = await start(['demo', '--port', '0'], /http:\/\/localhost:(\d+)\//);
  browser = await launchChromium(chromium, 'rfc6455-demo-pcap');
  context = browser.context;
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${demo.match[1]}/`);
});

afterAll(async () => {
  await browser?.close();
  if (demo && demo.child.exitCode === null) await stop(demo.child, 'SIGKILL');
});

test('a capture picked in the page is dissected there as the CLI dissects it', async () => {
  await page.locator('#capture-file').setInputFiles(EXAMPLE);
  const panel = page.locator('#capture');
  await panel.locator('[data-kind=summary]').waitFor();
  const cli = await run(['decode', '--pcap', EXAMPLE, '--json']);
  const records = cli.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; record?: { kind: string } });
  const count = (type: string) => records.filter((r) => r.type === type).length;
  const wsCount = (kind: string) => records.filter((r) => r.type === 'websocket' && r.record?.kind === kind).length;
  expect(await panel.locator('.rec[data-kind=frame]').count()).toBe(wsCount('frame'));
  expect(await panel.locator('.rec[data-kind=message]').count()).toBe(wsCount('message'));
  expect(await panel.locator('[data-kind=socket-io]').count()).toBe(count('socket-io'));
  expect(count('socket-io')).toBeGreaterThan(5);
  // Non-WebSocket records carry the CLI's own text for them.
  const text = await run(['decode', '--pcap', EXAMPLE]);
  const pageLines = await panel
    .locator('[data-kind=socket-io], [data-kind=engine-session], [data-kind=summary]')
    .allTextContents();
  const cliLines = text.stdout
    .split('\n')
    .filter((l) => /Socket\.IO |Engine\.IO session|packets, \d+ connections/.test(l));
  expect(pageLines).toEqual(cliLines);
  expect(pageLines.join('\n')).toMatch(/upgraded to WebSocket on connection #\d+; it started on polling/);
});
