// permessage-deflate: negotiation with the ws client across its parameters,
// compressed round trips, broadcast encodings, the node:zlib backend beside
// pako, a decompression bomb from a raw client, and the echo server's switch.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import {
  ClientEndpoint,
  type CompressionBackend,
  pakoBackend,
  type PerMessageDeflateAgreement,
  type PerMessageDeflateParams,
  permessageDeflate,
  ServerEndpoint,
} from '@rfc6455/codec';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import {
  type ServerOptions,
  type WebSocket,
  type WebSocketProtocolError,
  type WebSocketServer,
  zlibBackend,
  zlibBackendAvailable,
} from '../src/index.js';
import { parkIdleEngines } from '../src/zlib-parking.js';
import { rawClient, startServer, until } from './helpers.js';

const servers: Array<Pick<WebSocketServer, 'close'>> = [];
async function echoServer(options: ServerOptions = {}) {
  const s = await startServer({ perMessageDeflate: true, ...options });
  servers.push(s.wss);
  s.wss.on('connection', (ws: WebSocket) => ws.on('message', (data) => ws.send(data)));
  return s;
}
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 500 })));
  for (const c of children.splice(0)) c.kill();
});

/** A ws client; `accepted` is the server's Sec-WebSocket-Extensions ('' for none). ws's own `extensions` lists names only. */
async function open(url: string, perMessageDeflate: WebSocketClient.ClientOptions['perMessageDeflate']) {
  const c = new WebSocketClient(url, { perMessageDeflate }) as WebSocketClient & { accepted: string };
  c.once('upgrade', (res) => (c.accepted = String(res.headers['sec-websocket-extensions'] ?? '')));
  await once(c, 'open');
  return c;
}

/** JSON-like text that compresses, different each time so context takeover matters. */
function doc(n: number, size: number): string {
  let s = '';
  for (let i = 0; s.length < size; i++) s += `{"id":${n * 1000 + i},"name":"item ${i % 17}","ok":${i % 3 === 0}},`;
  return s.slice(0, size);
}

/** Sends messages one after another and checks each echo; returns the compressed bytes the client read. */
async function roundTrips(c: WebSocketClient, messages: Array<string | Buffer>): Promise<void> {
  for (const m of messages) {
    const echoed = once(c, 'message') as Promise<[Buffer, boolean]>;
    c.send(m);
    const [data, isBinary] = await echoed;
    expect(isBinary).toBe(typeof m !== 'string');
    if (typeof m === 'string') expect(data.toString()).toBe(m);
    else expect(Buffer.compare(data, m)).toBe(0);
  }
}

const MESSAGES = [
  doc(1, 20_000),
  doc(2, 20_000),
  'short',
  doc(1, 20_000),
  Buffer.from(doc(3, 70_000)),
  '',
  doc(4, 1500),
  'x'.repeat(300_000),
];

describe('permessage-deflate with the ws client', () => {
  it('is declined by default (the library default is off)', async () => {
    const { wss, url } = await startServer();
    servers.push(wss);
    const c = await open(url, true);
    expect(c.accepted).toBe('');
    c.close();
  });

  it('negotiates with the defaults and round-trips compressed messages both ways', async () => {
    const { wss, url } = await echoServer();
    let serverExtensions = '';
    wss.on('connection', (ws) => (serverExtensions = ws.extensions));
    const c = await open(url, true);
    expect(c.accepted).toBe('permessage-deflate');
    expect(serverExtensions).toBe('permessage-deflate');
    let wire = 0;
    (c as unknown as { _socket: import('node:net').Socket })._socket.on('data', (d: Buffer) => (wire += d.length));
    await roundTrips(c, MESSAGES);
    // The server compressed: far fewer bytes came back than were echoed.
    const total = MESSAGES.reduce((n, m) => n + m.length, 0);
    expect(wire).toBeLessThan(total / 3);
    c.close();
    await once(c, 'close');
  });

  const variations: Array<[string, WebSocketClient.PerMessageDeflateOptions, string]> = [
    ['server_no_context_takeover', { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover'],
    ['client_no_context_takeover', { clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover'],
    [
      'both no_context_takeover',
      { serverNoContextTakeover: true, clientNoContextTakeover: true },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    ],
  ];
  for (const bits of [9, 10, 11, 12, 13, 14, 15]) {
    // Accepting server_max_window_bits means stating it, even at 15 (RFC 7692 §7.1.2.1).
    variations.push([
      `server_max_window_bits=${bits}`,
      { serverMaxWindowBits: bits },
      `permessage-deflate; server_max_window_bits=${bits}`,
    ]);
    variations.push([
      `client_max_window_bits=${bits}`,
      { clientMaxWindowBits: bits },
      bits === 15 ? 'permessage-deflate' : `permessage-deflate; client_max_window_bits=${bits}`,
    ]);
  }
  variations.push([
    'both windows 9, no context either way',
    { serverMaxWindowBits: 9, clientMaxWindowBits: 9, serverNoContextTakeover: true, clientNoContextTakeover: true },
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
  ]);

  it.each(variations)('%s', async (_name, options, expected) => {
    const { url } = await echoServer();
    const c = await open(url, { ...options, threshold: 0 });
    expect(c.accepted).toBe(expected);
    await roundTrips(c, MESSAGES);
    c.close();
    await once(c, 'close');
  });

  it('declines an offer that would make the server deflate with an 8-bit window', async () => {
    const { url } = await echoServer();
    const c = await open(url, { serverMaxWindowBits: 8 });
    expect(c.accepted).toBe('');
    await roundTrips(c, [doc(1, 5000)]);
    c.close();
  });

  it('applies server options: a server that asks for client_no_context_takeover and a small client window', async () => {
    const { url } = await echoServer({
      perMessageDeflate: { clientNoContextTakeover: true, clientMaxWindowBits: 10, serverMaxWindowBits: 12, level: 1 },
    });
    // ws offers client_max_window_bits without a value for `true`, though its types only say number.
    const c = await open(url, { clientMaxWindowBits: true as unknown as number });
    expect(c.accepted).toBe(
      'permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10',
    );
    await roundTrips(c, MESSAGES);
    c.close();
  });

  it('runs on pako when asked to', async () => {
    const { url } = await echoServer({ perMessageDeflate: { backend: pakoBackend } });
    const c = await open(url, true);
    await roundTrips(c, MESSAGES);
    c.close();
  });

  it('broadcasts: compressed once per window for server_no_context_takeover, plain for context takeover and no deflate', async () => {
    const { wss, url } = await echoServer({ perMessageDeflate: { threshold: 0 } });
    const clients = await Promise.all([
      open(url, { serverNoContextTakeover: true }),
      open(url, { serverNoContextTakeover: true }),
      open(url, { serverNoContextTakeover: true, serverMaxWindowBits: 10 }),
      open(url, true),
      open(url, false),
    ]);
    const compressed = clients.map(() => [] as boolean[]);
    clients.forEach((c, i) => {
      // ws's Receiver exposes the RSV1 bit of the message being read.
      const receiver = (c as unknown as { _receiver: import('node:events').EventEmitter & { _compressed: boolean } })
        ._receiver;
      receiver.on('message', () => compressed[i]!.push(receiver._compressed));
    });
    await until(() => wss.clients.size === 5);
    const text = doc(9, 10_000);
    const got = clients.map((c) => once(c, 'message') as Promise<[Buffer, boolean]>);
    expect(wss.broadcast(text)).toBe(5);
    for (const [data] of await Promise.all(got)) expect(data.toString()).toBe(text);
    expect(compressed).toEqual([[true], [true], [true], [false], [false]]);
    // A second broadcast with context takeover clients still works (their deflater was never used for it).
    const again = clients.map((c) => once(c, 'message') as Promise<[Buffer, boolean]>);
    wss.broadcast(Buffer.from(text));
    for (const [data, isBinary] of await Promise.all(again)) expect([data.toString(), isBinary]).toEqual([text, true]);
    await roundTrips(clients[3]!, MESSAGES.slice(0, 3));
    for (const c of clients) c.close();
  });
});

describe('a decompression bomb', () => {
  it('fails with 1009 after at most a step past the limit, without inflating the rest', async () => {
    const { wss, port } = await startServer({ perMessageDeflate: true, maxMessageSize: 1024 * 1024 });
    servers.push(wss);
    const errors: number[] = [];
    wss.on('connection', (ws) => ws.on('error', (e) => errors.push((e as WebSocketProtocolError).closeCode)));
    const client = await rawClient(port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
    expect(client.head).toMatch(/sec-websocket-extensions: permessage-deflate/i);
    // 512 MiB of zeros compressed to about half a MiB, in one frame with RSV1.
    const d = zlibBackend.createDeflater({ windowBits: 15, level: 9, memLevel: 9 });
    const zeros = new Uint8Array(1024 * 1024);
    const parts: Buffer[] = [];
    for (let i = 0; i < 512; i++) parts.push(Buffer.from(d.compress(zeros)));
    const payload = Buffer.concat(parts);
    expect(payload.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage();
    const header = Buffer.from([0xc2, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    header.writeUInt32BE(payload.length, 6);
    for (let i = 0; i < payload.length; i++) payload[i]! ^= header[10 + (i & 3)]!;
    client.socket.write(Buffer.concat([header, payload]));
    const frames = await client.waitFor((b) => b.length >= 4 && b[0] === 0x88);
    expect(frames.readUInt16BE(2)).toBe(1009);
    const after = process.memoryUsage();
    expect(errors).toEqual([1009]);
    // Bounded by the limit (1 MiB) and the frame itself, not the 512 MiB it would inflate to.
    expect(after.arrayBuffers + after.heapUsed - (before.arrayBuffers + before.heapUsed)).toBeLessThan(
      32 * 1024 * 1024,
    );
    await client.closed;
  });
});

describe('the node:zlib backend', () => {
  it('is available on this Node and interoperates with pako both ways, with and without context', () => {
    expect(zlibBackendAvailable).toBe(true);
    for (const [sender, receiver] of [
      [zlibBackend, pakoBackend],
      [pakoBackend, zlibBackend],
      [zlibBackend, zlibBackend],
    ] as const) {
      for (const serverNoContextTakeover of [false, true]) {
        const params = { serverNoContextTakeover, serverMaxWindowBits: 11 };
        const { server: s, client: c } = deflatePair(params, { server: sender, client: receiver });
        for (const m of [doc(1, 40_000), doc(1, 40_000), '', 'a', doc(2, 100)]) {
          s.send({ type: 'text', data: m });
          for (const b of s.takeOutgoing()) c.receive(b);
          expect(c.nextEvent()).toEqual({ type: 'text', data: m });
        }
      }
    }
  });

  it('parks an idle deflater as its last window of input and resumes from it, with and without context, in every window size', () => {
    // Repeats far back (doc 1 after 40 000 other bytes) and near (the same doc twice), across parks.
    const messages = [doc(1, 40_000), doc(1, 40_000), 'a', doc(2, 300), doc(2, 300), doc(3, 70_000), '', doc(3, 5_000)];
    const run = (
      bits: number,
      receiver: typeof zlibBackend,
      serverNoContextTakeover: boolean,
      park: boolean,
    ): number => {
      const params = { serverNoContextTakeover, serverMaxWindowBits: bits };
      const { server: s, client: c } = deflatePair(params, { server: zlibBackend, client: receiver });
      let wire = 0;
      messages.forEach((m, i) => {
        s.send({ type: 'text', data: m });
        for (const b of s.takeOutgoing()) {
          wire += b.length;
          c.receive(b);
        }
        expect(c.nextEvent()).toEqual({ type: 'text', data: m });
        if (park && i % 2 === 0) parkIdleEngines();
      });
      // A message streamed in parts, with sweeps between them: the receiving
      // inflater is mid-message and must stay awake; the deflater may park.
      const parts = [doc(4, 3_000), doc(1, 2_000), doc(4, 3_000)];
      parts.forEach((part, i) => {
        s.send({ type: 'text', data: part, fin: i === parts.length - 1 });
        for (const b of s.takeOutgoing()) c.receive(b);
        if (park) parkIdleEngines();
      });
      expect(c.nextEvent()).toEqual({ type: 'text', data: parts.join('') });
      return wire;
    };
    for (const bits of [9, 12, 15]) {
      for (const [receiver, noContext] of [
        [pakoBackend, false],
        [zlibBackend, false],
        [pakoBackend, true],
      ] as const) {
        // Context survives parking: about as many bytes on the wire as without it.
        expect(run(bits, receiver, noContext, true)).toBeLessThan(run(bits, receiver, noContext, false) * 1.1);
      }
    }
  });

  it('parks an idle inflater only between messages, and it resumes with the same window', () => {
    const params = { clientMaxWindowBits: 15 };
    const { server, client } = deflatePair(params, { server: zlibBackend, client: pakoBackend });
    const stuck = parkIdleEngines(); // engines of earlier tests left mid-message, if any
    const a = doc(5, 20_000);
    client.send({ type: 'text', data: a });
    const frames = Buffer.concat(client.takeOutgoing());
    // Half a message, a sweep (mid-message: stays awake), the rest.
    server.receive(frames.subarray(0, frames.length >> 1));
    expect(server.nextEvent()).toBeUndefined();
    expect(parkIdleEngines()).toBe(stuck + 1);
    server.receive(frames.subarray(frames.length >> 1));
    expect(server.nextEvent()).toEqual({ type: 'text', data: a });
    expect(parkIdleEngines()).toBe(stuck); // between messages: parked
    // The same text again is mostly a back-reference into the parked window.
    client.send({ type: 'text', data: a });
    const again = client.takeOutgoing();
    expect(again.reduce((n, b) => n + b.length, 0)).toBeLessThan(1000);
    for (const b of again) server.receive(b);
    expect(server.nextEvent()).toEqual({ type: 'text', data: a });
  });

  // What follows a BFINAL message is not tested: the codec appends 00 00 ff ff to
  // the reset inflater, which then reads it as the start of a stored block
  // (with pako too); reported to the codec's owner.
  it('reads a message the peer ended with a BFINAL block', () => {
    const r = deflatePair({}, { server: zlibBackend, client: pakoBackend }).server;
    // A final stored block holding "hi": BFINAL=1, BTYPE=00, LEN=2, NLEN, data.
    const final = Buffer.from([0x01, 0x02, 0x00, 0xfd, 0xff, 0x68, 0x69]);
    expect(inflateRawSync(final).toString()).toBe('hi');
    r.receive(maskedFrame(0xc1, final));
    expect(r.nextEvent()).toEqual({ type: 'text', data: 'hi' });
  });

  it('fails invalid compressed data with 1007', () => {
    const r = deflatePair({}, { server: zlibBackend, client: pakoBackend }).server;
    r.receive(maskedFrame(0xc1, Buffer.from([0xff, 0xff, 0xff, 0xff])));
    const ev = r.nextEvent();
    expect(ev).toMatchObject({ type: 'protocol-error', code: 1007 });
  });
});

/**
 * A codec server endpoint and client endpoint opened against each other in
 * memory, permessage-deflate agreed on `params` by their handshake (both
 * sides configured with them), each side with its own DEFLATE backend.
 */
function deflatePair(
  params: Partial<PerMessageDeflateParams>,
  backends: { server: CompressionBackend; client: CompressionBackend },
) {
  const side = (backend: CompressionBackend) => ({
    extensions: [permessageDeflate({ ...params, threshold: 0, backend })],
  });
  const server = new ServerEndpoint(side(backends.server));
  const client = new ClientEndpoint('ws://localhost/', side(backends.client));
  for (const b of client.takeOutgoing()) server.receive(b);
  expect(server.nextEvent()?.type).toBe('request');
  server.send({ type: 'accept' });
  expect(server.nextEvent()?.type).toBe('open');
  for (const b of server.takeOutgoing()) client.receive(b);
  expect(client.nextEvent()?.type).toBe('open');
  const agreed = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    ...params,
  };
  for (const endpoint of [server, client])
    expect((endpoint.extensions[0] as PerMessageDeflateAgreement | undefined)?.params).toEqual(agreed);
  return { server, client };
}

function maskedFrame(first: number, payload: Uint8Array): Buffer {
  const key = [9, 8, 7, 6];
  const body = Buffer.from(payload.map((b, i) => b ^ key[i & 3]!));
  return Buffer.concat([Buffer.from([first, 0x80 | body.length, ...key]), body]);
}

describe('the echo server', () => {
  const script = fileURLToPath(new URL('../bin/echo-server.mjs', import.meta.url));
  async function start(args: string[]): Promise<string> {
    const child = spawn(process.execPath, [script, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    for await (const chunk of child.stdout) {
      out += chunk;
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m) return m[1] as string;
    }
    throw new Error(`echo server did not start: ${out}`);
  }

  it('accepts permessage-deflate by default', async () => {
    const c = await open(await start([]), true);
    expect(c.accepted).toBe('permessage-deflate');
    await roundTrips(c, [doc(1, 5000)]);
    c.close();
  });

  it('declines it with --no-deflate', async () => {
    const c = await open(await start(['--no-deflate']), true);
    expect(c.accepted).toBe('');
    await roundTrips(c, [doc(1, 5000)]);
    c.close();
  });
});
