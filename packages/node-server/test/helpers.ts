import { once } from 'node:events';
import { type Socket, connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { type ServerOptions, WebSocketServer } from '../src/index.js';

export async function startServer<Data = unknown>(options: ServerOptions<Data> = {}) {
  const wss = new WebSocketServer<Data>({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  const port = wss.address()?.port as number;
  return { wss, port, url: `ws://127.0.0.1:${port}` };
}

/** A client frame: masked, with the given first byte (FIN|opcode). */
export function clientFrame(first: number, payload: Uint8Array | string, mask = true): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const len = body.length;
  const header: number[] = [first];
  const m = mask ? 0x80 : 0;
  if (len < 126) header.push(m | len);
  else if (len < 65536) header.push(m | 126, len >> 8, len & 0xff);
  else {
    header.push(m | 127, 0, 0, 0, 0);
    header.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!mask) return Buffer.concat([Buffer.from(header), body]);
  const key = randomBytes(4);
  for (let i = 0; i < len; i++) body[i] = (body[i] as number) ^ (key[i & 3] as number);
  return Buffer.concat([Buffer.from(header), key, body]);
}

export interface RawClient {
  socket: Socket;
  /** Bytes received after the response head. */
  received(): Buffer;
  head: string;
  waitFor(pred: (buf: Buffer) => boolean, ms?: number): Promise<Buffer>;
  closed: Promise<void>;
}

/** Opens a TCP connection, sends an upgrade request, and waits for the response head. */
export async function rawClient(port: number, extraHeaders = ''): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
  );
  let buf = Buffer.alloc(0);
  let head = '';
  const waiters = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (head === '') {
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
      }
    }
    for (const w of waiters) w();
  });
  const client: RawClient = {
    socket,
    received: () => buf,
    get head() {
      return head;
    },
    closed,
    waitFor(pred, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (head !== '' && pred(buf)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(buf);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; have ${buf.length} bytes`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
  };
  await client.waitFor(() => true);
  return client;
}

export function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `pred` holds or fails after `ms`. */
export async function until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
