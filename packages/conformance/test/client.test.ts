/**
 * This project's client, through its echo client for fuzzing servers
 * (`@rfc6455/browser-client`'s built echo-client), must pass every case:
 * offering permessage-deflate (the default, so the deflate family runs) and
 * with `--no-deflate` (the deflate family is then not applicable, nothing fails).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { DEFAULT_CLIENT_FAMILIES, FuzzingServer } from '../src/index.js';

const require = createRequire(import.meta.url);
const echoClient = join(dirname(require.resolve('@rfc6455/browser-client/package.json')), 'dist', 'echo-client.js');
const CASES = Number(process.env.CONFORMANCE_CASES ?? 300);
const SMALL_FLOODS = { bytes: 2 * 1024 * 1024, pings: 2_000 };

async function runEchoClient(port: number, agent: string, extra: string[]): Promise<void> {
  const child = spawn(process.execPath, [echoClient, '--url', `ws://127.0.0.1:${port}`, '--agent', agent, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, output.slice(-2000)).toBe(0);
}

it('the browser-client echo client passes every fuzzing-server case, permessage-deflate included', async () => {
  // Small floods: the limits family has its own tests at full size (limits.test.ts).
  const server = new FuzzingServer({ port: 0, cases: CASES, flood: SMALL_FLOODS });
  const { port } = await server.listen();
  try {
    await runEchoClient(port, 'browser-client', []);
    const report = server.report('browser-client');
    const failures = report.cases.filter((c) => c.verdict.status !== 'pass');
    expect(report.cases.length, `seed ${server.seed}`).toBe(server.caseCount);
    expect(failures, `seed ${server.seed}`).toEqual([]);
    // Every default family ran (limits: its floods), deflate with an agreement on every case.
    expect(new Set(report.cases.map((c) => c.family))).toEqual(new Set(DEFAULT_CLIENT_FAMILIES));
    const deflate = report.cases.filter((c) => c.family === 'deflate');
    expect(deflate.length).toBeGreaterThan(0);
    for (const c of deflate) expect(c.extensions.response, c.description).toMatch(/^permessage-deflate/);
    // Outside the deflate family the offer is declined.
    for (const c of report.cases) if (c.family !== 'deflate') expect(c.extensions.response).toBeUndefined();
  } finally {
    await server.close();
  }
});

it('with --no-deflate every case passes but the deflate ones, which are not applicable', async () => {
  const server = new FuzzingServer({ port: 0, cases: Math.ceil(CASES / 2), flood: SMALL_FLOODS });
  const { port } = await server.listen();
  try {
    await runEchoClient(port, 'no-deflate', ['--no-deflate']);
    const report = server.report('no-deflate');
    expect(report.failed, `seed ${server.seed}`).toBe(0);
    expect(report.cases.length).toBe(server.caseCount);
    for (const c of report.cases) {
      expect(c.extensions.offered).toBeUndefined();
      expect(c.verdict.status, `${c.case} ${c.description}`).toBe(c.family === 'deflate' ? 'n/a' : 'pass');
    }
    expect(report.notApplicable).toBeGreaterThan(0);
  } finally {
    await server.close();
  }
});
