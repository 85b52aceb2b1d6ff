// wss:// with the standalone TLS listener, a self-signed certificate made by openssl.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { WebSocketServer } from '../src/index.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

it.skipIf(!hasOpenssl())('serves wss:// with key and cert', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'node-server-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', key: readFileSync(join(dir, 'key.pem')), cert });
    let secure: boolean | undefined;
    wss.on('connection', (ws, info) => {
      secure = info.secure && info.url.protocol === 'wss:';
      ws.on('message', (d) => ws.send(d));
    });
    await once(wss, 'listening');
    const c = new WebSocketClient(`wss://127.0.0.1:${wss.address()!.port}/`, { ca: cert });
    await once(c, 'open');
    c.send('over tls');
    const [data] = (await once(c, 'message')) as [Buffer];
    expect(data.toString()).toBe('over tls');
    expect(secure).toBe(true);
    const closed = once(c, 'close');
    await wss.close();
    expect(((await closed) as [number])[0]).toBe(1001);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
