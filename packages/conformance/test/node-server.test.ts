/**
 * This project's server must pass every case of every family, the handshake
 * and permessage-deflate included.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '@rfc6455/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatServerReport, runServerSuite } from '../src/index.js';

const LIMIT = 70_000;
let wss: WebSocketServer;
let url: string;

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxMessageSize: LIMIT, perMessageDeflate: true });
  wss.on('connection', (ws) => ws.on('message', (data: string | Buffer) => ws.send(data)));
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});
afterAll(() => wss.close({ timeout: 1000 }));

it('passes every family against the node-server', async () => {
  const report = await runServerSuite({
    url,
    runs: Number(process.env.CONFORMANCE_RUNS ?? 40),
    maxMessageSize: LIMIT,
    deflate: true,
  });
  const text = formatServerReport(report);
  expect(report.ok, text).toBe(true);
  expect(report.families.map((f) => f.family)).toContain('handshake');
  for (const f of report.families) expect(f.status, text).toBe('passed');
});
