// RFC 6455 §7.1.4: a WebSocket connection is closed cleanly when the TCP
// connection closes after the closing handshake completed, whoever closes it.
// §7.1.1 has the server close TCP first, but a server that never does leaves
// the client to close it after its close timeout: the close is still clean.
// The peer here is a raw node:net server speaking the handshake through the
// codec's ServerEndpoint and deliberately never ending the TCP connection.
import { createServer, type Server, type Socket } from 'node:net';
import { ServerEndpoint } from '@rfc6455/codec';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket, type WebSocketCloseEvent, WebSocketStream } from '../src/node.js';

interface LingeringPeer {
  readonly url: string;
  /** Settles when the client ended the TCP connection (the server never does). */
  readonly clientClosedTcp: Promise<void>;
  stop(): Promise<void>;
}

interface PeerBehaviour {
  /** Send a close frame right after the 101 instead of waiting for the client's. */
  readonly closeFirst?: { readonly code: number; readonly reason: string };
  /** Answer the client's close frame (default true). False: stay silent after it. */
  readonly answerClose?: boolean;
}

/**
 * Short, so each test ends soon after the closing handshake; long enough
 * that a loopback answer to the close frame arrives well before it on a
 * loaded machine (the cases below must not depend on that race).
 */
const CLOSE_TIMEOUT = 300;

const servers: LingeringPeer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function startLingeringPeer(behaviour: PeerBehaviour = {}): Promise<LingeringPeer> {
  const sockets = new Set<Socket>();
  let clientClosed!: () => void;
  const clientClosedTcp = new Promise<void>((resolve) => {
    clientClosed = resolve;
  });
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const endpoint = new ServerEndpoint();
    let silent = false;
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      clientClosed();
    });
    socket.on('data', (chunk: Buffer) => {
      endpoint.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      for (const ev of endpoint.events()) {
        if (ev.type === 'request') {
          endpoint.send({ type: 'accept' });
          if (behaviour.closeFirst !== undefined) endpoint.send({ type: 'close', ...behaviour.closeFirst });
        }
        if (ev.type === 'close' && behaviour.answerClose === false) silent = true;
      }
      const out = endpoint.takeOutgoing();
      if (!silent) for (const bytes of out) socket.write(bytes);
      // shouldCloseTransport is ignored on purpose: this server never closes TCP.
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const peer: LingeringPeer = {
    url: `ws://127.0.0.1:${port}/`,
    clientClosedTcp,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  servers.push(peer);
  return peer;
}

/** The events a WebSocket fires until `close`, and the close event itself. */
function recordUntilClose(ws: WebSocket): Promise<{ order: string[]; close: WebSocketCloseEvent; error: unknown }> {
  const order: string[] = [];
  let error: unknown;
  ws.addEventListener('open', () => order.push('open'));
  ws.addEventListener('error', (ev) => {
    order.push('error');
    error = ev.error;
  });
  return new Promise((resolve) => {
    ws.addEventListener('close', (ev) => {
      order.push('close');
      resolve({ order, close: ev, error });
    });
  });
}

describe('a completed closing handshake on a TCP connection the server never closes', () => {
  test('client-initiated: close 1000 is clean and fires no error', async () => {
    const peer = await startLingeringPeer();
    const ws = new WebSocket(peer.url, undefined, { closeTimeout: CLOSE_TIMEOUT });
    ws.onopen = () => ws.close(1000, 'done');
    const { order, close } = await recordUntilClose(ws);
    expect(order).toEqual(['open', 'close']);
    expect({ code: close.code, reason: close.reason, wasClean: close.wasClean }).toEqual({
      code: 1000,
      reason: 'done',
      wasClean: true,
    });
    // The client ended the TCP connection itself, as §7.1.1 lets it once the server does not.
    await peer.clientClosedTcp;
  });

  test('server-initiated: the server’s code and reason, clean, no error', async () => {
    const peer = await startLingeringPeer({ closeFirst: { code: 4001, reason: 'bye' } });
    const ws = new WebSocket(peer.url, undefined, { closeTimeout: CLOSE_TIMEOUT });
    const { order, close } = await recordUntilClose(ws);
    expect(order).toEqual(['open', 'close']);
    expect({ code: close.code, reason: close.reason, wasClean: close.wasClean }).toEqual({
      code: 4001,
      reason: 'bye',
      wasClean: true,
    });
    await peer.clientClosedTcp;
  });

  test('WebSocketStream: closed resolves with the close code', async () => {
    const peer = await startLingeringPeer();
    const wss = new WebSocketStream(peer.url, { closeTimeout: CLOSE_TIMEOUT });
    await wss.opened;
    wss.close({ closeCode: 1000, reason: 'done' });
    await expect(wss.closed).resolves.toEqual({ closeCode: 1000, reason: 'done' });
    await peer.clientClosedTcp;
  });

  test('an unanswered close frame is still unclean: error, then close 1006', async () => {
    const peer = await startLingeringPeer({ answerClose: false });
    const ws = new WebSocket(peer.url, undefined, { closeTimeout: CLOSE_TIMEOUT });
    ws.onopen = () => ws.close(1000, 'done');
    const { order, close, error } = await recordUntilClose(ws);
    expect(order).toEqual(['open', 'error', 'close']);
    expect({ code: close.code, wasClean: close.wasClean }).toEqual({ code: 1006, wasClean: false });
    expect(String(error)).toMatch(/did not close/);
    await peer.clientClosedTcp;
  });
});
