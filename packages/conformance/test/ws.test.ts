/**
 * `ws` as a reference point. Every family passes except where ws deviates, and
 * each known deviation is asserted precisely, so this fails if ws changes.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { formatServerReport, runServerSuite } from '../src/index.js';

const LIMIT = 70_000;
let wss: WebSocketServer;
let url: string;

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: LIMIT, perMessageDeflate: true });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

/** Handshake variants where ws deviates (asserted one by one in handshake.test.ts). */
const handshakeDeviations = [
  'handshake/trailing-htab',
  'handshake/invalid/http-1-0',
  'handshake/invalid/no-host',
  'handshake/invalid/version-8',
];

it('ws passes every family, permessage-deflate included, once its deviations are left out', async () => {
  // The ping flood is asserted in limits.test.ts: ws terminates without a close frame after 60 pending pongs.
  const report = await runServerSuite({
    url,
    runs: Number(process.env.CONFORMANCE_RUNS ?? 40),
    maxMessageSize: LIMIT,
    deflate: true,
    skip: ['utf8/fail-fast', 'framing/length', 'limits/ping-flood', ...handshakeDeviations],
  });
  const text = formatServerReport(report);
  expect(report.ok, text).toBe(true);
  expect(report.families.map((f) => f.status)).toEqual(report.families.map(() => 'passed'));
  // Where the RFC leaves a choice, ws accepts: 1012–1014 and non-minimal lengths are never rejected.
  // (A slow reader's flood is not a choice the RFC leaves open; whether ws pushed back is only recorded.)
  for (const f of report.families)
    if (f.family !== 'handshake')
      for (const key of Object.keys(f.policies)) expect(key).toMatch(/: accepted$|^limits\/slow-reader: /);
});

it('deviation: ws validates UTF-8 only when a fragmented text message is complete, so it does not fail fast', async () => {
  const report = await runServerSuite({
    url,
    runs: 5,
    seed: 1,
    families: ['utf8'],
    skip: ['utf8/valid-fragmented', 'utf8/utf8'],
    timing: { failTimeout: 300 },
  });
  const [utf8] = report.families;
  expect(utf8?.status).toBe('failed');
  expect(utf8?.failure?.variant).toBe('utf8/fail-fast');
  expect(utf8?.failure?.reason).toBe('did not fail the connection within 300 ms (expected 1007)');
  expect(utf8?.failure?.reproduce).toContain('--family utf8 --seed=1 --path ');
});

it('deviation: ws fails a 64-bit length with its top bit set with 1009, not 1002', async () => {
  const report = await runServerSuite({
    url,
    runs: 5,
    seed: 1,
    families: ['framing'],
    skip: [
      'framing/stream',
      'framing/length-7',
      'framing/length-16',
      'framing/length-64',
      'framing/non-minimal-length',
      'framing/masking',
    ],
  });
  const [framing] = report.families;
  expect(framing?.status).toBe('failed');
  expect(framing?.failure?.variant).toBe('framing/length');
  expect(framing?.failure?.reason).toBe('closed with 1009, expected 1002');
});
