// permessage-deflate compressed on libuv's thread pool (`zlibThreadPoolBackend`):
// the ws client reads every message intact and in order under every parameter
// combination, with many messages in flight, plain ones between compressed
// ones, a close right behind them, parked deflaters, and a failing compressor.
import { once } from 'node:events';
import type { AsyncDeflater, CompressionBackend } from '@rfc6455/codec';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import {
  type ServerOptions,
  type WebSocket,
  type WebSocketProtocolError,
  type WebSocketServer,
  zlibBackend,
  zlibThreadPoolBackend,
} from '../src/index.js';
import { parkIdleEngines } from '../src/zlib-parking.js';
import { startServer } from './helpers.js';

const servers: Array<Pick<WebSocketServer, 'close'>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 500 })));
});

async function server(options: ServerOptions = {}, perMessageDeflate: object = {}) {
  const s = await startServer({
    perMessageDeflate: { backend: zlibThreadPoolBackend, ...perMessageDeflate },
    ...options,
  });
  servers.push(s.wss);
  return s;
}

async function echoServer(perMessageDeflate: object = {}) {
  const s = await server({}, perMessageDeflate);
  s.wss.on('connection', (ws: WebSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return s;
}

async function open(url: string, perMessageDeflate: WebSocketClient.ClientOptions['perMessageDeflate'] = true) {
  const c = new WebSocketClient(url, { perMessageDeflate }) as WebSocketClient & { accepted: string };
  c.once('upgrade', (res) => (c.accepted = String(res.headers['sec-websocket-extensions'] ?? '')));
  await once(c, 'open');
  return c;
}

/** JSON-like text that compresses, different for each `n` so context takeover matters. */
function doc(n: number, size: number): string {
  let s = '';
  for (let i = 0; s.length < size; i++) s += `{"id":${n * 1000 + i},"name":"item ${i % 17}","ok":${i % 3 === 0}},`;
  return s.slice(0, size);
}

/** Large compressed messages with short plain ones between them (under the 1 KiB threshold). */
function mixed(count: number): Array<string | Buffer> {
  const out: Array<string | Buffer> = [];
  for (let i = 0; i < count; i++) {
    if (i % 5 === 4) out.push(`short ${i}`);
    else if (i % 7 === 3) out.push(Buffer.from(doc(i, 30_000)));
    else out.push(doc(i, 2_000 + ((i * 3_001) % 40_000)));
  }
  return out;
}

/** Sends every message at once and reads the echoes: all of them, each intact, in order. */
async function pipelined(c: WebSocketClient, messages: Array<string | Buffer>): Promise<void> {
  const received: Array<[Buffer, boolean]> = [];
  const all = new Promise<void>((resolve) => {
    c.on('message', (data: Buffer, isBinary: boolean) => {
      received.push([data, isBinary]);
      if (received.length === messages.length) resolve();
    });
  });
  for (const m of messages) c.send(m);
  await all;
  c.removeAllListeners('message');
  messages.forEach((m, i) => {
    const [data, isBinary] = received[i] as [Buffer, boolean];
    expect(isBinary).toBe(typeof m !== 'string');
    expect(data.toString()).toBe(m.toString());
  });
}

describe('compression on the thread pool, read by the ws client', () => {
  const variations: Array<[string, WebSocketClient.PerMessageDeflateOptions]> = [
    ['context takeover both ways', {}],
    ['server_no_context_takeover', { serverNoContextTakeover: true }],
    ['client_no_context_takeover', { clientNoContextTakeover: true }],
    ['server_max_window_bits=9', { serverMaxWindowBits: 9 }],
    ['server_max_window_bits=12, no context', { serverMaxWindowBits: 12, serverNoContextTakeover: true }],
  ];

  it.each(variations)('%s: 60 messages in flight come back intact and in order', async (_name, options) => {
    const { url } = await echoServer();
    const c = await open(url, { ...options, threshold: 0 });
    expect(c.accepted).toMatch(/^permessage-deflate/);
    let wire = 0;
    (c as unknown as { _socket: import('node:net').Socket })._socket.on('data', (d: Buffer) => (wire += d.length));
    const messages = mixed(60);
    await pipelined(c, messages);
    // The server compressed what it echoed.
    expect(wire).toBeLessThan(messages.reduce((n, m) => n + m.length, 0) / 3);
    c.close();
    await once(c, 'close');
  });

  it('many connections at once share the pool, each stream in its own order', async () => {
    const { url } = await echoServer();
    const clients = await Promise.all(Array.from({ length: 12 }, () => open(url)));
    await Promise.all(clients.map((c, i) => pipelined(c, mixed(20 + i))));
    for (const c of clients) c.close();
  });

  it('reading paused for messages still being compressed resumes when they are written', async () => {
    // A small read-pause threshold: a few echoes compressing at once pause reading, and the compressed
    // replies are too small to fill the socket, so no drain event would ever resume it.
    const s = await server({ readPauseThreshold: 32 * 1024 });
    let paused = 0;
    s.wss.on('connection', (ws: WebSocket) => {
      const socket = (ws as unknown as { socket: import('node:net').Socket }).socket;
      const pause = socket.pause.bind(socket);
      socket.pause = () => {
        paused++;
        return pause();
      };
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    const c = await open(s.url);
    await pipelined(
      c,
      Array.from({ length: 40 }, (_, i) => doc(i, 30_000)),
    );
    expect(paused).toBeGreaterThan(0);
    c.close();
  });

  it('a close sent right behind messages still being compressed leaves after them', async () => {
    const { wss, url } = await server();
    const messages = mixed(25);
    wss.on('connection', (ws: WebSocket) => {
      for (const m of messages) ws.send(m);
      ws.close(1000, 'all sent');
    });
    const c = await open(url);
    const received: string[] = [];
    c.on('message', (data: Buffer) => received.push(data.toString()));
    const [code, reason] = (await once(c, 'close')) as [number, Buffer];
    expect(code).toBe(1000);
    expect(reason.toString()).toBe('all sent');
    expect(received).toEqual(messages.map((m) => m.toString()));
  });

  it('a parked deflater resumes from its window: context survives parking', async () => {
    const { url } = await echoServer();
    const c = await open(url);
    const wireOf = async (messages: string[]): Promise<number> => {
      let wire = 0;
      const count = (d: Buffer) => (wire += d.length);
      const socket = (c as unknown as { _socket: import('node:net').Socket })._socket;
      socket.on('data', count);
      for (const m of messages) {
        await pipelined(c, [m]);
        parkIdleEngines();
      }
      socket.off('data', count);
      return wire;
    };
    const first = await wireOf([doc(1, 20_000)]);
    // The same document again after parking: sent as references to the window, far smaller.
    const again = await wireOf([doc(1, 20_000)]);
    expect(again).toBeLessThan(first / 4);
    c.close();
  });

  it('a failing compressor ends the connection with 1011 after the messages before it', async () => {
    let calls = 0;
    const failing: CompressionBackend = {
      name: 'fails on the third message',
      createInflater: zlibBackend.createInflater,
      createDeflater: zlibBackend.createDeflater,
      createAsyncDeflater: (options): AsyncDeflater => {
        const inner = zlibThreadPoolBackend.createAsyncDeflater?.(options) as AsyncDeflater;
        return {
          compress: (bytes, done) => {
            if (++calls === 3) setImmediate(() => done(new Error('engine gave up')));
            else inner.compress(bytes, done);
          },
          reset: () => inner.reset(),
        };
      },
    };
    const { wss, url } = await server({}, { backend: failing });
    const errors: WebSocketProtocolError[] = [];
    const closed = new Promise<[number, string]>((resolve) =>
      wss.on('connection', (ws: WebSocket) => {
        ws.on('error', (e) => errors.push(e as WebSocketProtocolError));
        ws.on('close', (code, reason) => resolve([code, reason]));
        for (let i = 0; i < 5; i++) ws.send(doc(i, 5_000));
      }),
    );
    const c = await open(url);
    const received: string[] = [];
    c.on('message', (data: Buffer) => received.push(data.toString()));
    const [code] = (await once(c, 'close')) as [number];
    expect(code).toBe(1011);
    expect(received).toEqual([doc(0, 5_000), doc(1, 5_000)]);
    // The server failed the connection (RFC 6455 §7.1.7: it reads nothing more), so its own close is abnormal.
    const [serverCode] = await closed;
    expect(serverCode).toBe(1006);
    expect(errors.map((e) => e.closeCode)).toEqual([1011]);
    expect(errors[0]?.message).toContain('engine gave up');
  });
});
