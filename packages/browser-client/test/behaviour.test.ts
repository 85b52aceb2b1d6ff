// Backpressure and reconnection against a real `ws` server over TCP.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { backoffDelay, ReconnectingWebSocket, type ReconnectEvent, WebSocketStream } from '../src/node.js';
import { startTestServer, type TestServer } from './fixtures/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/**
 * Lets the event loop go round `turns` times, I/O polls included: enough for
 * anything that does not wait on the peer to finish, on a machine of any speed.
 */
async function loopTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('backpressure', () => {
  test('a reader that stops reading stops reads from the socket, and the server backs up', async () => {
    const count = 400;
    const size = 64 * 1024; // 25 MiB in all: far more than the socket buffers hold
    const wss = new WebSocketStream(`${server.url}/flood?count=${count}&size=${size}`, { highWaterMark: 4 });
    const { readable } = await wss.opened;
    const ws = server.sockets.at(-1);
    // The client holds ≤ highWaterMark messages plus what one read delivers,
    // so most of the 25 MiB must still be on the server side, unsent: its
    // queue grows past the 1 MiB at which it pauses only when the socket
    // takes no more.
    await vi.waitFor(() => expect(ws?.bufferedAmount ?? 0).toBeGreaterThan(1024 * 1024), {
      timeout: 20_000,
      interval: 20,
    });
    const reader = readable.getReader();
    let received = 0;
    let bytes = 0;
    while (received < count) {
      const { value } = await reader.read();
      received++;
      bytes += (value as Uint8Array).byteLength;
    }
    expect(bytes).toBe(count * size);
    wss.close();
    await wss.closed;
  });

  test('writer.write waits while the server does not read, and completes once it does', async () => {
    // A server that stops reading its socket right after the handshake.
    const httpServer = http.createServer();
    const wsServer = new WebSocketServer({ noServer: true, maxPayload: 128 * 1024 * 1024 });
    let stalled: import('node:stream').Duplex | undefined;
    const total = 8 * 8 * 1024 * 1024;
    let got = 0;
    let allReceived!: () => void;
    const received = new Promise<void>((resolve) => {
      allReceived = resolve;
    });
    httpServer.on('upgrade', (req, socket, head) => {
      wsServer.handleUpgrade(req, socket, head, (ws) => {
        socket.pause();
        stalled = socket;
        ws.on('message', (data) => {
          got += (data as Buffer).length;
          if (got === total) allReceived();
        });
      });
    });
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
    const port = (httpServer.address() as AddressInfo).port;
    const wss = new WebSocketStream(`ws://127.0.0.1:${port}/`);
    const { writable } = await wss.opened;
    const writer = writable.getWriter();
    const big = new Uint8Array(8 * 1024 * 1024);
    let writes = 0;
    const writing = (async () => {
      for (let i = 0; i < 8; i++) {
        await writer.write(big);
        writes++;
      }
    })();
    // Writes that did not wait for the socket would all be done by then.
    await Promise.race([writing, loopTurns(100)]);
    expect(writes).toBeLessThan(8); // 64 MiB do not fit in the socket buffers
    stalled?.resume();
    await writing;
    expect(writes).toBe(8);
    await received;
    expect(got).toBe(8 * big.length);
    wss.close();
    await wss.closed;
    wsServer.close();
    httpServer.close();
  });
});

describe('reconnection', () => {
  test('backoff grows by the factor, is capped, and jitter only shortens it', () => {
    const opts = { initialDelay: 100, factor: 2, maxDelay: 1000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, opts, () => 1)).toBe(200);
    expect(backoffDelay(3, { ...opts, jitter: 0 }, () => 1)).toBe(400);
  });

  test('reconnects after failures, reports each attempt, flushes the queue in order', async () => {
    // A server that refuses the first two handshakes with 503 and echoes on the third.
    const httpServer = http.createServer();
    let connections = 0;
    const wss = new WebSocketServer({
      server: httpServer,
      verifyClient: (_info, done) => done(++connections > 2, 503),
    });
    const received: string[] = [];
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        received.push(String(data));
        ws.send(String(data));
      });
    });
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
    const port = (httpServer.address() as AddressInfo).port;
    const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}/`, undefined, {
      reconnect: { initialDelay: 20, factor: 2, jitter: 0.5, maxDelay: 100, maxQueuedMessages: 3 },
    });
    const attempts: number[] = [];
    const disconnects: number[] = [];
    rws.addEventListener('reconnecting', (ev) => attempts.push((ev as ReconnectEvent).attempt));
    rws.addEventListener('disconnect', (ev) => disconnects.push((ev as unknown as { code: number }).code));
    rws.send('a');
    rws.send('b');
    rws.send('c');
    expect(() => rws.send('d')).toThrow(expect.objectContaining({ name: 'QuotaExceededError' }));
    const echoes: string[] = [];
    await new Promise<void>((resolve) => {
      rws.onmessage = (ev) => {
        echoes.push(ev.data as string);
        if (echoes.length === 3) resolve();
      };
    });
    expect(echoes).toEqual(['a', 'b', 'c']);
    expect(received).toEqual(['a', 'b', 'c']);
    expect(attempts).toEqual([1, 2]);
    expect(disconnects).toEqual([1006, 1006]);
    const closed = new Promise((resolve) => rws.addEventListener('close', resolve));
    rws.close(1000);
    await closed;
    expect(rws.readyState).toBe(3);
    wss.close();
    httpServer.close();
  });

  test('gives up after maxAttempts with a final close event', async () => {
    const rws = new ReconnectingWebSocket('ws://127.0.0.1:1/', undefined, {
      reconnect: { initialDelay: 5, maxAttempts: 2 },
    });
    let attempts = 0;
    rws.addEventListener('reconnecting', () => attempts++);
    const ev = await new Promise<{ code: number }>((resolve) => {
      rws.onclose = (e) => resolve(e);
    });
    expect(attempts).toBe(2);
    expect(ev.code).toBe(1006);
  });
});
