// Interoperability with a real HTTP stack and the `ws` package: our server
// endpoint behind node:http's `upgrade` event, and our client endpoint over
// a raw TCP socket to a `ws` WebSocketServer.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { concat } from 'uint8arrays/concat';
import { toString as bytesToString } from 'uint8arrays/to-string';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  ClientEndpoint,
  type ClientEndpointOptions,
  type EndpointEvent,
  permessageDeflate,
  ServerEndpoint,
} from '../src/index.js';
import { deflateParams } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A node:http server whose upgrades go through ServerEndpoint.fromParsedRequest. */
async function codecServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((_, res) => res.writeHead(404).end());
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    // The host knows the path before the endpoint exists: /deflate supports permessage-deflate.
    const deflate = new URL(req.url ?? '/', 'http://host').pathname === '/deflate';
    const endpoint = ServerEndpoint.fromParsedRequest(
      {
        method: req.method ?? '',
        target: req.url ?? '',
        httpVersion: req.httpVersion,
        headers: req.rawHeaders,
        trailing: head,
      },
      { extensions: deflate ? [permessageDeflate()] : [] },
    );
    const event = endpoint.nextEvent();
    if (event === undefined) throw new Error('a parsed request always yields an event');
    if (event.type !== 'request') {
      socket.end(concat(endpoint.takeOutgoing()));
      return;
    }
    if (event.origin === 'https://untrusted.example') {
      endpoint.send({ type: 'reject', status: 403, body: 'origin not allowed' });
      socket.end(concat(endpoint.takeOutgoing()));
      return;
    }
    endpoint.send({
      type: 'accept',
      protocol: event.protocols.includes('chat') ? 'chat' : null,
      headers: { 'Set-Cookie': ['a=1', 'b=2'] },
    });
    // A text frame "hi" right behind the 101, in the same write.
    endpoint.send({ type: 'text', data: 'hi' });
    socket.write(concat(endpoint.takeOutgoing()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => server.close());
  const { port } = server.address() as AddressInfo;
  return { server, url: `ws://127.0.0.1:${port}` };
}

describe('ServerEndpoint behind node:http, ws as the client', () => {
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

/**
 * Runs a client endpoint over TCP until it opened and read its first
 * message, or was refused or failed and the server closed the connection.
 */
async function codecClient(
  port: number,
  path: string,
  options: ClientEndpointOptions,
): Promise<{ events: EndpointEvent[]; endpoint: ClientEndpoint }> {
  const endpoint = new ClientEndpoint(`ws://127.0.0.1:${port}${path}`, options);
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  socket.write(concat(endpoint.takeOutgoing()));
  const events: EndpointEvent[] = [];
  return new Promise((resolve, reject) => {
    const read = () => {
      for (let ev = endpoint.nextEvent(); ev !== undefined; ev = endpoint.nextEvent()) events.push(ev);
      const opened = events[0]?.type === 'open';
      if ((opened && events.some((e) => e.type === 'text')) || events.at(-1)?.type === 'closed')
        resolve({ events, endpoint });
    };
    socket.on('data', (chunk: Buffer) => {
      endpoint.receive(new Uint8Array(chunk));
      read();
    });
    socket.on('end', () => {
      endpoint.receiveEof();
      read();
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

describe('ClientEndpoint over TCP, a ws WebSocketServer as the server', () => {
  it('opens on ws’s 101, with the protocol ws chose, and reads ws’s first frame', async () => {
    const port = await wsServer({ handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false) });
    const { events } = await codecClient(port, '/chat', {
      protocols: ['superchat', 'chat'],
      origin: 'http://localhost',
    });
    expect(events).toMatchObject([
      { type: 'open', protocol: 'chat', extensions: '' },
      { type: 'text', data: 'hello' },
    ]);
  });

  it('agrees permessage-deflate parameters with ws’s response', async () => {
    const port = await wsServer({ perMessageDeflate: { clientMaxWindowBits: 10 } });
    const { events, endpoint } = await codecClient(port, '/', { extensions: [permessageDeflate()] });
    expect(events[0]).toMatchObject({ type: 'open', protocol: null });
    expect(endpoint.extensions).toHaveLength(1);
    expect(endpoint.extensions[0]?.name).toBe('permessage-deflate');
    expect(endpoint.extensions[0]?.response.params).toContainEqual({ name: 'client_max_window_bits', value: '10' });
    expect(deflateParams(endpoint)?.clientMaxWindowBits).toBe(10);
    expect(events[1]).toEqual({ type: 'text', data: 'hello' });
  });

  it('reports ws’s 401 rejection with its status and body', async () => {
    const port = await wsServer({
      verifyClient: (_info: unknown, done: (ok: boolean, code?: number) => void) => done(false, 401),
    });
    const { events } = await codecClient(port, '/', {});
    const event = events[0];
    expect(event).toMatchObject({ type: 'rejected', status: 401, reason: 'Unauthorized', bodyComplete: true });
    if (event?.type === 'rejected') expect(bytesToString(event.body)).toBe('Unauthorized');
  });

  it('reports ws’s 400 for an unsupported version, with its headers', async () => {
    const port = await wsServer({});
    const endpoint = new ClientEndpoint(`ws://127.0.0.1:${port}/`, { headers: { 'X-Probe': '1' } });
    // A doctored request: ws answers 400 and our client must surface it.
    const socket = connect(port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    const request = bytesToString(concat(endpoint.takeOutgoing()), 'latin1').replace(
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Version: 7',
    );
    socket.write(request, 'latin1');
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    endpoint.receive(Buffer.concat(chunks));
    endpoint.receiveEof();
    const event = endpoint.nextEvent();
    expect(event).toMatchObject({ type: 'rejected', status: 400, bodyComplete: true });
    if (event?.type === 'rejected') expect(event.headers.get('sec-websocket-version')).toMatch(/13/);
    expect(endpoint.nextEvent()).toMatchObject({ type: 'closed', code: 1006 });
  });
});
