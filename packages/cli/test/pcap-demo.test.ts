// The demo page's capture panel in headless Chromium: the example capture,
// picked with the file input, is dissected in the page into the same
// records `rfc6455 decode --pcap` prints (the text of each non-WebSocket
// record is the CLI's line for it, and the page shows as many frames,
// messages and Socket.IO packets).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { run, start, stop } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/captures/socketio-upgrade.pcapng', import.meta.url));
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

let demo: Awaited<ReturnType<typeof start>>;
let context: BrowserContext;
let page: Page;
let profile: string;

beforeAll(async () => {
  demo = await start(['demo', '--port', '0'], /http:\/\/localhost:(\d+)\//);
  profile = mkdtempSync(join(tmpdir(), 'rfc6455-demo-pcap-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: ARGS });
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${demo.match[1]}/`);
});

afterAll(async () => {
  await context?.close();
  if (demo && demo.child.exitCode === null) await stop(demo.child, 'SIGKILL');
  rmSync(profile, { recursive: true, force: true });
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
