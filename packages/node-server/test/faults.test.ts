// Faults, timers, backpressure and leaks, with raw sockets and the ws client.
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import type { WebSocket, WebSocketServer } from '../src/index.js';
import { clientFrame, rawClient, resourceCounts, startServer, until } from './helpers.js';

/** The internals these fault tests reach into: ws's client socket and the server's set of handshakes in flight. */
const clientSocket = (client: WebSocketClient): import('node:net').Socket =>
  (client as unknown as { _socket: import('node:net').Socket })._socket;
const pendingHandshakes = (wss: WebSocketServer): number => (wss as unknown as { pending: Set<unknown> }).pending.size;

const servers: Array<Pick<WebSocketServer, 'close'>> = [];
async function server(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  servers.push(s.wss);
  const closes: Array<[number, string]> = [];
  s.wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (d) => ws.send(d));
    ws.on('close', (code, reason) => closes.push([code, reason]));
  });
  const first = async () => {
    await until(() => s.wss.clients.size > 0, 5000, 'a connection');
    return [...s.wss.clients][0]!;
  };
  return { ...s, closes, first };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe('faults', () => {
  it('reports 1006 on a TCP reset and releases the connection', async () => {
    const { url, wss, closes } = await server();
    const c = new WebSocketClient(url);
    c.on('error', () => {});
    await once(c, 'open');
    await until(() => wss.clients.size === 1);
    clientSocket(c).resetAndDestroy();
    await until(() => closes.length === 1);
    expect(closes[0]).toEqual([1006, '']);
    expect(wss.clients.size).toBe(0);
  });

  it('reports 1006 when the client vanishes mid-frame or half-closes without a close frame', async () => {
    const { port, wss, closes, first } = await server();
    const a = await rawClient(port);
    expect(a.head).toMatch(/^HTTP\/1.1 101/);
    const serverSocket = (await first()).socket as import('node:net').Socket;
    const readBefore = serverSocket.bytesRead;
    const frame = clientFrame(0x82, new Uint8Array(1000));
    a.socket.write(frame.subarray(0, 500));
    await until(() => serverSocket.bytesRead >= readBefore + 500, 5000, 'the server to read half the frame');
    a.socket.destroy();
    await until(() => closes.length === 1);
    expect(closes[0]).toEqual([1006, '']);

    const b = await rawClient(port);
    b.socket.end(); // FIN, no close frame
    await until(() => closes.length === 2);
    expect(closes[1]).toEqual([1006, '']);
    await b.closed; // the server closed its side too
    expect(wss.clients.size).toBe(0);
  });

  it('destroys a peer that never answers a close frame after closeTimeout', async () => {
    const { port, closes, first } = await server({ closeTimeout: 150 });
    const a = await rawClient(port);
    const ws = await first();
    ws.close(1000, 'bye');
    // Armed after the server's 150 ms timer, this one still fires first: the event loop runs timers in
    // the order they expire, however late it gets to them.
    await new Promise((resolve) => setTimeout(resolve, 140));
    expect(closes).toEqual([]);
    expect(ws.readyState).toBe(2); // CLOSING: still waiting for the peer's close frame
    await a.closed;
    await until(() => closes.length === 1);
    expect(closes).toEqual([[1006, '']]);
    // The close frame did reach the client.
    expect(a.received().subarray(0, 2)).toEqual(Buffer.from([0x88, 5]));
  });

  it('completes a clean close from a raw client and closes TCP first', async () => {
    const { port, closes } = await server();
    const a = await rawClient(port);
    a.socket.write(clientFrame(0x88, Buffer.from([0x03, 0xe8, 0x6f, 0x6b])));
    await a.closed;
    await until(() => closes.length === 1);
    expect(closes).toEqual([[1000, 'ok']]);
    // The reply echoes the code and the reason.
    expect(a.received().subarray(0, 6)).toEqual(Buffer.from([0x88, 4, 0x03, 0xe8, 0x6f, 0x6b]));
  });

  it('drops slowloris handshakes and undecided upgrades after handshakeTimeout', async () => {
    let calls = 0;
    const { port, wss } = await server({
      handshakeTimeout: 150,
      handleUpgrade: () => {
        calls++;
        return new Promise(() => {}); // never decides
      },
    });
    const slow = connect(port, '127.0.0.1');
    slow.on('error', () => {});
    await once(slow, 'connect');
    slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const slowClosed = once(slow, 'close');
    await until(() => pendingHandshakes(wss) === 1, 5000, 'the server to start the handshake');
    // Armed after the server's 150 ms handshake timer, so it fires later however busy the machine is.
    await new Promise((resolve) => setTimeout(resolve, 2 * 150));
    expect(pendingHandshakes(wss)).toBe(0);
    await slowClosed;

    const undecided = connect(port, '127.0.0.1');
    undecided.on('error', () => {});
    undecided.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await once(undecided, 'close');
    expect(calls).toBe(1);
    expect(wss.clients.size).toBe(0);
  });

  it('answers a malformed request with 400 and a wrong version with 426', async () => {
    const { port } = await server();
    async function ask(head: string) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write(head);
      let text = '';
      s.on('data', (d) => (text += d));
      await once(s, 'close');
      return text;
    }
    expect(await ask('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1.1 400/);
    expect(
      await ask(
        'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 8\r\n\r\n',
      ),
    ).toMatch(/^HTTP\/1.1 426[\s\S]*Sec-WebSocket-Version: 13/);
  });

  it('heartbeat: terminates a silent peer and keeps a responsive one', async () => {
    const { port, url, wss, closes } = await server({ heartbeatInterval: 100 });
    const good = new WebSocketClient(url);
    await once(good, 'open');
    const silent = await rawClient(port);
    await silent.closed; // it reads but never answers the pings
    await until(() => closes.length === 1);
    expect(closes).toEqual([[1006, '']]);
    // Three more heartbeats, each of which would have ended a peer that did not answer the one before.
    let pings = 0;
    good.on('ping', () => pings++);
    await until(() => pings >= 3 || good.readyState !== WebSocketClient.OPEN, 5000, 'three more pings');
    expect(good.readyState).toBe(WebSocketClient.OPEN);
    expect(wss.clients.size).toBe(1);
    good.close();
  });
});

describe('backpressure', () => {
  it('pauses reading while the write buffer is full and loses nothing when the reader resumes', async () => {
    const { port, first } = await server({ readPauseThreshold: 64 * 1024 });
    const a = await rawClient(port);
    const ws = await first();
    a.socket.pause();
    // Each ping makes a 127-byte pong the client does not read.
    const pings = 100_000;
    const ping = clientFrame(0x89, new Uint8Array(125));
    const all = Buffer.concat(Array.from({ length: pings }, () => ping));
    a.socket.write(all);
    await until(() => ws.socket.isPaused(), 5000, 'the server to pause reading');
    expect(ws.bufferedAmount).toBeLessThan(8 * 1024 * 1024);
    a.socket.resume();
    await a.waitFor((buf) => buf.length >= pings * 127, 10_000);
    expect(a.received().length).toBe(pings * 127);
    await until(() => !ws.socket.isPaused());
  });

  it("closes a slow reader with 1008 under the 'close' policy", async () => {
    const { port, first, closes } = await server({ maxBufferedAmount: 1024 * 1024, closeTimeout: 200 });
    const a = await rawClient(port);
    a.socket.pause();
    const ws = await first();
    const chunk = Buffer.alloc(64 * 1024);
    let accepted = 0;
    for (let i = 0; i < 1000 && ws.readyState === 1; i++) if (ws.send(chunk) || ws.readyState === 1) accepted++;
    expect(ws.readyState).not.toBe(1);
    expect(ws.bufferedAmount).toBeLessThanOrEqual(1024 * 1024 + 256);
    await until(() => closes.length === 1, 5000, 'close');
    expect(closes[0]![0]).toBe(1006); // the 1008 frame sits behind the unread data; the timer destroyed it
    expect(accepted).toBeLessThan(1000);
  });

  it("skips messages for a slow reader under the 'drop' policy and stays open", async () => {
    const { port, wss } = await server({ maxBufferedAmount: 512 * 1024, onBufferOverflow: 'drop' });
    const a = await rawClient(port);
    a.socket.pause();
    await until(() => wss.clients.size === 1);
    const ws = [...wss.clients][0]!;
    let dropped = 0;
    for (let i = 0; i < 2000; i++) if (wss.broadcast(Buffer.alloc(16 * 1024)) === 0) dropped++;
    expect(dropped).toBeGreaterThan(0);
    expect(ws.readyState).toBe(1);
    expect(ws.bufferedAmount).toBeLessThanOrEqual(512 * 1024);
  });
});

describe('leaks', () => {
  it('1 000 connections opened and dropped leave no sockets, timers or listeners behind', async () => {
    const { url, wss, closes } = await server({ heartbeatInterval: 1000, closeTimeout: 1000 });
    const baseline = resourceCounts();
    const serverListeners = wss.eventNames().map((n) => wss.listenerCount(n));
    const total = 1000;
    for (let batch = 0; batch < total; batch += 100) {
      const clients = await Promise.all(
        Array.from({ length: 100 }, async () => {
          const c = new WebSocketClient(url);
          c.on('error', () => {});
          await once(c, 'open');
          return c;
        }),
      );
      clients.forEach((c, i) => {
        if (i % 3 === 0) c.close(1000);
        else if (i % 3 === 1) c.terminate();
        else clientSocket(c).resetAndDestroy();
      });
      await Promise.all(clients.map((c) => (c.readyState === WebSocketClient.CLOSED ? undefined : once(c, 'close'))));
    }
    await until(() => closes.length === total, 10_000, 'all closes');
    expect(wss.clients.size).toBe(0);
    expect(pendingHandshakes(wss)).toBe(0);
    await until(() => (resourceCounts().TCPSocketWrap ?? 0) <= (baseline.TCPSocketWrap ?? 0), 5000, 'sockets released');
    const after = resourceCounts();
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(baseline.Timeout ?? 0);
    expect(wss.eventNames().map((n) => wss.listenerCount(n))).toEqual(serverListeners);
    expect(closes.filter(([code]) => code === 1000).length).toBeGreaterThan(300);
  });
});
