/**
 * This project's client, through its echo client for fuzzing servers
 * (`@rfc6455/browser-client`'s built echo-client), must pass every case.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { FuzzingServer } from '../src/index.js';

const require = createRequire(import.meta.url);
const echoClient = join(dirname(require.resolve('@rfc6455/browser-client/package.json')), 'dist', 'echo-client.js');

it('the browser-client echo client passes every fuzzing-server case', async () => {
  const server = new FuzzingServer({ port: 0, cases: Number(process.env.CONFORMANCE_CASES ?? 300) });
  const { port } = await server.listen();
  try {
    const child = spawn(process.execPath, [echoClient, '--url', `ws://127.0.0.1:${port}`, '--agent', 'browser-client'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, output.slice(-2000)).toBe(0);
    const report = server.report('browser-client');
    const failures = report.cases.filter((c) => c.verdict.status !== 'pass');
    expect(report.cases.length, `seed ${server.seed}`).toBe(server.caseCount);
    expect(failures, `seed ${server.seed}`).toEqual([]);
    // Every client family ran.
    expect(new Set(report.cases.map((c) => c.family)).size).toBe(6);
  } finally {
    await server.close();
  }
});
