// wss:// with the standalone TLS listener and a self-signed certificate.
import { once } from 'node:events';
import { expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';
import { WebSocketServer } from '../src/index.js';

it('serves wss:// with key and cert', async () => {
  const { key, cert } = selfSignedCertificate();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', key, cert });
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
});
