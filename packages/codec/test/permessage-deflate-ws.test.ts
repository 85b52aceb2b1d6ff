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
import { ClientEndpoint, type Endpoint, type EndpointEvent, permessageDeflate, ServerEndpoint } from '../src/index.js';
import { deflateParams } from './helpers.js';

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
  configs.push({
    serverNoContextTakeover: !takeover,
    clientNoContextTakeover: !takeover,
    serverMaxWindowBits: bits,
    clientMaxWindowBits: 24 - bits,
  });
}
configs.push({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
});
configs.push({
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
});
configs.push({
  serverNoContextTakeover: true,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 12,
  clientMaxWindowBits: 9,
});

function messages(): (string | Uint8Array)[] {
  const json = JSON.stringify(
    Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b', `t${i % 7}`] })),
  );
  const noise = new Uint8Array(40_000);
  let s = 12345;
  for (let i = 0; i < noise.length; i++) noise[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return [json, 'hello', '', json.slice(0, 3000), noise, 'é€😀'.repeat(2000), new Uint8Array(100_000), json];
}

/**
 * Runs an endpoint over a socket, handshake included: feeds it what arrives
 * and writes what it queues. Resolves with the data messages once `count`
 * arrived; rejects on a failed or refused handshake or a protocol error.
 */
function drive(socket: Socket, endpoint: Endpoint, count: number, onEvent: (ev: EndpointEvent) => void = () => {}) {
  return new Promise<EndpointEvent[]>((resolve, reject) => {
    const got: EndpointEvent[] = [];
    const flush = () => {
      for (const b of endpoint.takeOutgoing()) socket.write(b);
    };
    socket.on('connect', flush);
    socket.on('data', (b: Buffer) => {
      endpoint.receive(new Uint8Array(b.buffer, b.byteOffset, b.length));
      for (let ev = endpoint.nextEvent(); ev; ev = endpoint.nextEvent()) {
        if (ev.type === 'protocol-error' || ev.type === 'rejected') reject(new Error(JSON.stringify(ev)));
        onEvent(ev);
        if (ev.type === 'text' || ev.type === 'binary') got.push(ev);
      }
      flush();
      if (got.length === count) resolve(got);
    });
    socket.on('error', reject);
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
      const s = new ws.WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0 } }, () =>
        resolve(s),
      );
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
      const client = new ClientEndpoint(`ws://127.0.0.1:${port}/`, {
        extensions: [permessageDeflate({ ...c, threshold: 0 })],
      });
      const socket = connect(port, '127.0.0.1');
      const msgs = messages();
      const got = await drive(socket, client, msgs.length, (ev) => {
        if (ev.type !== 'open') return;
        for (const m of msgs)
          client.send(typeof m === 'string' ? { type: 'text', data: m } : { type: 'binary', data: m });
      });
      expect(deflateParams(client)).toEqual(c);
      expect(got.map((e) => e.type)).toEqual(msgs.map((m) => (typeof m === 'string' ? 'text' : 'binary')));
      for (const [i, e] of got.entries())
        expect(asBytes((e as { data: string | Uint8Array }).data)).toEqual(asBytes(msgs[i]!));
      socket.destroy();
    });
  }
});

describe('permessage-deflate with ws as the client', () => {
  let port = 0;
  let serverPrefs: Config | undefined;
  let agreed: Config | undefined;
  let server: Server;
  beforeAll(async () => {
    server = createServer((socket) => {
      const endpoint = new ServerEndpoint({ extensions: [permessageDeflate({ ...serverPrefs, threshold: 0 })] });
      socket.on('data', (b: Buffer) => {
        endpoint.receive(new Uint8Array(b));
        for (let ev = endpoint.nextEvent(); ev; ev = endpoint.nextEvent()) {
          if (ev.type === 'request') endpoint.send({ type: 'accept' });
          if (ev.type === 'open') agreed = deflateParams(endpoint);
          if (ev.type === 'text' || ev.type === 'binary') endpoint.send(ev);
        }
        for (const out of endpoint.takeOutgoing()) socket.write(out);
        if (endpoint.shouldCloseTransport) socket.end();
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
      agreed = undefined;
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
      expect(agreed).toEqual(c);
      for (const [i, m] of got.entries()) expect(asBytes(m)).toEqual(asBytes(msgs[i]!));
      client.close();
    });
  }
});
