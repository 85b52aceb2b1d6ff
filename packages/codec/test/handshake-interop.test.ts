// Interoperability with a real HTTP stack and the `ws` package: our server
// handshake behind node:http's `upgrade` event, and our client handshake
// over a raw TCP socket to a `ws` WebSocketServer.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { toString } from 'uint8arrays/to-string';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  ClientHandshake,
  ServerHandshake,
  type ClientHandshakeEvent,
  type ClientHandshakeOptions,
} from '../src/handshake.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A node:http server whose upgrades go through ServerHandshake.fromParsedRequest. */
async function codecServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((_, res) => res.writeHead(404).end());
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const handshake = ServerHandshake.fromParsedRequest({
      method: req.method ?? '',
      target: req.url ?? '',
      httpVersion: req.httpVersion,
      headers: req.rawHeaders,
      trailing: head,
    });
    const event = handshake.nextEvent();
    if (event === undefined) throw new Error('a parsed request always yields an event');
    if (event.type === 'bad-request') {
      socket.end(event.response);
      return;
    }
    if (event.origin === 'https://untrusted.example') {
      socket.end(handshake.reject({ status: 403, body: 'origin not allowed' }).response);
      return;
    }
    const wantsDeflate = event.extensions.some((offer) => offer.name === 'permessage-deflate');
    const { response } = handshake.accept({
      protocol: event.protocols.includes('chat') ? 'chat' : null,
      extensions: wantsDeflate && event.path === '/deflate' ? [{ name: 'permessage-deflate', params: [] }] : undefined,
      headers: { 'Set-Cookie': ['a=1', 'b=2'] },
    });
    // An unmasked text frame "hi" right behind the 101, in the same write.
    socket.write(new Uint8Array([...response, 0x81, 0x02, 0x68, 0x69]));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => server.close());
  const { port } = server.address() as AddressInfo;
  return { server, url: `ws://127.0.0.1:${port}` };
}

describe('ServerHandshake behind node:http, ws as the client', () => {
  it('opens, negotiates the subprotocol, and delivers the first frame', async () => {
    const { url } = await codecServer();
    const ws = new WebSocket(`${url}/chat?x=1`, ['superchat', 'chat']);
    cleanups.push(() => ws.terminate());
    const upgradeHeaders = once(ws, 'upgrade');
    const message = once(ws, 'message');
    await once(ws, 'open');
    expect(ws.protocol).toBe('chat');
    expect(ws.extensions).toBe('');
    const [response] = (await upgradeHeaders) as [IncomingMessage];
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const [data, isBinary] = (await message) as [Buffer, boolean];
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe('hi');
  });

  it('opens without a subprotocol and with permessage-deflate accepted', async () => {
    const { url } = await codecServer();
    const ws = new WebSocket(`${url}/deflate`, { perMessageDeflate: true });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    expect(ws.protocol).toBe('');
    expect(ws.extensions).toBe('permessage-deflate');
  });

  it('rejects an untrusted Origin with 403, seen by ws as unexpected-response', async () => {
    const { url } = await codecServer();
    const ws = new WebSocket(url, { origin: 'https://untrusted.example' });
    cleanups.push(() => ws.terminate());
    ws.on('error', () => {});
    const [request, response] = (await once(ws, 'unexpected-response')) as [{ destroy(): void }, IncomingMessage];
    expect(response.statusCode).toBe(403);
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('origin not allowed');
    request.destroy();
  });
});

/** Runs our client handshake over TCP and returns its event and the bytes that followed. */
async function codecClient(
  port: number,
  path: string,
  options: ClientHandshakeOptions,
): Promise<{ event: ClientHandshakeEvent; after: Uint8Array; handshake: ClientHandshake }> {
  const handshake = new ClientHandshake(`ws://127.0.0.1:${port}${path}`, options);
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  socket.write(handshake.request);
  let after: number[] = [];
  return new Promise((resolve, reject) => {
    let event: ClientHandshakeEvent | undefined;
    const settle = () => {
      if (event !== undefined && event.type === 'open' && event.trailing.length + after.length < 7) return;
      if (event !== undefined) resolve({ event, after: new Uint8Array(after), handshake });
    };
    socket.on('data', (chunk: Buffer) => {
      if (event?.type === 'open') after = [...after, ...chunk];
      else {
        handshake.receive(chunk);
        event = handshake.nextEvent();
      }
      settle();
    });
    socket.on('end', () => {
      if (event === undefined) {
        handshake.receiveEof();
        event = handshake.nextEvent();
      }
      settle();
    });
    socket.on('error', reject);
  });
}

async function wsServer(options: ConstructorParameters<typeof WebSocketServer>[0]): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  await once(server, 'listening');
  cleanups.push(() => server.close());
  server.on('connection', (ws) => ws.send('hello'));
  return (server.address() as AddressInfo).port;
}

describe('ClientHandshake over TCP, a ws WebSocketServer as the server', () => {
  it('opens on ws’s 101, with the protocol ws chose and its first frame as trailing bytes', async () => {
    const port = await wsServer({ handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false) });
    const { event, after } = await codecClient(port, '/chat', { protocols: ['superchat', 'chat'], origin: 'http://localhost' });
    expect(event.type).toBe('open');
    if (event.type !== 'open') return;
    expect(event.protocol).toBe('chat');
    expect(event.extensions).toEqual([]);
    const frame = new Uint8Array([...event.trailing, ...after]);
    expect([...frame.subarray(0, 2)]).toEqual([0x81, 0x05]);
    expect(toString(frame.subarray(2, 7))).toBe('hello');
  });

  it('gets ws’s permessage-deflate response parsed for the extension layer', async () => {
    const port = await wsServer({ perMessageDeflate: { clientMaxWindowBits: 10 } });
    const { event } = await codecClient(port, '/', {
      extensions: [{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }],
    });
    expect(event.type).toBe('open');
    if (event.type !== 'open') return;
    expect(event.protocol).toBeNull();
    expect(event.extensions).toHaveLength(1);
    expect(event.extensions[0]?.name).toBe('permessage-deflate');
    expect(event.extensions[0]?.params).toContainEqual({ name: 'client_max_window_bits', value: '10' });
  });

  it('reports ws’s 401 rejection with its status and body', async () => {
    const port = await wsServer({ verifyClient: (_info: unknown, done: (ok: boolean, code?: number) => void) => done(false, 401) });
    const { event } = await codecClient(port, '/', {});
    expect(event).toMatchObject({ type: 'unexpected-response', status: 401, reason: 'Unauthorized', bodyComplete: true });
    if (event.type === 'unexpected-response') expect(toString(event.body)).toBe('Unauthorized');
  });

  it('reports ws’s 400 for an unsupported version, with its headers', async () => {
    const port = await wsServer({});
    const handshake = new ClientHandshake(`ws://127.0.0.1:${port}/`, { headers: { 'X-Probe': '1' } });
    // A doctored request: ws answers 400 and our client must surface it.
    const socket = connect(port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    const request = toString(handshake.request, 'latin1').replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 7');
    socket.write(request, 'latin1');
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    handshake.receive(Buffer.concat(chunks));
    handshake.receiveEof();
    const event = handshake.nextEvent();
    expect(event).toMatchObject({ type: 'unexpected-response', status: 400, bodyComplete: true });
    if (event?.type === 'unexpected-response') expect(event.headers.get('sec-websocket-version')).toMatch(/13/);
  });
});
