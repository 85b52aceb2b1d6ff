// The shared scenarios on real Deno and real Bun (the binaries from the `deno`
// and `bun` npm packages), each running the built package against the `ws`
// server in this process.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { missingPeers } from '../../../scripts/test-peers.js';
import { scenarioNames } from './fixtures/scenarios.mjs';
import { startProjectServer } from './fixtures/project-server.js';
import { startTestServer, type TestServer } from './fixtures/server.js';

const here = dirname(fileURLToPath(import.meta.url));
const runner = join(here, 'fixtures', 'run-scenarios.mjs');
const require = createRequire(import.meta.url);

/** The runtime binaries inside the npm packages (bin scripts point at them). */
function binary(pkg: 'deno' | 'bun'): string {
  require.resolve(`${pkg}/package.json`); // a clear error when the package is missing
  return join(here, '..', 'node_modules', '.bin', pkg);
}

interface Report {
  runtime: string;
  results: Record<string, { ok: boolean; error?: string }>;
}

function run(command: string, args: string[]): Promise<Report> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: 90_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').at(-1) ?? '';
        try {
          resolve(JSON.parse(line) as Report);
        } catch {
          reject(new Error(`${command} failed: ${error?.message ?? ''}\nstdout: ${stdout}\nstderr: ${stderr}`));
        }
      },
    );
  });
}

let server: TestServer;
let projectServer: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  projectServer = await startProjectServer();
});
afterAll(() => Promise.all([server.close(), projectServer.close()]));

const deno = (url: () => string) => () =>
  run(binary('deno'), ['run', '--allow-net=127.0.0.1', '--allow-read', '--no-prompt', runner, 'deno', url()]);
const bun = (url: () => string) => () => run(binary('bun'), [runner, 'bun', url()]);
const runtimesMissing = missingPeers({
  deno: join(here, '..', 'node_modules', '.bin', 'deno'),
  bun: join(here, '..', 'node_modules', '.bin', 'bun'),
});

describe.skipIf(runtimesMissing !== null).each([
  ['deno', 'ws', deno(() => server.url)],
  ['bun', 'ws', bun(() => server.url)],
  ['deno', "this project's node-server", deno(() => projectServer.url)],
  ['bun', "this project's node-server", bun(() => projectServer.url)],
] as const)('%s against %s', (name, _against, start) => {
  let report: Promise<Report>;
  beforeAll(() => {
    report = start();
  });
  test('runs and reports', async () => {
    const r = await report;
    expect(r.runtime.startsWith(name)).toBe(true);
  });
  for (const scenario of scenarioNames) {
    test(scenario, async () => {
      const r = await report;
      const result = r.results[scenario];
      expect(result, `${scenario} did not run`).toBeDefined();
      if (!result?.ok) throw new Error(`${name}: ${result?.error}`);
    });
  }
});
