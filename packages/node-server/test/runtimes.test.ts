// Node's own WebSocket (undici) and Deno's, each in a child process, run the
// same scenarios as Chromium (see fixtures/web-scenarios.mjs).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeers } from '../../../scripts/test-peers.js';
import { expected, startWebServer } from './web-server.js';

const client = fileURLToPath(new URL('./fixtures/web-client.mjs', import.meta.url));
const deno = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url));

function runClient(cmd: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: 30_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${cmd} failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop() as string));
      },
    );
  });
}

let server: Awaited<ReturnType<typeof startWebServer>>;
beforeAll(async () => {
  server = await startWebServer();
});
afterAll(async () => {
  await server.stop();
});

describe('web-standard clients in other runtimes', () => {
  it("Node's global WebSocket (undici)", async () => {
    const closesBefore = server.closes.length;
    const offersBefore = server.offers.length;
    const acceptedBefore = server.accepted.length;
    const result = await runClient(process.execPath, [
      '--experimental-websocket',
      '--no-warnings',
      client,
      `ws://127.0.0.1:${server.port}`,
    ]);
    expect(result).toEqual({ ...expected, rejected: { errored: true, code: null } });
    // Node 20's undici offers permessage-deflate (and inflates and deflates both ways).
    expect(server.offers.slice(offersBefore)).toEqual(Array(3).fill('permessage-deflate; client_max_window_bits'));
    expect(server.accepted.slice(acceptedBefore)).toEqual(['permessage-deflate', 'permessage-deflate']);
    expect(server.closes.slice(closesBefore).map(([code]) => code)).toEqual([4000, 4001]);
    expect(server.closes[closesBefore]).toEqual([4000, 'client bye']);
  });

  it.skipIf(missingPeers({ deno }) !== null)("Deno's WebSocket", async () => {
    const closesBefore = server.closes.length;
    const offersBefore = server.offers.length;
    const result = await runClient(deno, [
      'run',
      '--allow-net=127.0.0.1',
      '--no-prompt',
      client,
      `ws://127.0.0.1:${server.port}`,
    ]);
    // Deno 2.9's WebSocket offers no extension at all, so it runs uncompressed.
    expect(result).toEqual({ ...expected, extensions: '', rejected: { errored: true, code: 0 } });
    expect(server.offers.slice(offersBefore)).toEqual(['', '', '']);
    expect(server.closes.slice(closesBefore).map(([code]) => code)).toEqual([4000, 4001]);
  });
});
