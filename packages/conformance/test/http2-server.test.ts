/**
 * The server suite over HTTP/2 (RFC 8441): every frame family on extended
 * CONNECT streams, against node-server attached to a cleartext `node:http2`
 * server that enables extended CONNECT. A server that does not enable it is
 * failed at the handshake with that reason, not hung.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '@rfc6455/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatServerReport, runServerSuite } from '../src/index.js';

const LIMIT = 70_000;
let server: http2.Http2Server;
let wss: WebSocketServer;
let url: string;
let streams = 0;

beforeAll(async () => {
  server = http2.createServer({ settings: { enableConnectProtocol: true } });
  server.on('stream', () => streams++);
  wss = new WebSocketServer({ server, maxMessageSize: LIMIT, perMessageDeflate: true, heartbeatInterval: 0 });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await wss.close({ timeout: 1000 });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it("passes every frame family over HTTP/2 against node-server's h2 server", async () => {
  const report = await runServerSuite({
    url,
    http2: true,
    runs: Number(process.env.CONFORMANCE_RUNS ?? 25),
    maxMessageSize: LIMIT,
    deflate: true,
  });
  const text = formatServerReport(report);
  expect(report.ok, text).toBe(true);
  for (const f of report.families) {
    if (f.family === 'handshake') expect(f.status, text).toBe('not applicable');
    else expect(f.status, text).toBe('passed');
  }
  // The cases really travelled on HTTP/2 streams, one per connection.
  expect(streams).toBeGreaterThanOrEqual(report.families.reduce((n, f) => n + f.runs, 0));
});

it('fails a server that does not enable extended CONNECT, naming the setting', async () => {
  const plain = http2.createServer();
  plain.on('stream', (stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  try {
    const report = await runServerSuite({
      url: `ws://127.0.0.1:${(plain.address() as AddressInfo).port}`,
      http2: true,
      runs: 2,
      families: ['framing'],
    });
    expect(report.ok).toBe(false);
    expect(report.families[0]?.failure?.reason).toMatch(/SETTINGS_ENABLE_CONNECT_PROTOCOL/);
  } finally {
    await new Promise<void>((resolve) => plain.close(() => resolve()));
  }
});
