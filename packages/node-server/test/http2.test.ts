// WebSocket over HTTP/2 (RFC 8441): node:http2 servers with the extended
// CONNECT setting, and node:http2 clients carrying frames written and read by
// the codec's frame layer (test/h2-peer.ts).
import { once } from 'node:events';
import {
  constants as h2,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { type AddressInfo, connect as connectTcp } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { type ServerOptions, type WebSocket, WebSocketServer } from '../src/index.js';
import { closeOf, connectH2, DEFLATE_OFFER, Opcode, openStream } from './h2-peer.js';
import { until } from './helpers.js';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';

interface Started {
  server: Http2Server | Http2SecureServer;
  wss: WebSocketServer;
  authority: string;
  sessions: ServerHttp2Session[];
  connections: WebSocket[];
  closes: Array<[number, string]>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const tls = selfSignedCertificate();

/** An h2c (or, with `secure`, h2 over TLS with HTTP/1.1 allowed) server with a WebSocketServer attached; echoes by default. */
async function start(
  options: Omit<ServerOptions, 'server'> & { secure?: boolean; enableConnectProtocol?: boolean; echo?: boolean } = {},
): Promise<Started> {
  const { secure, enableConnectProtocol, echo, ...wsOptions } = options;
  const settings = { enableConnectProtocol: enableConnectProtocol ?? true };
  const server = secure ? createSecureServer({ ...tls, allowHTTP1: true, settings }) : createServer({ settings });
  const sessions: ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  const wss = new WebSocketServer({ server, heartbeatInterval: 0, ...wsOptions });
  const connections: WebSocket[] = [];
  const closes: Array<[number, string]> = [];
  wss.on('connection', (ws) => {
    connections.push(ws);
    if (echo !== false) ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code, reason) => closes.push([code, reason]));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    await wss.close({ timeout: 200 });
    for (const s of sessions) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return {
    server,
    wss,
    authority: `${secure ? 'https' : 'http'}://127.0.0.1:${port}`,
    sessions,
    connections,
    closes,
  };
}

async function client(authority: string) {
  const session = await connectH2(authority);
  cleanups.push(async () => {
    session.destroy();
  });
  return session;
}

describe('WebSocket over HTTP/2', () => {
  it('echoes text and binary on an extended CONNECT stream, reported as an http2 transport', async () => {
    const s = await start();
    const session = await client(s.authority);
    const peer = await openStream(session, { path: '/chat?room=1' });
    expect(peer.status).toBe(200);
    expect(peer.responseHeaders['sec-websocket-accept']).toBeUndefined();
    peer.text('héllo');
    expect(await peer.next()).toMatchObject({ opcode: Opcode.Text, data: Buffer.from('héllo') });
    const bytes = Buffer.from([0, 1, 2, 255]);
    peer.binary(bytes);
    expect(await peer.next()).toMatchObject({ opcode: Opcode.Binary, data: bytes });
    const ws = s.connections[0]!;
    expect(ws.transport).toMatchObject({ type: 'http2', streamId: peer.stream.id });
    expect(ws.transport.type === 'http2' && ws.transport.session).toBe(s.sessions[0]);
  });

  it('hands the upgrade hook the path, query, authority and http2 transport', async () => {
    const seen: Array<Record<string, string | undefined>> = [];
    const s = await start({
      handleUpgrade: (info) => {
        seen.push({
          url: info.url.href,
          path: info.path,
          query: info.query,
          transport: info.transport.type,
          host: info.headers.host,
          cookie: info.cookies.session,
        });
        return true;
      },
    });
    const session = await client(s.authority);
    await openStream(session, { path: '/chat?room=1', headers: { cookie: 'session=abc' } });
    const authority = s.authority.slice('http://'.length);
    expect(seen).toEqual([
      {
        url: `ws://${authority}/chat?room=1`,
        path: '/chat',
        query: 'room=1',
        transport: 'http2',
        host: authority,
        cookie: 'abc',
      },
    ]);
  });

  it('reassembles fragments from the client and fragments what it sends', async () => {
    const s = await start({ fragmentSize: 100 });
    const session = await client(s.authority);
    const peer = await openStream(session);
    peer.frame(Opcode.Text, 'one ', { fin: false });
    peer.frame(Opcode.Ping, 'mid');
    peer.frame(Opcode.Continuation, 'two ', { fin: false });
    peer.frame(Opcode.Continuation, 'three', { fin: true });
    expect(await peer.next()).toMatchObject({ opcode: Opcode.Pong, data: Buffer.from('mid') });
    expect(await peer.next()).toMatchObject({ opcode: Opcode.Text, data: Buffer.from('one two three') });
    const big = 'x'.repeat(1000);
    s.connections[0]!.send(big);
    const message = await peer.next();
    expect(message).toMatchObject({ opcode: Opcode.Text, frames: 10 });
    expect(message.data.toString()).toBe(big);
  });

  it('answers pings and reports pongs', async () => {
    const s = await start();
    const session = await client(s.authority);
    const peer = await openStream(session);
    peer.frame(Opcode.Ping, 'are you there');
    expect(await peer.next()).toMatchObject({ opcode: Opcode.Pong, data: Buffer.from('are you there') });
    const ws = s.connections[0]!;
    const pong = once(ws, 'pong');
    ws.ping('server ping');
    const ping = await peer.next();
    expect(ping).toMatchObject({ opcode: Opcode.Ping, data: Buffer.from('server ping') });
    peer.frame(Opcode.Pong, ping.data);
    expect(String((await pong)[0])).toBe('server ping');
  });

  it('closes cleanly when the client closes: close frame echoed, then END_STREAM both ways', async () => {
    const s = await start();
    const session = await client(s.authority);
    const peer = await openStream(session);
    peer.close(4000, 'client bye');
    expect(closeOf(await peer.next())).toEqual({ code: 4000, reason: 'client bye' });
    await peer.end(); // the server's END_STREAM follows its close frame
    peer.stream.end();
    await peer.closed;
    expect(peer.rstCode).toBe(h2.NGHTTP2_NO_ERROR);
    await until(() => s.closes.length === 1);
    expect(s.closes).toEqual([[4000, 'client bye']]);
    expect(s.wss.clients.size).toBe(0);
  });

  it('closes cleanly when the server closes', async () => {
    const s = await start();
    const session = await client(s.authority);
    const peer = await openStream(session);
    s.connections[0]!.close(4001, 'server reason ✓');
    expect(closeOf(await peer.next())).toEqual({ code: 4001, reason: 'server reason ✓' });
    peer.close(4001, 'server reason ✓');
    peer.stream.end();
    await peer.closed;
    expect(peer.ended).toBe(true);
    expect(peer.rstCode).toBe(h2.NGHTTP2_NO_ERROR);
    await until(() => s.closes.length === 1);
    expect(s.closes).toEqual([[4001, 'server reason ✓']]);
  });

  it('negotiates permessage-deflate: compressed both ways, inflated by node:zlib', async () => {
    const s = await start({ perMessageDeflate: { threshold: 16 } });
    const session = await client(s.authority);
    const peer = await openStream(session, { headers: { 'sec-websocket-extensions': DEFLATE_OFFER } });
    expect(peer.responseHeaders['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
    const text = 'compress me '.repeat(200);
    peer.text(text, true);
    const echoed = await peer.next();
    expect(echoed.rsv).toBe(0x40);
    expect(echoed.data.toString()).toBe(text);
    const wire = s.connections[0]!;
    expect(wire.extensions).toMatch(/^permessage-deflate/);
  });

  it('selects the subprotocol the hook chose', async () => {
    const s = await start({ handleUpgrade: (info) => ({ accept: true, protocol: info.protocols[1] }) });
    const session = await client(s.authority);
    const peer = await openStream(session, { headers: { 'sec-websocket-protocol': 'chat.v1, chat.v2' } });
    expect(peer.status).toBe(200);
    expect(peer.responseHeaders['sec-websocket-protocol']).toBe('chat.v2');
    expect(s.connections[0]!.protocol).toBe('chat.v2');
  });

  it('answers an upgrade hook rejection with its status, fields and body, and no WebSocket', async () => {
    const s = await start({
      handleUpgrade: () => ({ accept: false, status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'no' }),
    });
    const session = await client(s.authority);
    const peer = await openStream(session);
    expect(peer.status).toBe(401);
    expect(peer.responseHeaders['www-authenticate']).toBe('Bearer');
    await peer.closed;
    expect(peer.body.toString()).toBe('no');
    expect(s.connections).toEqual([]);
  });

  it('refuses an Origin outside allowedOrigins with 403', async () => {
    const s = await start({ allowedOrigins: ['https://good.example'] });
    const session = await client(s.authority);
    const bad = await openStream(session, { headers: { origin: 'https://evil.example' } });
    expect(bad.status).toBe(403);
    const good = await openStream(session, { headers: { origin: 'https://good.example' } });
    expect(good.status).toBe(200);
    expect(s.connections).toHaveLength(1);
  });

  it('applies maxBufferedAmount to a stream whose client stops reading, while others on the session keep working', async () => {
    const s = await start({ maxBufferedAmount: 512 * 1024, closeTimeout: 300 });
    const session = await client(s.authority);
    const stalled = await openStream(session);
    const other = await openStream(session);
    stalled.stream.pause(); // no reads: no WINDOW_UPDATE for this stream
    const ws = s.connections.find((c) => c.transport.type === 'http2' && c.transport.streamId === stalled.stream.id)!;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let refused = false;
    let peak = 0;
    // Each send is admitted until what waits passes the cap; h2 flow control holds the rest back.
    for (let i = 0; i < 64 && !refused; i++) {
      refused = !ws.send(chunk) && ws.readyState !== 1;
      peak = Math.max(peak, ws.bufferedAmount);
      await new Promise((r) => setImmediate(r));
    }
    expect(refused).toBe(true);
    expect(peak).toBeGreaterThan(256 * 1024); // far beyond a stream's 64 KiB window
    // The other stream on the same connection still echoes.
    other.text('still here');
    expect(await other.next()).toMatchObject({ opcode: Opcode.Text, data: Buffer.from('still here') });
    // 'close' policy: a 1008 close frame that cannot be delivered, then the stream is reset after closeTimeout.
    await stalled.closed;
    expect(stalled.rstCode).toBe(h2.NGHTTP2_CANCEL);
    await until(() => s.closes.length === 1);
    expect(s.closes[0]).toEqual([1006, '']);
    other.text('after the reset');
    expect(await other.next()).toMatchObject({ data: Buffer.from('after the reset') });
  });

  it('stops reading a stream whose client does not read the replies, so h2 flow control stalls that client', async () => {
    const s = await start({ readPauseThreshold: 64 * 1024 });
    const session = await client(s.authority);
    const peer = await openStream(session);
    const other = await openStream(session);
    peer.stream.pause();
    const ws = s.connections.find((c) => c.transport.type === 'http2' && c.transport.streamId === peer.stream.id)!;
    let received = 0;
    let peak = 0;
    ws.on('ping', () => {
      received++;
      peak = Math.max(peak, ws.bufferedAmount);
    });
    const ping = Buffer.alloc(125, 1);
    const pings = 16_000; // ~2 MiB of pings, ~2 MiB of pongs
    for (let i = 0; i < pings; i++) peer.frame(Opcode.Ping, ping);
    // The server stops reading the stream once its replies pile up (so it sends no WINDOW_UPDATE)...
    const serverStream = (ws as unknown as { socket: import('node:stream').Duplex }).socket;
    await until(() => serverStream.isPaused(), 10_000, 'the server to stop reading');
    // ...having read only part of the pings, with its buffer bounded near the threshold, not 2 MiB.
    expect(received).toBeLessThan(pings);
    expect(peak).toBeLessThan(512 * 1024);
    expect(peer.stream.writableLength).toBeGreaterThan(0); // the client's pings wait for window
    other.text('unaffected');
    expect(await other.next()).toMatchObject({ data: Buffer.from('unaffected') });
    // Once the client reads, everything flows: one pong per ping.
    peer.stream.resume();
    let pongs = 0;
    while (pongs < pings) {
      const message = await peer.next();
      expect(message.opcode).toBe(Opcode.Pong);
      pongs++;
    }
    expect(ws.readyState).toBe(1);
  });

  it('carries 50 WebSockets on one HTTP/2 connection, each on its own stream', async () => {
    const s = await start();
    const session = await client(s.authority);
    const peers = await Promise.all(Array.from({ length: 50 }, (_, i) => openStream(session, { path: `/n/${i}` })));
    for (const [i, peer] of peers.entries()) peer.text(`message ${i}`);
    const replies = await Promise.all(peers.map(async (p) => (await p.next()).data.toString()));
    expect(replies).toEqual(peers.map((_, i) => `message ${i}`));
    expect(s.sessions).toHaveLength(1);
    expect(s.wss.clients.size).toBe(50);
    const ids = new Set<number>();
    for (const ws of s.wss.clients) {
      expect(ws.transport.type === 'http2' && ws.transport.session).toBe(s.sessions[0]);
      if (ws.transport.type === 'http2') ids.add(ws.transport.streamId);
    }
    expect(ids).toEqual(new Set(peers.map((p) => p.stream.id)));
  });

  it('broadcasts to HTTP/1.1 and HTTP/2 clients of one TLS server alike', async () => {
    const s = await start({ secure: true, echo: false });
    const session = await client(s.authority);
    const h2peer = await openStream(session);
    const h1 = new WebSocketClient(`${s.authority.replace('https', 'wss')}/`, { rejectUnauthorized: false });
    cleanups.push(async () => {
      h1.terminate();
    });
    await once(h1, 'open');
    await until(() => s.wss.clients.size === 2);
    expect(s.connections.map((c) => c.transport.type).sort()).toEqual(['http1', 'http2']);
    const h1message = once(h1, 'message');
    expect(s.wss.broadcast('to everyone')).toBe(2);
    expect(String((await h1message)[0])).toBe('to everyone');
    expect(await h2peer.next()).toMatchObject({ opcode: Opcode.Text, data: Buffer.from('to everyone') });
  });
});

describe('handleStream (routed by the application)', () => {
  it('takes the streams the application routes to it, over TLS as wss:', async () => {
    const server = createSecureServer({ ...tls, settings: { enableConnectProtocol: true } });
    const wss = new WebSocketServer({ heartbeatInterval: 0 });
    const urls: string[] = [];
    wss.on('connection', (ws, info) => {
      urls.push(info.url.href);
      ws.on('message', (data) => ws.send(data));
    });
    // Node passes the raw header list as a fourth argument (@types/node declares three).
    server.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
        if (headers[':path'] === '/ws') wss.handleStream(stream, headers, rawHeaders);
        else stream.respond({ ':status': 404 }, { endStream: true });
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const sessions: ServerHttp2Session[] = [];
    server.on('session', (x) => sessions.push(x));
    cleanups.push(async () => {
      await wss.close({ timeout: 200 });
      for (const x of sessions) x.destroy();
      await new Promise((r) => server.close(r));
    });
    const port = (server.address() as AddressInfo).port;
    const session = await client(`https://127.0.0.1:${port}`);
    const elsewhere = await openStream(session, { path: '/other' });
    expect(elsewhere.status).toBe(404);
    const peer = await openStream(session, { path: '/ws' });
    expect(peer.status).toBe(200);
    peer.text('routed');
    expect(await peer.next()).toMatchObject({ data: Buffer.from('routed') });
    expect(urls).toEqual([`wss://127.0.0.1:${port}/ws`]);
  });
});

describe('bad extended CONNECTs', () => {
  it('refuses a :protocol other than websocket with 400', async () => {
    const s = await start();
    const session = await client(s.authority);
    const peer = await openStream(session, { headers: { ':protocol': 'chat' } });
    expect(peer.status).toBe(400);
    await peer.closed;
    expect(s.connections).toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['8', '8'],
  ])('refuses a %s sec-websocket-version with 400 naming version 13', async (_name, version) => {
    const s = await start();
    const session = await client(s.authority);
    const peer = await openStream(session, { headers: { 'sec-websocket-version': version } });
    expect(peer.status).toBe(400);
    expect(peer.responseHeaders['sec-websocket-version']).toBe('13');
    await peer.closed;
    expect(s.connections).toEqual([]);
  });

  it('resets an extended CONNECT on a connection without the setting with PROTOCOL_ERROR', async () => {
    const s = await start({ enableConnectProtocol: false });
    let streams = 0;
    s.server.on('stream', () => streams++);
    const session = await client(s.authority);
    expect(session.remoteSettings.enableConnectProtocol).toBe(false);
    const peer = await openStream(session);
    await peer.closed;
    expect(peer.status).toBeNull();
    expect(peer.rstCode).toBe(h2.NGHTTP2_PROTOCOL_ERROR);
    expect(streams).toBe(0);
    expect(s.connections).toEqual([]);
  });

  it('still serves plain requests on the same server, and leaves plain CONNECT to the application', async () => {
    const s = await start();
    s.server.on('request', (req, res) => res.end(`hello ${req.url}`));
    const session = await client(s.authority);
    const get = session.request({ ':path': '/page' });
    get.setEncoding('utf8');
    let body = '';
    get.on('data', (d) => (body += d));
    await once(get, 'end');
    expect(body).toBe('hello /page');
    const tunnel = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' }, { endStream: false });
    const [headers] = await once(tunnel, 'response');
    expect(headers[':status']).toBe(405);
    // Node's compatibility layer (there is a `request` listener) must not answer the WebSocket's CONNECT too.
    const peer = await openStream(session);
    expect(peer.status).toBe(200);
    peer.text('still a WebSocket');
    expect(await peer.next()).toMatchObject({ opcode: Opcode.Text, data: Buffer.from('still a WebSocket') });
    expect(peer.ended).toBe(false);
  });
});

/**
 * An extended CONNECT written as raw HTTP/2 frames (RFC 9113 §3.4, §6.2;
 * HPACK literals without indexing, RFC 7541 §6.2.2), so no client library
 * decides anything. The request goes out once the server's SETTINGS arrived
 * and were acknowledged (RFC 8441 §3: the client waits for the setting; the
 * server's own settings apply once acknowledged). Resolves with the
 * RST_STREAM error code the server sent for stream 1, or null when it
 * answered with HEADERS instead.
 */
async function rawExtendedConnect(port: number, early = false): Promise<number | null> {
  const literal = (name: string, value: string) =>
    Buffer.concat([
      Buffer.from([0x00, name.length]),
      Buffer.from(name),
      Buffer.from([value.length]),
      Buffer.from(value),
    ]);
  const block = Buffer.concat(
    [
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', `127.0.0.1:${port}`],
      ['sec-websocket-version', '13'],
    ].map(([n, v]) => literal(n as string, v as string)),
  );
  const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(stream, 5);
    return Buffer.concat([head, payload]);
  };
  const socket = connectTcp(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(0x4, 0, 0, Buffer.alloc(0))]));
  // `early`: the request goes out at once, before the client could know the setting.
  if (early) socket.write(frame(0x1, 0x4, 1, block));
  let buf = Buffer.alloc(0);
  try {
    for await (const chunk of socket) {
      buf = Buffer.concat([buf, chunk as Buffer]);
      while (buf.length >= 9) {
        const length = buf.readUIntBE(0, 3);
        if (buf.length < 9 + length) break;
        const type = buf[3];
        const stream = buf.readUInt32BE(5) & 0x7fffffff;
        const flags = buf[4] as number;
        const payload = buf.subarray(9, 9 + length);
        buf = buf.subarray(9 + length);
        if (stream === 0 && type === 0x4 && (flags & 0x1) === 0) {
          // SETTINGS ACK, then HEADERS (END_HEADERS) on stream 1.
          socket.write(frame(0x4, 0x1, 0, Buffer.alloc(0)));
          if (!early) socket.write(frame(0x1, 0x4, 1, block));
        }
        if (stream === 1 && type === 0x3) return payload.readUInt32BE(0);
        if (stream === 1 && type === 0x1) return null;
      }
    }
    throw new Error('the connection ended without an answer for stream 1');
  } finally {
    socket.destroy();
  }
}

describe('extended CONNECT without the setting, as raw frames', () => {
  it('is reset by the server with PROTOCOL_ERROR, and accepted once the setting is on', async () => {
    const off = await start({ enableConnectProtocol: false });
    expect(await rawExtendedConnect(Number(new URL(off.authority).port))).toBe(h2.NGHTTP2_PROTOCOL_ERROR);
    expect(off.connections).toEqual([]);
    const on = await start();
    expect(await rawExtendedConnect(Number(new URL(on.authority).port))).toBeNull();
    await until(() => on.connections.length === 1);
  });

  it('resets with PROTOCOL_ERROR a request sent before the client could know the setting, without throwing', async () => {
    const s = await start();
    const port = Number(new URL(s.authority).port);
    expect(await rawExtendedConnect(port, true)).toBe(h2.NGHTTP2_PROTOCOL_ERROR);
    expect(s.connections).toEqual([]);
    expect(await rawExtendedConnect(port)).toBeNull();
  });
});

describe('HTTP/2 timers and failures', () => {
  it('resets a stream whose hook does not decide within handshakeTimeout', async () => {
    const s = await start({ handshakeTimeout: 100, handleUpgrade: () => new Promise(() => {}) });
    const session = await client(s.authority);
    const peer = await openStream(session);
    expect(peer.status).toBeNull();
    expect(peer.rstCode).toBe(h2.NGHTTP2_CANCEL);
    expect(s.connections).toEqual([]);
    const after = await start();
    const next = await openStream(await client(after.authority));
    expect(next.status).toBe(200);
  });

  it('terminates a stream that does not answer the heartbeat, with CANCEL', async () => {
    const s = await start({ heartbeatInterval: 50 });
    const session = await client(s.authority);
    const peer = await openStream(session);
    expect(await peer.next()).toMatchObject({ opcode: Opcode.Ping });
    await peer.closed; // no pong: the next beat resets the stream
    expect(peer.rstCode).toBe(h2.NGHTTP2_CANCEL);
    await until(() => s.closes.length === 1);
    expect(s.closes).toEqual([[1006, '']]);
  });

  it('answers a protocol error after the 200 with a close frame, then END_STREAM', async () => {
    const s = await start();
    const session = await client(s.authority);
    const peer = await openStream(session);
    peer.stream.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // an unmasked text frame from a client (RFC 6455 §5.1)
    expect(closeOf(await peer.next()).code).toBe(1002);
    await peer.end();
    expect(peer.ended).toBe(true);
    expect(peer.rstCode).toBeUndefined(); // ended, not reset
    peer.stream.end();
    await peer.closed;
    expect(peer.rstCode).toBe(h2.NGHTTP2_NO_ERROR);
    await until(() => s.closes.length === 1);
  });
});

describe('HTTP/2 stream ends', () => {
  it('reports 1006 when the client resets its stream, and keeps nothing', async () => {
    const s = await start();
    const session = await client(s.authority);
    const peer = await openStream(session);
    peer.text('first');
    await peer.next();
    peer.stream.close(h2.NGHTTP2_CANCEL);
    await until(() => s.closes.length === 1);
    expect(s.closes).toEqual([[1006, '']]);
    expect(s.wss.clients.size).toBe(0);
    expect(s.connections[0]!.readyState).toBe(3);
    // The session itself lives on for other streams.
    const next = await openStream(session);
    next.text('again');
    expect(await next.next()).toMatchObject({ data: Buffer.from('again') });
  });

  it('ends every WebSocket of a connection that goes away with 1006', async () => {
    const s = await start();
    const session = await client(s.authority);
    await Promise.all([openStream(session), openStream(session), openStream(session)]);
    await until(() => s.wss.clients.size === 3);
    session.destroy();
    await until(() => s.closes.length === 3);
    expect(s.closes).toEqual([
      [1006, ''],
      [1006, ''],
      [1006, ''],
    ]);
    expect(s.wss.clients.size).toBe(0);
  });

  it('shuts down with 1001 on every stream, leaving the HTTP/2 connection to the application', async () => {
    const s = await start();
    s.server.on('request', (_req, res) => res.end('ok'));
    const session = await client(s.authority);
    const peers = await Promise.all([openStream(session), openStream(session)]);
    const closed = s.wss.close({ timeout: 1000 });
    for (const peer of peers) {
      expect(closeOf(await peer.next())).toEqual({ code: 1001, reason: 'server shutting down' });
      peer.close(1001);
      peer.stream.end();
    }
    await closed;
    // `close` reports the peer's close frame.
    expect(s.closes).toEqual([
      [1001, ''],
      [1001, ''],
    ]);
    for (const peer of peers) {
      await peer.closed;
      expect(peer.rstCode).toBe(h2.NGHTTP2_NO_ERROR);
    }
    // Ordinary requests still work on the same connection.
    const get = session.request({ ':path': '/' });
    const [headers] = await once(get, 'response');
    expect(headers[':status']).toBe(200);
    get.resume();
  });

  it('treats the client’s END_STREAM without a close frame as TCP’s FIN: 1006, and ends its side', async () => {
    const s = await start();
    const session = await client(s.authority);
    const peer = await openStream(session);
    peer.stream.end();
    await until(() => s.closes.length === 1);
    expect(s.closes).toEqual([[1006, '']]);
    await peer.closed;
    expect(peer.ended).toBe(true);
    expect(s.wss.clients.size).toBe(0);
  });
});
