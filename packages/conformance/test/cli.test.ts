/**
 * The commands as users run them (built `dist/`): `pnpm fuzz` with a short
 * budget against a server, the `--json` reports of `pnpm fuzz` and `pnpm run
 * conformance`, and `pnpm run conformance` against a wss:// server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from '@rfc6455/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FAMILIES } from '../src/index.js';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';

const dist = join(import.meta.dirname, '..', 'dist');
const dir = mkdtempSync(join(tmpdir(), 'conformance-cli-'));
let wss: WebSocketServer;
let url: string;

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxMessageSize: 70_000, perMessageDeflate: true });
  wss.on('connection', (ws) => ws.on('message', (data: string | Buffer) => ws.send(data)));
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});
afterAll(() => wss.close({ timeout: 1000 }));

/** Runs a built command asynchronously (the server under test lives in this process). */
function run(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(dist, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

interface FamilyJson {
  family: string;
  status: string;
  runs: number;
  passed: number;
  ms: number;
}

it('pnpm fuzz --url with a short budget exits 0, prints each round and a summary, and writes --json', async () => {
  const json = join(dir, 'fuzz.json');
  const { code, out } = await run('fuzz.js', [
    '--url',
    url,
    '--runs',
    '20',
    '--minutes',
    '0.05',
    '--deflate',
    '--max-message-size',
    '70000',
    '--flood-bytes',
    '4000000',
    '--json',
    json,
  ]);
  expect(code, out.slice(-3000)).toBe(0);
  expect(out).toContain('round 1\nconformance of ');
  expect(out).toMatch(/fuzz: (\d+) round\(s\), (\d+) cases against ws:\/\/127\.0\.0\.1:\d+ in [\d.]+ s: all passed\n$/);
  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    rounds: number;
    ok: boolean;
    seconds: number;
    reports: { families: FamilyJson[] }[];
  };
  expect(report.ok).toBe(true);
  expect(report.reports.length).toBe(report.rounds);
  for (const r of report.reports) {
    expect(r.families.map((f) => f.family)).toEqual([...FAMILIES]);
    for (const f of r.families) expect(f).toMatchObject({ status: 'passed', runs: 20, passed: 20 });
  }
  // The budget (3 s) is checked between rounds: rounds go on until it is used
  // up, and at most one round runs past it, so every round before the last
  // ran inside it, by the report's own timings.
  expect(report.seconds).toBeGreaterThanOrEqual(3);
  const roundMs = report.reports.map((r) => r.families.reduce((ms, f) => ms + f.ms, 0));
  expect(roundMs.slice(0, -1).reduce((a, b) => a + b, 0)).toBeLessThan(3000);
});

it('pnpm run conformance --json writes the report with per-family counts', async () => {
  const json = join(dir, 'report.json');
  const { code, out } = await run('cli.js', [
    '--url',
    url,
    '--runs',
    '8',
    '--seed',
    '5',
    '--family',
    'handshake,framing,close,limits',
    '--flood-bytes',
    '2000000',
    '--flood-pings',
    '300',
    '--json',
    json,
  ]);
  expect(code, out.slice(-3000)).toBe(0);
  expect(out).toContain('4 families passed, 0 failed, 0 not applicable');
  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    url: string;
    seed: number;
    ok: boolean;
    families: (FamilyJson & { reason?: string; policies: Record<string, number> })[];
  };
  expect(report).toMatchObject({ url, seed: 5, ok: true });
  expect(report.families.map((f) => [f.family, f.status, f.runs, f.passed])).toEqual([
    ['handshake', 'passed', 8, 8],
    ['framing', 'passed', 8, 8],
    ['close', 'passed', 8, 8],
    ['limits', 'passed', 8, 8],
  ]);
  // Without a limit the limits family runs its floods only, and says so.
  expect(report.families[3]).toMatchObject({ note: 'floods only: no --max-message-size given' });
});

it('pnpm run conformance --url wss://… verifies with --ca FILE, says --insecure, and fails without either', async () => {
  const certificate = selfSignedCertificate();
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, certificate.cert);
  const tls = new WebSocketServer({ port: 0, host: '127.0.0.1', ...certificate, maxMessageSize: 70_000 });
  tls.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => tls.on('listening', () => resolve()));
  const wssUrl = `wss://127.0.0.1:${(tls.address() as AddressInfo).port}`;
  const common = ['--url', wssUrl, '--runs', '5', '--family', 'framing,limits', '--flood-bytes', '1000000'];
  try {
    const verified = await run('cli.js', [...common, '--ca', ca, '--max-message-size', '70000']);
    expect(verified.code, verified.out.slice(-3000)).toBe(0);
    expect(verified.out).toMatch(new RegExp(`conformance of ${wssUrl} \\(seed \\d+\\)\n`));
    expect(verified.out).toContain('2 families passed, 0 failed, 0 not applicable');

    const insecure = await run('cli.js', [...common, '--insecure', '--max-message-size', '70000']);
    expect(insecure.code, insecure.out.slice(-3000)).toBe(0);
    expect(insecure.out).toMatch(
      new RegExp(`conformance of ${wssUrl} \\(seed \\d+, TLS certificate NOT verified: --insecure\\)\n`),
    );

    const unverified = await run('cli.js', common);
    expect(unverified.code).toBe(1);
    expect(unverified.out).toContain(
      "why:     handshake: TLS: the server's certificate did not verify: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT); trust its CA with --ca FILE, or skip verification with --insecure",
    );

    // A failure found with --ca replays with --ca too. Told a limit above the server's, every message of
    // exactly that limit fails; the variants that would pass are skipped, so every case fails.
    const wrongLimit = await run('cli.js', [
      ...common,
      '--family',
      'limits',
      '--ca',
      ca,
      '--max-message-size',
      '80000',
      '--skip',
      'limits/message-over,limits/many-fragments-over,limits/over-declared,limits/ping-flood,limits/slow-reader',
    ]);
    expect(wrongLimit.code, wrongLimit.out.slice(-3000)).toBe(1);
    expect(wrongLimit.out).toContain(
      `replay:  pnpm run conformance --ca ${ca} --url ${wssUrl} --family limits --seed=`,
    );

    const plain = await run('cli.js', ['--url', url, '--insecure']);
    expect(plain.code).toBe(2);
    expect(plain.out).toContain('ca and insecure apply to wss:// URLs only');
  } finally {
    await tls.close({ timeout: 1000 });
  }
});
