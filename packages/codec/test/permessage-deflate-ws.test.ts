/**
 * permessage-deflate against the npm `ws` package over real TCP on
 * 127.0.0.1: ws as the server with this codec as the client, and ws as the
 * client with this codec as the server, with context takeover on and off and
 * every window size from 9 to 15 on both sides. Each side echoes, so every
 * message is compressed once by each implementation and inflated by the other.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptExtensions,
  ClientHandshake,
  Connection,
  type ConnectionEvent,
  negotiateExtensions,
  offerExtensions,
  type PerMessageDeflateAgreement,
  permessageDeflate,
  ServerHandshake,
} from '../src/index.js';

interface WsSocket {
  on(event: string, fn: (...args: unknown[]) => void): void;
  send(data: unknown, options?: object): void;
  close(): void;
  readonly extensions: string;
}
interface WsServer {
  on(event: string, fn: (...args: unknown[]) => void): void;
  address(): { port: number };
  close(cb?: () => void): void;
}
const ws = createRequire(import.meta.url)('ws') as {
  WebSocket: new (url: string, options?: object) => WsSocket;
  WebSocketServer: new (options: object, cb?: () => void) => WsServer;
};

interface Config {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number;
  readonly clientMaxWindowBits: number;
}

const configs: Config[] = [];
for (let bits = 9; bits <= 15; bits++) {
  const takeover = bits % 2 === 1;
  configs.push({ serverNoContextTakeover: !takeover, clientNoContextTakeover: !takeover, serverMaxWindowBits: bits, clientMaxWindowBits: 24 - bits });
}
configs.push({ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
configs.push({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
configs.push({ serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 12, clientMaxWindowBits: 9 });

function messages(): (string | Uint8Array)[] {
  const json = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b', `t${i % 7}`] })));
  const noise = new Uint8Array(40_000);
  let s = 12345;
  for (let i = 0; i < noise.length; i++) noise[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return [json, 'hello', '', json.slice(0, 3000), noise, 'é€😀'.repeat(2000), new Uint8Array(100_000), json];
}

/** Drives a codec Connection over a socket: returns a promise of the data events received until `count`. */
function pump(socket: Socket, conn: Connection, first: Uint8Array, count: number, onMessage?: (ev: ConnectionEvent) => void) {
  return new Promise<ConnectionEvent[]>((resolve, reject) => {
    const got: ConnectionEvent[] = [];
    const onBytes = (chunk: Uint8Array) => {
      conn.receive(chunk);
      for (let ev = conn.nextEvent(); ev; ev = conn.nextEvent()) {
        if (ev.type === 'protocol-error') reject(new Error(`${ev.code} ${ev.reason}`));
        if (ev.type === 'text' || ev.type === 'binary') {
          got.push(ev);
          onMessage?.(ev);
        }
      }
      for (const b of conn.takeOutgoing()) socket.write(b);
      if (got.length === count) resolve(got);
    };
    socket.on('data', (b: Buffer) => onBytes(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    socket.on('error', reject);
    if (first.length > 0) onBytes(first);
  });
}

function asBytes(m: string | Uint8Array): Uint8Array {
  return typeof m === 'string' ? new TextEncoder().encode(m) : m;
}

function wsOptions(c: Config, threshold = 0) {
  return {
    serverNoContextTakeover: c.serverNoContextTakeover,
    clientNoContextTakeover: c.clientNoContextTakeover,
    serverMaxWindowBits: c.serverMaxWindowBits,
    clientMaxWindowBits: c.clientMaxWindowBits,
    threshold,
  };
}

describe('permessage-deflate with ws as the server', () => {
  let port = 0;
  let server: WsServer;
  beforeAll(async () => {
    // One server per configuration would be slow; the client's offer drives the parameters instead.
    server = await new Promise<WsServer>((resolve) => {
      const s = new ws.WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0 } }, () => resolve(s));
    });
    server.on('connection', (sock) => {
      const socket = sock as WsSocket;
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary as boolean, compress: true }));
    });
    port = server.address().port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  for (const c of configs) {
    it(`echoes through ws with ${JSON.stringify(c)}`, async () => {
      const ext = permessageDeflate({ ...c, threshold: 0 });
      const hs = new ClientHandshake(`ws://127.0.0.1:${port}/`, { extensions: offerExtensions([ext]) });
      const socket = connect(port, '127.0.0.1');
      const open = await new Promise<{ trailing: Uint8Array; negotiated: PerMessageDeflateAgreement }>((resolve, reject) => {
        socket.on('connect', () => socket.write(hs.request));
        const onData = (b: Buffer) => {
          hs.receive(new Uint8Array(b));
          const ev = hs.nextEvent();
          if (ev === undefined) return;
          socket.off('data', onData);
          if (ev.type !== 'open') return reject(new Error(JSON.stringify(ev)));
          const agreed = acceptExtensions(ev.extensions, [ext]);
          if (!agreed.ok) return reject(new Error(agreed.reason));
          resolve({ trailing: ev.trailing, negotiated: agreed.negotiated[0] as PerMessageDeflateAgreement });
        };
        socket.on('data', onData);
      });
      expect(open.negotiated.params).toEqual(c);
      const conn = new Connection({ role: 'client', extensions: [open.negotiated] });
      const msgs = messages();
      const done = pump(socket, conn, open.trailing, msgs.length);
      for (const m of msgs) conn.send(typeof m === 'string' ? { type: 'text', data: m } : { type: 'binary', data: m });
      for (const b of conn.takeOutgoing()) socket.write(b);
      const got = await done;
      expect(got.map((e) => e.type)).toEqual(msgs.map((m) => (typeof m === 'string' ? 'text' : 'binary')));
      got.forEach((e, i) => expect(asBytes((e as { data: string | Uint8Array }).data)).toEqual(asBytes(msgs[i]!)));
      socket.destroy();
    });
  }
});

describe('permessage-deflate with ws as the client', () => {
  let port = 0;
  let serverPrefs: Config | undefined;
  let server: Server;
  beforeAll(async () => {
    server = createServer((socket) => {
      const hs = new ServerHandshake();
      let conn: Connection | undefined;
      socket.on('data', (b: Buffer) => {
        let chunk = new Uint8Array(b);
        if (conn === undefined) {
          hs.receive(chunk);
          const ev = hs.nextEvent();
          if (ev === undefined) return;
          if (ev.type !== 'request') return void socket.destroy();
          const chosen = negotiateExtensions(ev.extensions, [permessageDeflate({ ...serverPrefs, threshold: 0 })]);
          const accepted = hs.accept({ extensions: chosen.response });
          socket.write(accepted.response);
          conn = new Connection({ role: 'server', extensions: chosen.negotiated });
          chunk = accepted.trailing;
        }
        conn.receive(chunk);
        for (let ev = conn.nextEvent(); ev; ev = conn.nextEvent()) {
          if (ev.type === 'text' || ev.type === 'binary') conn.send(ev);
        }
        for (const out of conn.takeOutgoing()) socket.write(out);
        if (conn.shouldCloseTransport) socket.end();
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  for (const c of configs) {
    it(`echoes through the codec for a ws client with ${JSON.stringify(c)}`, async () => {
      serverPrefs = c;
      const client = new ws.WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: wsOptions(c) });
      const msgs = messages();
      const got: (string | Uint8Array)[] = [];
      await new Promise<void>((resolve, reject) => {
        client.on('error', reject);
        client.on('open', () => {
          for (const m of msgs) client.send(m, { binary: typeof m !== 'string', compress: true });
        });
        client.on('message', (data, isBinary) => {
          const b = data as Buffer;
          got.push(isBinary ? new Uint8Array(b) : b.toString('utf8'));
          if (got.length === msgs.length) resolve();
        });
      });
      expect(client.extensions).toMatch(/^permessage-deflate/);
      got.forEach((m, i) => expect(asBytes(m)).toEqual(asBytes(msgs[i]!)));
      client.close();
    });
  }
});
