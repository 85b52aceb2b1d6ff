// The echo client (dist/echo-client.js, what `pnpm run echo-client` runs)
// against a small fake fuzzing server that speaks the Autobahn protocol.
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { WebSocketServer } from 'ws';

const cli = fileURLToPath(new URL('../dist/echo-client.js', import.meta.url));

/** What each case sends; the client must send back the same, text as text, binary as binary. */
const CASES: Array<Array<{ data: string | Buffer; binary: boolean; fragments?: number }>> = [
  [{ data: 'hello', binary: false }],
  [
    { data: Buffer.from([0, 1, 2, 255]), binary: true },
    { data: '', binary: false },
  ],
  [
    { data: 'ü'.repeat(50_000), binary: false, fragments: 7 },
    { data: Buffer.alloc(300_000, 9), binary: true, fragments: 3 },
  ],
];

async function fakeFuzzingServer() {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: { threshold: 0 } });
  const log: string[] = [];
  /** Each connection's Sec-WebSocket-Extensions offer (null when there was none). */
  const offers: Array<string | null> = [];
  const echoes = new Map<number, Array<{ data: string; binary: boolean }>>();
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push(`${url.pathname}${url.search}`);
    offers.push(req.headers['sec-websocket-extensions'] ?? null);
    if (url.pathname === '/getCaseCount') {
      ws.send(String(CASES.length), () => ws.close(1000));
    } else if (url.pathname === '/runCase') {
      const n = Number(url.searchParams.get('case'));
      const messages = CASES[n - 1] ?? [];
      const got: Array<{ data: string; binary: boolean }> = [];
      echoes.set(n, got);
      ws.on('message', (data, binary) => {
        got.push({ data: binary ? (data as Buffer).toString('hex') : String(data), binary });
        if (got.length === messages.length) ws.close(1000);
      });
      for (const m of messages) {
        const bytes = typeof m.data === 'string' ? Buffer.from(m.data) : m.data;
        const parts = m.fragments ?? 1;
        const step = Math.ceil(bytes.length / parts) || 1;
        if (parts === 1) ws.send(m.data, { binary: m.binary });
        else
          for (let at = 0; at < bytes.length; at += step)
            ws.send(bytes.subarray(at, at + step), { binary: m.binary, fin: at + step >= bytes.length });
      }
    } else if (url.pathname === '/updateReports') {
      ws.close(1000);
    } else ws.close(4404);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    offers,
    echoes,
    close: () => {
      wss.close();
      server.close();
    },
  };
}

test.each([
  ['offering permessage-deflate (the default)', []],
  ['with --no-deflate', ['--no-deflate']],
])('runs every case, echoes each message as it came, then asks for the reports, %s', async (_name, flags) => {
  const deflate = flags.length === 0;
  const fake = await fakeFuzzingServer();
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, '--url', fake.url, '--agent', 'test agent', ...flags],
      { timeout: 30_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
  fake.close();
  expect(fake.log).toEqual([
    '/getCaseCount',
    '/runCase?case=1&agent=test%20agent',
    '/runCase?case=2&agent=test%20agent',
    '/runCase?case=3&agent=test%20agent',
    '/updateReports?agent=test%20agent',
  ]);
  CASES.forEach((messages, i) => {
    const expected = messages.map((m) => ({
      data: m.binary ? (m.data as Buffer).toString('hex') : (m.data as string),
      binary: m.binary,
    }));
    expect(fake.echoes.get(i + 1)).toEqual(expected);
  });
  expect(fake.offers).toEqual(Array(5).fill(deflate ? 'permessage-deflate; client_max_window_bits' : null));
  // The fake server accepts deflate whenever it is offered: each case line says what was negotiated.
  expect(out.match(/closed 1000 \(permessage-deflate\)/g)?.length ?? 0).toBe(deflate ? 3 : 0);
  expect(out).toMatch(deflate ? /3 cases; agent test agent\n/ : /3 cases; agent test agent \(--no-deflate\)/);
  expect(out).toMatch(/reports updated/);
});

test('fails with a non-zero exit when the server is not there', async () => {
  const code = await new Promise<number>((resolve) => {
    execFile(process.execPath, [cli, '--url', 'ws://127.0.0.1:1', '--agent', 'x'], { timeout: 30_000 }, (error) =>
      resolve(error ? Number(error.code) : 0),
    );
  });
  expect(code).toBe(1);
});
