// `rfc6455 serve --http2` and `rfc6455 connect --http2` as processes: each
// against the other, and each against an independent peer (a plain
// node:http2 client written here; the HTTP/1.1-only `ws` server).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientEndpoint } from '@rfc6455/codec';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';
import { run, start, stop } from './helpers.js';

/** One text message over an extended CONNECT stream on an h2c session, the client being the codec driven here. */
async function h2Echo(port: number, text: string): Promise<{ echoed: string; status: unknown }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    await new Promise((resolve) => session.once('remoteSettings', resolve));
    const client = ClientEndpoint.forExtendedConnect(`ws://127.0.0.1:${port}/h2`);
    const stream = session.request({ ...client.requestHeaders }, { endStream: false });
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
    client.receiveResponseHeaders({ headers });
    expect(client.nextEvent()?.type).toBe('open');
    client.send({ type: 'text', data: text });
    for (const bytes of client.takeOutgoing()) stream.write(bytes);
    const echoed = await new Promise<string>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        client.receive(new Uint8Array(chunk));
        for (let ev = client.nextEvent(); ev !== undefined; ev = client.nextEvent())
          if (ev.type === 'text') resolve(ev.data);
      });
    });
    stream.close();
    return { echoed, status: headers[':status'] };
  } finally {
    session.destroy();
  }
}

describe('rfc6455 serve --http2 (h2c)', () => {
  test('a plain node:http2 client opens a WebSocket on a stream; the log names the stream', async () => {
    const server = await start(['serve', '--port', '0', '--http2'], /listening on ws:\/\/127\.0\.0\.1:(\d+) \(HTTP\/2/);
    const port = Number(server.match[1]);
    expect(await h2Echo(port, 'over h2c')).toEqual({ echoed: 'over h2c', status: 200 });
    expect(await stop(server.child, 'SIGINT')).toBe(0);
    expect(server.output()).toMatch(/#1 open from 127\.0\.0\.1 \/h2 over HTTP\/2 stream 1/);
  });

  test('connect --http2-only ws:// talks to it over h2c and says so', async () => {
    const server = await start(['serve', '--port', '0', '--http2', '--quiet'], /:(\d+)/);
    const r = await run(['connect', '--http2-only', `ws://127.0.0.1:${server.match[1]}/`], { input: 'ping me\n' });
    await stop(server.child);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/connected to ws:\/\/127\.0\.0\.1:\d+\/ \(HTTP\/2 stream 1/);
    expect(r.stdout).toContain('< ping me');
    expect(r.stdout).toContain('disconnected: 1000');
  });
});

describe('rfc6455 connect --http2 against servers without RFC 8441', () => {
  let wss: WebSocketServer;
  let port: number;
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
    port = (wss.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  test('--http2 falls back to HTTP/1.1 and says so', async () => {
    const r = await run(['connect', '--http2', `ws://127.0.0.1:${port}/`], { input: 'fallback\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/connected to ws:\/\/127\.0\.0\.1:\d+\/ \(HTTP\/1\.1/);
    expect(r.stdout).toContain('< fallback');
  });

  test('--http2-only fails with exit 1 and the reason', async () => {
    const r = await run(['connect', '--http2-only', `ws://127.0.0.1:${port}/`], { input: 'x\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HTTP\/2 was required/);
    expect(r.stdout).toContain('disconnected: 1006');
  });

  test('--http2 with --http2-only is a usage error', async () => {
    expect((await run(['connect', '--http2', '--http2-only', 'ws://127.0.0.1:1/'])).code).toBe(2);
  });
});

describe('rfc6455 serve --tls --http2', () => {
  let dir: string;
  let cert: string;
  let key: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rfc6455-h2-'));
    key = join(dir, 'key.pem');
    cert = join(dir, 'cert.pem');
    const pem = selfSignedCertificate();
    writeFileSync(key, pem.key);
    writeFileSync(cert, pem.cert);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('serves h2 and HTTP/1.1 on one port; connect --http2 --trace shows the HEADERS and the frames', async () => {
    const server = await start(
      ['serve', '--port', '0', '--tls', '--key', key, '--cert', cert, '--http2'],
      /listening on wss:\/\/127\.0\.0\.1:(\d+) \(HTTP\/1\.1 and HTTP\/2\)/,
    );
    const url = `wss://127.0.0.1:${server.match[1]}/tls`;
    const h2 = await run(['connect', '--http2', '--trace', '--ca', cert, url], { input: 'secure h2\n' });
    const h1 = await run(['connect', '--ca', cert, url], { input: 'secure 1.1\n' });
    await stop(server.child);
    expect(h2.code, h2.stderr).toBe(0);
    expect(h2.stdout).toContain(':protocol: websocket');
    expect(h2.stdout).toContain(':scheme: https');
    expect(h2.stdout).toMatch(/HTTP\/2 HEADERS on stream 1, :status 200/);
    expect(h2.stdout).toMatch(/text message \(9 bytes, 1 frame\): "secure h2"/);
    expect(h2.stdout).toContain('< secure h2');
    expect(h1.code, h1.stderr).toBe(0);
    expect(h1.stdout).toContain('< secure 1.1');
    expect(server.output()).toMatch(/#1 open from 127\.0\.0\.1 \/tls over HTTP\/2 stream 1/);
    expect(server.output()).toMatch(/#2 open from 127\.0\.0\.1 \/tls \(/);
  });
});
