// The npm `ws` client against the server on 127.0.0.1.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { type UpgradeInfo, type WebSocket, WebSocketProtocolError, WebSocketServer } from '../src/index.js';
import { clientFrame, startServer, until } from './helpers.js';

const servers: Array<Pick<WebSocketServer, 'close'>> = [];
async function echoServer(options: ConstructorParameters<typeof WebSocketServer>[0] = {}) {
  const s = await startServer(options);
  servers.push(s.wss);
  s.wss.on('connection', (ws: WebSocket) => ws.on('message', (data) => ws.send(data)));
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 500 })));
});

function open(url: string, protocols?: string[], options?: WebSocketClient.ClientOptions) {
  const c = new WebSocketClient(url, protocols, options);
  return once(c, 'open').then(() => c);
}
function nextMessage(c: WebSocketClient) {
  return once(c, 'message') as Promise<[Buffer, boolean]>;
}

describe('with the ws client', () => {
  it('echoes text as text and binary as binary, in order', async () => {
    const { url } = await echoServer();
    const c = await open(url);
    const got: Array<[string, boolean]> = [];
    c.on('message', (d: Buffer, isBinary) => got.push([isBinary ? d.toString('hex') : d.toString(), isBinary]));
    c.send('héllo ✓');
    c.send(Buffer.from([0, 1, 2, 255]));
    c.send('');
    c.send(Buffer.alloc(0));
    await until(() => got.length === 4);
    expect(got).toEqual([
      ['héllo ✓', false],
      ['000102ff', true],
      ['', false],
      ['', true],
    ]);
    c.close();
    await once(c, 'close');
  });

  it('round-trips large messages sent in many fragments, and streams a large message out', async () => {
    const { wss, url } = await echoServer({ maxMessageSize: 32 * 1024 * 1024 });
    const c = await open(url, undefined, { maxPayload: 64 * 1024 * 1024 });
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    // 80 fragments of 64 KiB
    for (let at = 0; at < big.length; at += 65536) {
      c.send(big.subarray(at, at + 65536), { fin: at + 65536 >= big.length, binary: true });
    }
    const [echo, isBinary] = await nextMessage(c);
    expect(isBinary).toBe(true);
    expect(Buffer.compare(echo, big)).toBe(0);

    const text = 'ε'.repeat(1_500_000); // 3 MB of UTF-8
    c.send(text);
    const [echoText, textIsBinary] = await nextMessage(c);
    expect(textIsBinary).toBe(false);
    expect(echoText.toString()).toBe(text);

    // Server → client streaming: 64 chunks of 64 KiB from an async generator.
    const server = [...wss.clients][0]!;
    async function* chunks() {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(65536, i);
    }
    const streamed = nextMessage(c);
    await server.sendStream(chunks());
    const [data, bin] = await streamed;
    expect(bin).toBe(true);
    expect(data.length).toBe(64 * 65536);
    expect(data[65536 * 63]).toBe(63);
    c.close();
  });

  it('streams text from a ReadableStream and queues other sends behind it', async () => {
    const { wss, url } = await echoServer();
    const c = await open(url);
    const got: string[] = [];
    c.on('message', (d: Buffer) => got.push(d.toString()));
    await until(() => wss.clients.size === 1);
    const server = [...wss.clients][0]!;
    const stream = new ReadableStream<string>({
      start(controller) {
        for (const part of ['stre', 'amed ', '✓']) controller.enqueue(part);
        controller.close();
      },
    });
    const done = server.sendStream(stream, { binary: false });
    server.send('after');
    await done;
    await until(() => got.length === 2);
    expect(got).toEqual(['streamed ✓', 'after']);
    c.close();
  });

  it('delivers parts with messageMode "parts"', async () => {
    const { wss, url } = await startServer({ messageMode: 'parts' });
    servers.push(wss);
    const parts: Array<[string, boolean, boolean]> = [];
    wss.on('connection', (ws) =>
      ws.on('message-part', (d, isBinary, last) =>
        parts.push([isBinary ? (d as Buffer).toString('hex') : (d as string), isBinary, last]),
      ),
    );
    const c = await open(url);
    c.send('ab', { fin: false });
    c.send('cd', { fin: true });
    c.send(Buffer.from([1, 2]), { fin: false, binary: true });
    c.send(Buffer.from([3]), { fin: true, binary: true });
    await until(() => parts.some((p) => p[1] && p[2]));
    expect(
      parts
        .filter((p) => !p[1])
        .map((p) => p[0])
        .join(''),
    ).toBe('abcd');
    expect(
      parts
        .filter((p) => p[1])
        .map((p) => p[0])
        .join(''),
    ).toBe('010203');
    expect(parts.filter((p) => p[2]).length).toBe(2);
    c.close();
  });

  it('reports close codes and reasons both ways', async () => {
    const { wss, url } = await echoServer();
    const serverSide = new Promise<[number, string]>((resolve) =>
      wss.once('connection', (ws: WebSocket) => ws.on('close', (code, reason) => resolve([code, reason]))),
    );
    const c = await open(url);
    c.close(4001, 'client says bye ✓');
    const [code, reason] = await serverSide;
    expect([code, reason]).toEqual([4001, 'client says bye ✓']);
    const [clientCode] = (await once(c, 'close')) as [number, Buffer];
    expect(clientCode).toBe(4001);

    // Server-initiated
    const c2 = await open(url);
    await until(() => wss.clients.size === 1);
    const server = [...wss.clients][0]!;
    const serverClosed = once(server, 'close');
    server.close(3001, 'server says bye');
    const [code2, reason2] = (await once(c2, 'close')) as [number, Buffer];
    expect([code2, reason2.toString()]).toEqual([3001, 'server says bye']);
    expect((await serverClosed)[0]).toBe(3001);
    expect(server.readyState).toBe(3);
    expect(() => server.send('late')).not.toThrow();
    expect(server.send('late')).toBe(false);
  });

  it('chooses a subprotocol, adds headers, attaches data and sees cookies and the URL', async () => {
    let seen: UpgradeInfo | undefined;
    const { wss, url } = await startServer<{ user: string }>({
      handleUpgrade: async (info) => {
        seen = info;
        await new Promise((r) => setTimeout(r, 5));
        return {
          accept: true,
          protocol: info.protocols.includes('v2') ? 'v2' : null,
          headers: { 'X-Hello': 'yes' },
          data: { user: info.cookies.session ?? '' },
        };
      },
    });
    servers.push(wss);
    const connected = once(wss, 'connection') as Promise<[WebSocket<{ user: string }>]>;
    const c = new WebSocketClient(`${url}/room/7?x=1`, ['v1', 'v2'], {
      headers: { Cookie: 'session=abc%20d; other=1' },
      origin: 'https://example.test',
    });
    const upgraded = once(c, 'upgrade') as Promise<[import('node:http').IncomingMessage]>;
    const opened = once(c, 'open');
    const [res] = await upgraded;
    await opened;
    const [ws] = await connected;
    expect(c.protocol).toBe('v2');
    expect(ws.protocol).toBe('v2');
    expect(res.headers['x-hello']).toBe('yes');
    expect(ws.data).toEqual({ user: 'abc d' });
    expect(seen?.path).toBe('/room/7');
    expect(seen?.url.searchParams.get('x')).toBe('1');
    expect(seen?.url.protocol).toBe('ws:');
    expect(seen?.origin).toBe('https://example.test');
    expect(seen?.protocols).toEqual(['v1', 'v2']);
    expect(seen?.headers['sec-websocket-version']).toBe('13');
    c.close();
  });

  it('rejects with 403 and a body the client sees; enforces allowedOrigins; turns a throwing hook into 500', async () => {
    const { wss, url } = await startServer({
      allowedOrigins: ['https://good.test'],
      handleUpgrade: (info) => {
        if (info.path === '/throw') throw new Error('boom');
        if (info.headers.authorization !== 'Bearer ok')
          return { accept: false, status: 403, body: 'no token', headers: { 'X-Why': 'token' } };
        return true;
      },
    });
    servers.push(wss);
    const errors: unknown[] = [];
    wss.on('error', (e) => errors.push(e));
    async function attempt(path: string, headers: Record<string, string>, origin?: string) {
      const c = new WebSocketClient(url + path, { headers, ...(origin && { origin }) });
      c.on('error', () => {});
      const [, res] = (await once(c, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
      let body = '';
      for await (const chunk of res) body += chunk;
      return { status: res.statusCode, body, why: res.headers['x-why'] };
    }
    expect(await attempt('/', {})).toEqual({ status: 403, body: 'no token', why: 'token' });
    expect((await attempt('/', { authorization: 'Bearer ok' }, 'https://evil.test')).status).toBe(403);
    expect((await attempt('/throw', { authorization: 'Bearer ok' })).status).toBe(500);
    expect(errors).toHaveLength(1);
    const ok = await open(url, undefined, { headers: { authorization: 'Bearer ok' }, origin: 'https://good.test' });
    ok.close();
  });

  it('attaches to an existing http server and leaves plain requests to it', async () => {
    const http = createServer((_req, res) => res.end('plain'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as import('node:net').AddressInfo).port;
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe('plain');
    const c = await open(`ws://127.0.0.1:${port}/ws`);
    c.send('over http');
    const [d] = await nextMessage(c);
    expect(d.toString()).toBe('over http');
    await wss.close();
    expect(http.listenerCount('upgrade')).toBe(0);
    await new Promise((r) => http.close(r));
  });

  it('answers pings, emits pongs, and closes with 1007 on invalid UTF-8', async () => {
    const { wss, url } = await echoServer();
    const c = await open(url);
    const pong = once(c, 'pong');
    c.ping(Buffer.from('p1'));
    expect(((await pong) as [Buffer])[0].toString()).toBe('p1');
    await until(() => wss.clients.size === 1);
    const server = [...wss.clients][0]!;
    const serverPong = once(server, 'pong');
    server.ping('hb');
    expect(((await serverPong) as [Buffer])[0].toString()).toBe('hb');

    // Invalid UTF-8 in a text message → 1007 from the server.
    const errors: Error[] = [];
    server.on('error', (e) => errors.push(e));
    (c as unknown as { _socket: { write(bytes: Uint8Array): void } })._socket.write(
      clientFrame(0x81, new Uint8Array([0xff, 0xfe])),
    );
    const [code] = (await once(c, 'close')) as [number];
    expect(code).toBe(1007);
    expect(errors[0]).toBeInstanceOf(WebSocketProtocolError);
    expect((errors[0] as WebSocketProtocolError).closeCode).toBe(1007);
  });

  it('broadcasts one encoded message to every connection', async () => {
    const { wss, url } = await echoServer();
    const clients = await Promise.all(Array.from({ length: 20 }, () => open(url)));
    await until(() => wss.clients.size === 20);
    const got = clients.map((c) => nextMessage(c));
    const big = Buffer.alloc(10_000, 7);
    expect(wss.broadcast('to all ✓')).toBe(20);
    const first = await Promise.all(got);
    expect(first.every(([d, b]) => d.toString() === 'to all ✓' && !b)).toBe(true);
    const got2 = clients.map((c) => nextMessage(c));
    expect(wss.broadcast(big, (ws) => ws !== [...wss.clients][0])).toBe(19);
    // A connection delivers in order: the filtered-out client's next message is this marker, not the big one.
    expect(wss.broadcast('after')).toBe(20);
    const second = (await Promise.all(got2)).map(([d, b]) => (b && d.equals(big) ? 'big' : d.toString()));
    expect(second.filter((d) => d === 'big')).toHaveLength(19);
    expect(second.filter((d) => d === 'after')).toHaveLength(1);
    for (const c of clients) c.terminate();
  });

  it('shuts down gracefully with 1001 and destroys connections that do not answer', async () => {
    const { wss, url } = await echoServer();
    const c1 = await open(url);
    const codes: number[] = [];
    c1.on('close', (code) => codes.push(code));
    await until(() => wss.clients.size === 1);
    const serverSide = once([...wss.clients][0]!, 'close') as Promise<[number, string]>;
    await wss.close({ timeout: 2000 });
    // 1001 on the server's side means the client's close frame came back; one destroyed at the timeout reports 1006.
    expect((await serverSide)[0]).toBe(1001);
    await until(() => codes.length === 1);
    expect(codes).toEqual([1001]);
    expect(wss.clients.size).toBe(0);
    // The listener is closed.
    const refused = new WebSocketClient(url);
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });
});
