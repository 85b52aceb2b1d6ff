// A server that breaks the protocol after the handshake: the client fails the
// connection (RFC 6455 §7.1.7) with the close code §7.4.1 assigns, the
// application gets a ProtocolError carrying that code as `closeCode`, and the
// server really receives a close frame with it. The server is the codec's
// ServerEndpoint for the handshake, then writes raw frames of its own.
import { createServer, type Socket } from 'node:net';
import { ServerEndpoint } from '@rfc6455/codec';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ProtocolError, WebSocket } from '../src/node.js';

/** Frames the server sends right after its 101, by request path. */
const BAD_FRAMES: Record<string, Uint8Array> = {
  // FIN + reserved opcode 0x3, empty payload.
  '/reserved-opcode': Uint8Array.of(0x83, 0x00),
  // FIN + text, 2 bytes: 0xC3 0x28 is not UTF-8.
  '/invalid-utf8': Uint8Array.of(0x81, 0x02, 0xc3, 0x28),
};

const sockets = new Set<Socket>();
/** Close codes the server received, by path. */
const received = new Map<string, Promise<number>>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
  const endpoint = new ServerEndpoint();
  let resolveClose!: (code: number) => void;
  socket.on('data', (chunk: Buffer) => {
    endpoint.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    let bad: Uint8Array | undefined;
    for (const ev of endpoint.events()) {
      if (ev.type === 'request') {
        endpoint.send({ type: 'accept' });
        bad = BAD_FRAMES[ev.path];
        received.set(
          ev.path,
          new Promise((resolve) => {
            resolveClose = resolve;
          }),
        );
      }
      if (ev.type === 'close') resolveClose(ev.code);
    }
    for (const bytes of endpoint.takeOutgoing()) socket.write(bytes);
    if (bad !== undefined) socket.write(bad);
    if (endpoint.shouldCloseTransport) socket.end();
  });
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('a frame that breaks the protocol', () => {
  test.each([
    ['/reserved-opcode', 1002],
    ['/invalid-utf8', 1007],
  ])(
    '%s: error with a ProtocolError (closeCode %i), then close 1006; the server gets that code',
    async (path, closeCode) => {
      const ws = new WebSocket(`${base}${path}`);
      const order: string[] = [];
      let error: unknown;
      ws.onopen = () => order.push('open');
      ws.onmessage = () => order.push('message');
      ws.onerror = (ev) => {
        order.push('error');
        error = ev.error;
      };
      const close = await new Promise<{ code: number; wasClean: boolean }>((resolve) => {
        ws.onclose = (ev) => {
          order.push('close');
          resolve({ code: ev.code, wasClean: ev.wasClean });
        };
      });
      expect(order).toEqual(['open', 'error', 'close']);
      expect(close).toEqual({ code: 1006, wasClean: false });
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ name: 'ProtocolError', closeCode });
      expect(error).not.toHaveProperty('code');
      expect(await received.get(path)).toBe(closeCode);
    },
  );
});
