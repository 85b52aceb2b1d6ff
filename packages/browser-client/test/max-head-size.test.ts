// `maxHeadSize` bounds the handshake response head the client reads, under
// the name the codec gives it. A real server sends a 101 whose head is about
// 2.2 KiB (one long header field): within a 4 KiB limit it opens, under a
// 1 KiB limit the handshake fails as a response too large. (The type test
// reads the built .d.ts: run after the build.)
import { createServer, type Socket } from 'node:net';
import { ServerEndpoint } from '@rfc6455/codec';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HandshakeError, WebSocket, type WebSocketOptions } from '../src/node.js';
import { typeCheck } from './type-check.js';

const PADDING = 'a'.repeat(2000);
const sockets = new Set<Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
  const endpoint = new ServerEndpoint();
  socket.on('data', (chunk: Buffer) => {
    endpoint.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    for (const ev of endpoint.events()) {
      if (ev.type === 'request') endpoint.send({ type: 'accept', headers: [['X-Padding', PADDING]] });
    }
    for (const bytes of endpoint.takeOutgoing()) socket.write(bytes);
    if (endpoint.shouldCloseTransport) socket.end();
  });
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Opens, then closes at once; resolves with what happened. */
function attempt(
  options: WebSocketOptions,
): Promise<{ opened: boolean; code: number; error: unknown; padding: string | undefined }> {
  const ws = new WebSocket(url, undefined, options);
  let opened = false;
  let error: unknown;
  let padding: string | undefined;
  ws.onopen = () => {
    opened = true;
    padding = ws.responseHeaders?.get('x-padding') ?? undefined;
    ws.close();
  };
  ws.onerror = (ev) => {
    error = ev.error;
  };
  return new Promise((resolve) => {
    ws.onclose = (ev) => resolve({ opened, code: ev.code, error, padding });
  });
}

test('a response head within maxHeadSize opens', async () => {
  const result = await attempt({ maxHeadSize: 4096 });
  expect(result.opened).toBe(true);
  expect(result.padding).toBe(PADDING);
  expect(result.error).toBeUndefined();
});

test('a response head over maxHeadSize fails the handshake: response-too-large, close 1006', async () => {
  const result = await attempt({ maxHeadSize: 1024 });
  expect(result.opened).toBe(false);
  expect(result.code).toBe(1006);
  expect(result.error).toBeInstanceOf(HandshakeError);
  expect(result.error).toMatchObject({ code: 'failed', failure: 'response-too-large' });
});

test('the option has one name in the built types: maxHeadSize, not the former maxHandshakeSize', () => {
  const use = (name: string) => `
import { WebSocket } from '@rfc6455/browser-client';
new WebSocket('ws://127.0.0.1/', undefined, { ${name}: 1024 });
`;
  const diagnostics = typeCheck([
    { label: 'new name', code: use('maxHeadSize') },
    { label: 'old name', code: use('maxHandshakeSize') },
  ]);
  expect(diagnostics).toHaveLength(1);
  expect(diagnostics[0]).toMatch(/^old name .*maxHandshakeSize/);
});
