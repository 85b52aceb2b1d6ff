// Chromium's native WebSocket, in real headless Debian chromium driven by
// playwright-core, runs the same scenarios as Deno and undici against a page
// served by the server under test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, missingPeers } from '../../../scripts/test-peers.js';
import { expected, startWebServer } from './web-server.js';

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

let server: Awaited<ReturnType<typeof startWebServer>>;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  server = await startWebServer();
  profile = mkdtempSync(join(tmpdir(), 'node-server-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await server?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
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
