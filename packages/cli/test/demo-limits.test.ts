// The demo server's limits, as a program on someone's own machine: how long
// a connection may take to send its request, how large a request head may
// be, and what a client that never reads or an inspector that joins late
// costs it. Real sockets to a demo started in this process with small
// limits; timeouts are observed by waiting for the socket to close, never by
// measuring time.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type Demo, type DemoOptions, startDemo } from '../src/demo-server.js';
import type { TapMessage } from '../src/tap-message.js';

let staticDir: string;
beforeAll(() => {
  staticDir = mkdtempSync(join(tmpdir(), 'rfc6455-demo-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>demo</title>');
});
afterAll(() => rmSync(staticDir, { recursive: true, force: true }));

async function demoWith(options: Partial<DemoOptions> = {}): Promise<Demo> {
  return startDemo({ port: 0, host: '127.0.0.1', staticDir, ...options });
}

/** Opens a WebSocket with the given Origin (none when undefined): 'open', or the HTTP status of the refusal. */
function upgrade(url: string, origin?: string): Promise<{ result: 'open' | number; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.on('open', () => resolve({ result: 'open', ws }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ result: res.statusCode ?? 0, ws });
      res.resume();
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

/** Sends raw bytes and collects everything received until the server closes the connection. */
async function exchange(port: number, bytes: string | Buffer, path = '127.0.0.1'): Promise<string> {
  const socket = connect(port, path);
  socket.on('error', () => {});
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  await once(socket, 'connect');
  if (bytes.length > 0) socket.write(bytes);
  await once(socket, 'close');
  return received;
}

const UPGRADE = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

describe('request deadlines', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await demoWith({ headersTimeout: 150, requestTimeout: 300, closeTimeout: 300 });
  });
  afterAll(() => demo.close());

  test('a connection that sends nothing is answered 408 and closed', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => exchange(demo.port, '')));
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  test('a page request that never finishes its head is answered 408 and closed', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => exchange(demo.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')),
    );
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  test('an upgrade to /echo that never finishes its head is closed', async () => {
    const half = UPGRADE('/echo').slice(0, -30);
    const answers = await Promise.all(Array.from({ length: 20 }, () => exchange(demo.port, half)));
    for (const answer of answers) expect(answer).not.toContain('101');
  });
});

describe('request sizes', () => {
  let demo: Demo;
  beforeAll(async () => {
    // Deadlines as by default: a loaded machine must not turn a 431 into a 408.
    demo = await demoWith({ maxHeaderSize: 4096, closeTimeout: 300 });
  });
  afterAll(() => demo.close());

  test('a request line longer than the head limit is answered 431', async () => {
    expect(await exchange(demo.port, `GET /${'a'.repeat(8000)}`)).toMatch(/^HTTP\/1\.1 431 /);
  });

  test('a page request with a head over the limit is answered 431, even while the client is still sending', async () => {
    expect(
      await exchange(demo.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(8000)}\r\n\r\n`),
    ).toMatch(/^HTTP\/1\.1 431 /);
    // Far more than the limit in one go: the answer must survive the input that is still arriving.
    expect(
      await exchange(demo.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(1 << 20)}\r\n\r\n`),
    ).toMatch(/^HTTP\/1\.1 431 /);
  });

  test('an upgrade to /echo with a head over the limit is answered 431', async () => {
    expect(await exchange(demo.port, UPGRADE('/echo', `X-Big: ${'b'.repeat(8000)}\r\n`))).toMatch(/^HTTP\/1\.1 431 /);
    expect(await exchange(demo.port, UPGRADE('/inspect', `X-Big: ${'b'.repeat(8000)}\r\n`))).toMatch(
      /^HTTP\/1\.1 431 /,
    );
  });

  test('the page is still served to an ordinary request', async () => {
    const answer = await exchange(demo.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('<title>demo</title>');
  });

  test('bad limits are a typed error', async () => {
    for (const bad of [
      { headersTimeout: 0 },
      { maxHeaderSize: -1 },
      { headersTimeout: 500, requestTimeout: 100 },
      { maxMessageSize: 2048, maxBufferedAmount: 1024 },
      { backlogBytes: 10 },
    ]) {
      await expect(demoWith(bad)).rejects.toMatchObject({ name: 'UsageError', code: 'ERR_INVALID_ARGUMENT' });
    }
  });
});

/** A masked binary frame with an all-zero key, so the payload needs no masking work. */
function zeroKeyFrame(size: number): Buffer {
  const header =
    size < 126
      ? Buffer.from([0x82, 0x80 | size])
      : size < 65536
        ? Buffer.from([0x82, 0x80 | 126, size >> 8, size & 0xff])
        : null;
  if (header === null) throw new Error('frame too large for this helper');
  return Buffer.concat([header, Buffer.alloc(4), Buffer.alloc(size, 0x61)]);
}

describe('flow control', () => {
  test('a client that never reads stalls its own connection and is dropped, without the demo taking its flood', async () => {
    const demo = await demoWith({ heartbeatInterval: 100, closeTimeout: 100 });
    try {
      const socket: Socket = connect(demo.port, '127.0.0.1');
      socket.on('error', () => {});
      let closed = false;
      const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      void gone.then(() => (closed = true));
      await once(socket, 'connect');
      socket.write(UPGRADE('/echo?deflate=off'));
      // Read the 101, then never read again.
      let head = '';
      await new Promise<void>((resolve) => {
        const onData = (chunk: Buffer) => {
          head += chunk.toString('latin1');
          if (!head.includes('\r\n\r\n')) return;
          socket.off('data', onData);
          socket.pause();
          resolve();
        };
        socket.on('data', onData);
      });
      expect(head).toMatch(/^HTTP\/1\.1 101 /);

      // Without flow control the demo read all of this and held the echo of it. With it,
      // what a non-reader gets accepted is the sockets' buffers on the way (~40 MB on loopback).
      const CAP = 256 * 1024 * 1024;
      const frame = zeroKeyFrame(60_000);
      let accepted = 0;
      while (!closed && accepted < CAP) {
        if (!socket.write(frame)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
        accepted += frame.length;
      }
      expect(accepted).toBeLessThan(CAP);
      await gone;
    } finally {
      await demo.close();
    }
  });

  test('an inspector that connects late gets at most backlogBytes of records, each cut to maxRecordBytes', async () => {
    const backlogBytes = 64 * 1024;
    const maxRecordBytes = 1024;
    const demo = await demoWith({ backlogBytes, maxRecordBytes });
    try {
      const tab = (await upgrade(`ws://127.0.0.1:${demo.port}/echo?deflate=off`)).ws;
      let echoed = 0;
      const done = new Promise<void>((resolve) =>
        tab.on('message', () => {
          if (++echoed === 64) resolve();
        }),
      );
      for (let i = 0; i < 64; i++) tab.send(Buffer.alloc(16 * 1024, i));
      await done;

      const late = new WebSocket(`ws://127.0.0.1:${demo.port}/inspect`);
      const replayed: string[] = [];
      // A new echo connection after the inspector joined: its 'open' record comes after the whole replay.
      const marker = new Promise<void>((resolve) =>
        late.on('message', (data) => {
          const text = String(data);
          const m = JSON.parse(text) as TapMessage;
          if (m.type === 'open' && m.conn === 2) resolve();
          else replayed.push(text);
        }),
      );
      await once(late, 'open');
      const second = (await upgrade(`ws://127.0.0.1:${demo.port}/echo`)).ws;
      await marker;
      second.close();
      tab.close();
      late.close();

      const total = replayed.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
      expect(total).toBeLessThanOrEqual(backlogBytes);
      expect(total).toBeGreaterThan(backlogBytes / 2); // it did keep the recent traffic
      let cut = 0;
      for (const text of replayed) {
        const m = JSON.parse(text) as TapMessage;
        if (m.type !== 'bytes') continue;
        const kept = Buffer.from(m.base64, 'base64').length;
        expect(kept).toBeLessThanOrEqual(maxRecordBytes);
        if (m.length !== undefined) {
          cut++;
          expect(m.length).toBeGreaterThan(kept);
        }
      }
      expect(cut).toBeGreaterThan(0);
    } finally {
      await demo.close();
    }
  });
});
