/**
 * The fuzzing server over HTTP/2 (RFC 8441): its h2c listener enables
 * extended CONNECT and runs the same cases on the streams. This project's
 * Node client, dialing with `http2: 'require'`, must pass every case there
 * (one HTTP/2 session carrying them all); handshake cases, which are
 * defective HTTP/1.1 heads, are not applicable over HTTP/2.
 */
import * as http2 from 'node:http2';
import { Http2SessionPool, nodeTransport } from '@rfc6455/browser-client/node';
import { expect, it } from 'vitest';
import { DEFAULT_CLIENT_FAMILIES, FuzzingServer } from '../src/index.js';
import { browserClient, runCases, verdicts } from './echo-clients.js';

const CASES = Number(process.env.CONFORMANCE_CASES ?? 120);
const SMALL_FLOODS = { bytes: 2 * 1024 * 1024, pings: 2_000 };

it('the Node client over HTTP/2 passes every fuzzing-server case on the h2c listener', async () => {
  const recorded = verdicts();
  const server = new FuzzingServer({
    port: 0,
    http2Port: 0,
    cases: CASES,
    flood: SMALL_FLOODS,
    onVerdict: recorded.onVerdict,
  });
  await server.listen();
  const port = server.http2Address?.port as number;
  const pool = new Http2SessionPool();
  try {
    const client = browserClient({ transport: nodeTransport({ http2: 'require', http2Pool: pool }) });
    const cases = Array.from({ length: server.caseCount }, (_, i) => i + 1);
    const seen = await runCases(client, port, 'h2-client', cases);
    await recorded.settled('h2-client', server.caseCount);
    const report = server.report('h2-client');
    const failures = report.cases.filter((c) => c.verdict.status !== 'pass');
    expect(report.cases.length, `seed ${server.seed}`).toBe(server.caseCount);
    expect(failures, `seed ${server.seed}`).toEqual([]);
    expect(new Set(report.cases.map((c) => c.family))).toEqual(new Set(DEFAULT_CLIENT_FAMILIES));
    for (const c of report.cases.filter((c) => c.family === 'deflate'))
      expect(c.extensions.response, c.description).toMatch(/^permessage-deflate/);
    // Every case opened on the HTTP/2 listener (none fell back: 'require' has no fallback).
    expect(seen.every((s) => s.opened)).toBe(true);
    expect(pool.size).toBe(1);
  } finally {
    pool.close();
    await server.close();
  }
});

it('answers handshake cases over HTTP/2 as not applicable, and refuses a plain CONNECT', async () => {
  const recorded = verdicts();
  const server = new FuzzingServer({
    port: 0,
    http2Port: 0,
    cases: 4,
    families: ['handshake'],
    onVerdict: recorded.onVerdict,
  });
  await server.listen();
  const port = server.http2Address?.port as number;
  const pool = new Http2SessionPool();
  try {
    const client = browserClient({ transport: nodeTransport({ http2: 'require', http2Pool: pool }) });
    await runCases(client, port, 'h2-handshake', [1, 2, 3, 4]);
    await recorded.settled('h2-handshake', 4);
    const report = server.report('h2-handshake');
    expect(report.cases.map((c) => c.verdict.status)).toEqual(['n/a', 'n/a', 'n/a', 'n/a']);
    // A CONNECT without :protocol is no WebSocket: 400, with the version spoken.
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const status = await new Promise<unknown>((resolve) => {
      const stream = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${port}` });
      stream.on('response', (headers) => resolve(headers[':status']));
      stream.on('error', () => resolve('error'));
    });
    session.destroy();
    expect(status).toBe(400);
  } finally {
    pool.close();
    await server.close();
  }
});
