// `rfc6455 serve` and `rfc6455 connect` as processes, against each other and
// against the npm `ws` package (client and server) as an independent peer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';
import { run, start, stop } from './helpers.js';

function wsEcho(url: string, options: WebSocket.ClientOptions = {}) {
  return new Promise<{ text: string; binary: Buffer; extensions: string; ws: WebSocket }>((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const got: Array<WebSocket.RawData> = [];
    ws.on('error', reject);
    ws.on('open', () => {
      ws.send('hello');
      ws.send(Buffer.from([0xde, 0xad]));
    });
    ws.on('message', (data) => {
      got.push(data);
      if (got.length === 2) resolve({ text: String(got[0]), binary: got[1] as Buffer, extensions: ws.extensions, ws });
    });
  });
}

describe('rfc6455 serve', () => {
  test('echoes text and binary to a ws client, with permessage-deflate, and closes with 1001 on Ctrl-C', async () => {
    const server = await start(['serve', '--port', '0'], /listening on ws:\/\/127\.0\.0\.1:(\d+)/);
    const { text, binary, extensions, ws } = await wsEcho(`ws://127.0.0.1:${server.match[1]}/`);
    expect(text).toBe('hello');
    expect([...binary]).toEqual([0xde, 0xad]);
    expect(extensions).toContain('permessage-deflate');
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    expect(await stop(server.child, 'SIGINT')).toBe(0);
    expect(await closed).toBe(1001);
    expect(server.output()).toMatch(/#1 open from 127\.0\.0\.1/);
  });

  test('--no-deflate declines compression', async () => {
    const server = await start(['serve', '--port', '0', '--no-deflate', '--quiet'], /:(\d+)/);
    const { extensions, ws } = await wsEcho(`ws://127.0.0.1:${server.match[1]}/`);
    expect(extensions).toBe('');
    ws.close();
    await stop(server.child);
  });

  test('a port in use is a clear error and exit code 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    const r = await run(['serve', '--port', String(port)]);
    blocker.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
  });

  test('usage mistakes exit 2', async () => {
    expect((await run(['serve', '--port', 'eighty'])).stderr).toContain('--port must be a number');
    expect((await run(['serve', '--tls'])).code).toBe(2);
  });

  test('--tls serves wss:// (and connect --insecure talks to it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rfc6455-tls-'));
    // A failed expectation must not leave the server running or the key on disk.
    let server: Awaited<ReturnType<typeof start>> | undefined;
    try {
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      const pem = selfSignedCertificate();
      writeFileSync(key, pem.key);
      writeFileSync(cert, pem.cert);
      server = await start(
        ['serve', '--port', '0', '--tls', '--key', key, '--cert', cert, '--quiet'],
        /listening on wss:\/\/127\.0\.0\.1:(\d+)/,
      );
      const { text, ws } = await wsEcho(`wss://127.0.0.1:${server.match[1]}/`, { rejectUnauthorized: false });
      expect(text).toBe('hello');
      ws.close();
      const r = await run(['connect', `wss://127.0.0.1:${server.match[1]}/`, '--insecure'], { input: 'over tls\n' });
      expect(r.stdout).toContain('< over tls');
      expect(r.code).toBe(0);
    } finally {
      if (server !== undefined) await stop(server.child);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rfc6455 connect', () => {
  let wss: WebSocketServer;
  let url: string;
  const seen: Array<{
    headers: Record<string, string | string[] | undefined>;
    closeCode?: number;
    closeReason?: string;
  }> = [];

  beforeAll(async () => {
    wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: true,
      handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
      verifyClient: (info, done) => {
        if (info.req.url === '/private') done(false, 403, 'log in first');
        else done(true);
      },
    });
    wss.on('connection', (ws, req) => {
      const record: (typeof seen)[number] = { headers: req.headers };
      seen.push(record);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('close', (code, reason) => {
        record.closeCode = code;
        record.closeReason = reason.toString();
      });
    });
    await new Promise((r) => wss.on('listening', r));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => wss.close(() => r())));

  test('piped lines are sent, echoes printed, and it exits 0 after a clean close', async () => {
    const r = await run(['connect', `${url}/`, '-H', 'X-Trace-Id: 42', '-s', 'chat.v1', '-s', 'chat.v2'], {
      input: 'one\ntwo\n/binary 01 02 ff\n//slash\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('connected to');
    expect(r.stdout).toContain('protocol: chat.v2');
    expect(r.stdout).toContain('extensions: permessage-deflate');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('<'))).toEqual([
      '< one',
      '< two',
      '< [binary, 3 bytes] 01 02 ff',
      '< /slash',
    ]);
    expect(r.stdout).toContain('disconnected: 1000');
    const last = seen.at(-1);
    expect(last?.headers['x-trace-id']).toBe('42');
    expect(last?.headers['sec-websocket-protocol']).toBe('chat.v1, chat.v2');
    expect(last?.closeCode).toBe(1000);
  });

  test('/close sends a code and reason', async () => {
    const r = await run(['connect', url], { input: 'hi\n/close 4001 all done\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('< hi');
    expect(seen.at(-1)?.closeCode).toBe(4001);
    expect(seen.at(-1)?.closeReason).toBe('all done');
  });

  test('--no-deflate offers no extension', async () => {
    const r = await run(['connect', url, '--no-deflate'], { input: 'x\n' });
    expect(r.code).toBe(0);
    expect(seen.at(-1)?.headers['sec-websocket-extensions']).toBeUndefined();
  });

  test('--trace dissects every frame in both directions with time', async () => {
    const r = await run(['connect', url, '--trace'], { input: 'traced\n' });
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/\[\+\d+\.\d{3}s\] client → server: \d+ bytes/);
    expect(out).toMatch(/\[\+\d+\.\d{3}s\] server → client: \d+ bytes/);
    expect(out).toContain('HTTP request');
    expect(out).toContain('Sec-WebSocket-Accept matches the key');
    expect(out).toMatch(/TEXT opcode=0x1 FIN=1 RSV1=0 RSV2=0 RSV3=0 MASK=1 len=6 \(7-bit\) key=[0-9a-f ]{11}/);
    // ws compresses even small messages: the trace shows RSV1 and the inflated text.
    expect(out).toMatch(/TEXT opcode=0x1 FIN=1 RSV1=1 RSV2=0 RSV3=0 MASK=0 len=\d+ \(7-bit\) compressed/);
    expect(out).toContain('⇒ text message (6 bytes, inflated from');
    expect(out).toContain('close 1000 Normal Closure');
  });

  test('a refused upgrade shows its status and body and exits 1', async () => {
    const r = await run(['connect', `${url}/private`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the server refused the upgrade: 403 Forbidden');
    expect(r.stderr).toContain('log in first');
  });

  test('nothing listening: exit 1 with the reason', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const r = await run(['connect', `ws://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('connection refused');
  });

  test('usage mistakes exit 2', async () => {
    expect((await run(['connect'])).code).toBe(2);
    expect((await run(['connect', 'not a url'])).stderr).toContain('is not a URL');
    expect((await run(['connect', 'ftp://x'])).stderr).toContain('unsupported scheme');
    expect((await run(['connect', url, '-H', 'no colon'])).stderr).toContain('-H expects "Name: value"');
  });

  test('against rfc6455 serve (node-server) with --trace', async () => {
    const server = await start(['serve', '--port', '0', '--quiet'], /:(\d+)/);
    const big = 'z'.repeat(2000); // over the server's 1 KiB threshold: echoed compressed
    const r = await run(['connect', `ws://127.0.0.1:${server.match[1]}`, '--trace'], { input: `${big}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/server → client[\s\S]*TEXT opcode=0x1 FIN=1 RSV1=1 .* compressed/);
    expect(r.stdout).toContain('text message (2000 bytes, inflated from');
    await stop(server.child);
  });
});
