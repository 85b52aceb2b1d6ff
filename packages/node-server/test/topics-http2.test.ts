/**
 * Topics over HTTP/2 (RFC 8441): topics clients on extended CONNECT streams
 * of one connection get the same publications, and an h2 client resumes on
 * a new stream since its position.
 * The h2 side is node:http2 with the codec's frame layer (test/h2-peer.ts).
 */
import { once } from 'node:events';
import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  decodeTopicsMessage,
  encodeTopicsMessage,
  type PublicationMessage,
  type SubscribedMessage,
  TOPICS_SUBPROTOCOL,
  type TopicsMessage,
} from '@rfc6455/topics';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from '../src/index.js';
import { connectH2, type H2Peer, Opcode, openStream } from './h2-peer.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start() {
  const server = createServer({ settings: { enableConnectProtocol: true } });
  server.on('session', (session) => cleanups.push(() => session.destroy()));
  const wss = new WebSocketServer({ server, heartbeatInterval: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    await wss.close({ timeout: 200 });
    await new Promise((resolve) => server.close(resolve));
  });
  return { wss, port: (server.address() as AddressInfo).port };
}

async function h2TopicsPeer(port: number): Promise<H2Peer> {
  const session = await connectH2(`http://127.0.0.1:${port}`);
  cleanups.push(() => session.destroy());
  const peer = await openStream(session, { headers: { 'sec-websocket-protocol': TOPICS_SUBPROTOCOL } });
  expect(peer.status).toBe(200);
  expect(peer.responseHeaders['sec-websocket-protocol']).toBe(TOPICS_SUBPROTOCOL);
  return peer;
}

/** The next topics message on an h2 peer. */
async function nextMessage(peer: H2Peer): Promise<TopicsMessage> {
  const message = await peer.next();
  expect(message.opcode).toBe(Opcode.Binary);
  const decoded = decodeTopicsMessage(new Uint8Array(message.data));
  if (decoded.type === 'malformed') throw new Error(decoded.reason);
  return decoded;
}

it('delivers the same publications to topics clients on two streams of one HTTP/2 connection', async () => {
  const { wss, port } = await start();
  const session = await connectH2(`http://127.0.0.1:${port}`);
  cleanups.push(() => session.destroy());
  const streams: H2Peer[] = [];
  for (let i = 0; i < 2; i++) {
    const peer = await openStream(session, { headers: { 'sec-websocket-protocol': TOPICS_SUBPROTOCOL } });
    expect(peer.responseHeaders['sec-websocket-protocol']).toBe(TOPICS_SUBPROTOCOL);
    peer.binary(encodeTopicsMessage({ type: 'subscribe', topic: 'news' }));
    expect(await nextMessage(peer)).toMatchObject({ type: 'subscribed', topic: 'news', recovered: false, offset: 0 });
    streams.push(peer);
  }
  const { epoch } = await wss.publish('news', 'to both streams');
  for (const peer of streams) {
    const got = (await nextMessage(peer)) as PublicationMessage;
    expect(got).toMatchObject({ type: 'publication', topic: 'news', epoch, offset: 1 });
    expect(new TextDecoder().decode(got.data)).toBe('to both streams');
  }
  expect([...wss.clients].map((ws) => ws.transport.type)).toEqual(['http2', 'http2']);
});

it('resumes an HTTP/2 client on a new stream since the offset it held', async () => {
  const { wss, port } = await start();
  const first = await h2TopicsPeer(port);
  first.binary(encodeTopicsMessage({ type: 'subscribe', topic: 't' }));
  const { epoch } = (await nextMessage(first)) as SubscribedMessage;
  await wss.publish('t', 'one');
  expect(await nextMessage(first)).toMatchObject({ type: 'publication', offset: 1 });
  first.stream.close();
  await first.closed;
  await wss.publish('t', 'two');
  const second = await h2TopicsPeer(port);
  second.binary(encodeTopicsMessage({ type: 'subscribe', topic: 't', since: { epoch, offset: 1 } }));
  const resumed = (await nextMessage(second)) as SubscribedMessage;
  expect(resumed).toMatchObject({ type: 'subscribed', recovered: true, epoch, offset: 2 });
  expect(resumed.publications.map((p) => new TextDecoder().decode(p.data))).toEqual(['two']);
});
