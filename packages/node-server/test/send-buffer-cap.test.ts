// The cap on bytes waiting to be written (`maxBufferedAmount`): it counts the
// bytes that really wait (UTF-8 text, compressed frames), it never refuses a
// message to a reader that takes what it is sent at once, and it still closes
// a reader that does not read.
import { once } from 'node:events';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { OPEN, type ServerOptions, type WebSocket, type WebSocketServer } from '../src/index.js';
import { startServer } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: ServerOptions) {
  const s = await startServer(options);
  cleanups.push(() => s.wss.close({ timeout: 500 }));
  return s;
}

/** Opens a `ws` client and returns it with the server's side of the connection. */
async function pair(wss: WebSocketServer, url: string, options: WebSocketClient.ClientOptions = {}) {
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocketClient(url, options);
  cleanups.push(() => client.terminate());
  const [[ws]] = await Promise.all([accepted, once(client, 'open')]);
  return { ws, client };
}

/** Resolves with the next `n` messages, or rejects if the connection closes first (e.g. with 1008). */
function messages(client: WebSocketClient, n: number): Promise<Array<[Buffer, boolean]>> {
  if (n === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const got: Array<[Buffer, boolean]> = [];
    const onMessage = (data: Buffer, isBinary: boolean) => {
      got.push([data, isBinary]);
      if (got.length < n) return;
      client.off('message', onMessage).off('close', onClose);
      resolve(got);
    };
    const onClose = (code: number, reason: Buffer) =>
      reject(new Error(`closed with ${code} "${reason}" after ${got.length} of ${n} messages`));
    client.on('message', onMessage).on('close', onClose);
  });
}

/** Bytes of an unmasked (server) frame carrying `payload` bytes in one frame (RFC 6455 §5.2). */
function frameLength(payload: number): number {
  return payload + (payload < 126 ? 2 : payload < 65536 ? 4 : 10);
}

describe('maxBufferedAmount counts text in UTF-8 bytes', () => {
  const utf8 = new TextEncoder();
  const multiByte = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀'), minLength: 100, maxLength: 3000 });

  it('refuses a text message exactly when its frame would take the bytes waiting over the cap', async () => {
    await fc.assert(
      fc.asyncProperty(multiByte, fc.integer({ min: 0, max: 256 * 1024 }), async (text, cap) => {
        const { wss, url } = await server({
          maxBufferedAmount: cap,
          onBufferOverflow: 'drop',
          readPauseThreshold: 2 ** 30,
        });
        const { ws, client } = await pair(wss, url);
        // The client stops reading: once the kernel's buffers are full, every byte sent waits.
        client.pause();
        const admitted: string[] = [];
        const wrong: string[] = [];
        let refused = 0;
        for (let i = 0; refused < 3 && i < 100_000; i++) {
          const message = `${i} ${text}`;
          const waiting = ws.bufferedAmount;
          const frame = frameLength(utf8.encode(message).length);
          // Nothing waiting: any message goes; otherwise only one that fits.
          const expected = waiting === 0 || waiting + frame <= cap;
          const sent = ws.send(message);
          if (sent !== expected)
            wrong.push(`message ${i}: ${frame} bytes onto ${waiting} waiting, cap ${cap}: send returned ${sent}`);
          if (sent) admitted.push(message);
          else refused++;
        }
        expect(wrong).toEqual([]);
        expect(refused).toBe(3);
        // The peer gets exactly the admitted messages, in order: a marker sent
        // once it has read them all comes right after them.
        const received = messages(client, admitted.length);
        client.resume();
        const got = (await received).map(([data]) => data.toString('utf8'));
        expect(ws.send('end')).toBe(true);
        const end = (await messages(client, 1)).map(([data]) => data.toString('utf8'));
        expect([...got, ...end]).toEqual([...admitted, 'end']);
        for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      }),
      // Each run fills the kernel's socket buffers (megabytes): report the first failure unshrunk.
      {
        numRuns: 15,
        endOnFailure: true,
        examples: [
          // Refused at once when the cap was 0, though nothing was waiting.
          [
            'é€aaa€aé€aaaa😀a€aa😀😀a😀😀😀a€a€😀a😀aa€€€aa€😀aaaéaaa😀€aééé€éé€€éééé€éa€€€éaa€éaaaa😀a€aaaéaaaé€a€aaaaaaaaa',
            0,
          ],
          // Counted in UTF-16 units, a 271-byte frame went onto 87 533 waiting bytes under a cap of 87 788.
          [
            'aaaé€€ééé😀😀€😀😀😀€€😀a😀éééaé€aé😀😀aé😀a€é€😀€😀éa€aé😀€😀é€ééé😀😀é😀éééaé€😀é€€é€é😀€😀€é😀😀éa😀é€éé€a€😀é€é€😀éaa€a€éé',
            87_788,
          ],
        ],
      },
    );
  });
});

/**
 * A TCP relay that holds what the client sends after its handshake request
 * until `count` whole data messages are there and then writes them to the
 * server in one write, so that they arrive in one read; the server's bytes
 * pass straight through.
 */
async function coalescingRelay(target: number, count: number) {
  let coalesced = 0;
  const sockets = new Set<Socket>();
  const relay = createServer((down) => {
    const up = connect(target, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        down.destroy();
        up.destroy();
      });
    }
    up.pipe(down);
    let inHead = true;
    let passing = false;
    let held = Buffer.alloc(0);
    down.on('data', (chunk: Buffer) => {
      if (passing) {
        up.write(chunk);
        return;
      }
      held = Buffer.concat([held, chunk]);
      if (inHead) {
        const end = held.indexOf('\r\n\r\n');
        if (end < 0) return;
        up.write(held.subarray(0, end + 4));
        held = held.subarray(end + 4);
        inHead = false;
      }
      if (completeDataMessages(held) < count) return;
      up.write(held);
      coalesced = held.length;
      passing = true;
    });
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => relay.close(resolve));
  });
  return { port: (relay.address() as AddressInfo).port, coalesced: () => coalesced };
}

/** How many whole (FIN) data frames of masked client frames `bytes` starts with. */
function completeDataMessages(bytes: Buffer): number {
  let count = 0;
  let at = 0;
  for (;;) {
    if (bytes.length < at + 2) return count;
    const first = bytes[at] as number;
    let length = (bytes[at + 1] as number) & 0x7f;
    let header = 2;
    if (length === 126) {
      if (bytes.length < at + 4) return count;
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (bytes.length < at + 10) return count;
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
    }
    header += 4; // the masking key
    if (bytes.length < at + header + length) return count;
    if ((first & 0x80) !== 0 && (first & 0x0f) < 0x8) count++;
    at += header + length;
  }
}

describe('a reader that reads at once, with the defaults and permessage-deflate', () => {
  // Within 1 KiB of the 16 MiB message limit (which equals the default cap),
  // and the limit itself: compressed, two such messages fit in one read.
  it.each([16_776_192, 16 * 1024 * 1024])(
    'gets both echoes of two %i-byte messages that arrive in one read',
    async (size) => {
      const { wss, port } = await server({ perMessageDeflate: true });
      wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
      const relay = await coalescingRelay(port, 2);
      const { client } = await pair(wss, `ws://127.0.0.1:${relay.port}`, { perMessageDeflate: true });
      // Runs of one byte compress about 1000:1, as far as DEFLATE goes.
      const text = 'a'.repeat(size);
      const binary = Buffer.alloc(size, 0x5a);
      const echoes = messages(client, 2);
      client.send(text);
      client.send(binary);
      const echoed = await echoes;
      // Both messages went to the server in one write, small enough for one read.
      expect(relay.coalesced()).toBeGreaterThan(0);
      expect(relay.coalesced()).toBeLessThan(64 * 1024);
      expect(echoed.map(([data, isBinary]) => [data.length, isBinary])).toEqual([
        [size, false],
        [size, true],
      ]);
      expect(echoed[0]?.[0].toString('latin1') === text).toBe(true);
      expect(echoed[1]?.[0].equals(binary)).toBe(true);
      expect(client.readyState).toBe(WebSocketClient.OPEN);
    },
  );
});

/**
 * A raw client that offers permessage-deflate, reads the 101 response and
 * then stops reading. `closeFrame()` starts reading again and resolves with
 * the first close frame the server sent, skipping everything before it.
 */
async function slowReader(port: number) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  cleanups.push(() => void socket.destroy());
  await once(socket, 'connect');
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      'Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n',
  );
  let pending = Buffer.alloc(0);
  let head = '';
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      head = pending.subarray(0, end).toString('latin1');
      pending = Buffer.from(pending.subarray(end + 4));
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
  });
  return {
    head,
    closeFrame(): Promise<{ code: number; reason: string }> {
      return new Promise((resolve, reject) => {
        let skip = 0;
        const onData = (chunk: Buffer) => {
          let bytes = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
          for (;;) {
            const n = Math.min(skip, bytes.length);
            skip -= n;
            bytes = bytes.subarray(n);
            if (skip > 0 || bytes.length < 2) break;
            const opcode = (bytes[0] as number) & 0x0f;
            let length = (bytes[1] as number) & 0x7f;
            let header = 2;
            if (length === 126) {
              if (bytes.length < 4) break;
              length = bytes.readUInt16BE(2);
              header = 4;
            } else if (length === 127) {
              if (bytes.length < 10) break;
              length = Number(bytes.readBigUInt64BE(2));
              header = 10;
            }
            if (opcode === 0x8) {
              if (bytes.length < header + length) break;
              const body = bytes.subarray(header, header + length);
              socket.off('data', onData);
              resolve({ code: body.readUInt16BE(0), reason: body.subarray(2).toString('utf8') });
              return;
            }
            bytes = bytes.subarray(header);
            skip = length;
          }
          pending = Buffer.from(bytes);
        };
        socket.on('data', onData);
        socket.once('close', () => reject(new Error('the connection closed before a close frame arrived')));
        socket.resume();
      });
    },
  };
}

describe('a reader that does not read, with the defaults and permessage-deflate', () => {
  it('is closed with 1008 once the bytes waiting reach the cap', async () => {
    const { wss, port } = await server({ perMessageDeflate: true });
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const reader = await slowReader(port);
    expect(reader.head).toMatch(/^HTTP\/1\.1 101 /);
    expect(reader.head.toLowerCase()).toContain('sec-websocket-extensions: permessage-deflate');
    const [ws] = await accepted;
    // Random bytes do not compress: each message adds about 1 MiB to what waits.
    const noise = randomBytes(1024 * 1024);
    let sends = 0;
    while (ws.readyState === OPEN && sends < 64) {
      ws.send(noise);
      sends++;
    }
    // The cap ended the loop, not its bound.
    expect(ws.readyState).not.toBe(OPEN);
    expect(sends).toBeLessThan(64);
    expect(await reader.closeFrame()).toEqual({ code: 1008, reason: 'send buffer overflow (slow reader)' });
  });
});
