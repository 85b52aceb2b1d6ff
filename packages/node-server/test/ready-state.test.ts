// A server-side WebSocket is created after the opening handshake, so its
// readyState goes OPEN → CLOSING → CLOSED and the package offers no state
// (and no constant) for a connection still being set up.
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import * as api from '../src/index.js';
import { CLOSED, CLOSING, OPEN, type WebSocket, type WebSocketServer } from '../src/index.js';
import { startServer } from './helpers.js';

const servers: Array<Pick<WebSocketServer, 'close'>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 500 })));
});

it('exports no CONNECTING, neither from the package nor on WebSocket', () => {
  expect(Object.keys(api)).not.toContain('CONNECTING');
  expect(Object.keys(api.WebSocket)).not.toContain('CONNECTING');
  expect([OPEN, CLOSING, CLOSED]).toEqual([1, 2, 3]);
  expect([api.WebSocket.OPEN, api.WebSocket.CLOSING, api.WebSocket.CLOSED]).toEqual([1, 2, 3]);
});

it('goes OPEN from the connection event, CLOSING after close(), CLOSED at the close event', async () => {
  const { wss, url } = await startServer();
  servers.push(wss);
  const states: number[] = [];
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocketClient(url);
  const [ws] = await accepted;
  states.push(ws.readyState);
  await once(client, 'open');
  const closed = once(ws, 'close');
  ws.close(1000);
  states.push(ws.readyState);
  await closed;
  states.push(ws.readyState);
  expect(states).toEqual([OPEN, CLOSING, CLOSED]);
});
