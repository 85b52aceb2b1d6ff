/**
 * The topics client (`@rfc6455/browser-client/topics`): against the project's
 * node-server over TCP through a ReconnectingWebSocket, and against a scripted
 * socket for what a server should never do (skip ahead, repeat itself).
 */
import { once } from 'node:events';
import { WebSocketServer } from '@rfc6455/node-server';
import { encodeTopicsMessage, type SubscribeMessage, TOPICS_SUBPROTOCOL, decodeTopicsMessage } from '@rfc6455/topics';
import { afterEach, describe, expect, it } from 'vitest';
import { dialNode, ReconnectingWebSocket } from '../src/node.js';
import {
  TopicPublicationEvent,
  TopicSubscribedEvent,
  TopicsClient,
  type TopicsSocket,
  TopicUnsubscribedEvent,
} from '../src/topics.js';

const servers: WebSocketServer[] = [];
const sockets: ReconnectingWebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await Promise.all(servers.splice(0).map((wss) => wss.close({ timeout: 500 })));
});

async function server(options: ConstructorParameters<typeof WebSocketServer>[0] = {}): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', heartbeatInterval: 0, ...options });
  servers.push(wss);
  await once(wss, 'listening');
  return wss;
}

const portOf = (wss: WebSocketServer) => wss.address()?.port as number;

/** A ReconnectingWebSocket whose every connection dials whatever port `next()` names. */
function reconnecting(next: () => number): ReconnectingWebSocket {
  const socket = new ReconnectingWebSocket('ws://127.0.0.1/', TOPICS_SUBPROTOCOL, {
    reconnect: { initialDelay: 10, maxDelay: 50 },
    transport: (_url, init) => dialNode(new URL(`ws://127.0.0.1:${next()}/`), init),
  });
  sockets.push(socket);
  return socket;
}

/** Records the client's events in order. */
function record(client: TopicsClient) {
  const log: Array<TopicPublicationEvent | TopicSubscribedEvent | TopicUnsubscribedEvent> = [];
  const waiters = new Set<() => void>();
  for (const type of ['publication', 'subscribed', 'resync', 'unsubscribed']) {
    client.addEventListener(type, (event) => {
      log.push(event as TopicPublicationEvent);
      for (const waiter of waiters) waiter();
    });
  }
  return {
    log,
    publications: () => log.filter((e): e is TopicPublicationEvent => e instanceof TopicPublicationEvent),
    until(done: () => boolean): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (done()) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

describe('TopicsClient on a ReconnectingWebSocket', () => {
  it('resubscribes since its position after the connection drops, with no gap and no duplicate', async () => {
    const wss = await server();
    const client = new TopicsClient(reconnecting(() => portOf(wss)));
    const events = record(client);
    client.subscribe('chat');
    await events.until(() => events.log.some((e) => e.type === 'resync'));
    await wss.publish('chat', 'one');
    await wss.publish('chat', 'two');
    await events.until(() => events.publications().length === 2);
    for (const ws of wss.clients) ws.terminate();
    // Published while the client is away: the resubscribe since offset 2 brings them.
    await wss.publish('chat', 'three');
    await wss.publish('chat', 'four');
    await events.until(() => events.log.filter((e) => e.type === 'subscribed').length === 2);
    await wss.publish('chat', 'five');
    await events.until(() => events.publications().length === 5);
    expect(events.publications().map((e) => [e.offset, e.text()])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
      [4, 'four'],
      [5, 'five'],
    ]);
    const answers = events.log.filter((e): e is TopicSubscribedEvent => e instanceof TopicSubscribedEvent);
    expect(answers.map((e) => [e.type, e.recovered])).toEqual([
      ['subscribed', false],
      ['resync', false],
      ['subscribed', true],
    ]);
    expect(client.positionOf('chat')?.offset).toBe(5);
  });

  it('tells the application to resync when the next server has another history', async () => {
    const first = await server();
    const second = await server();
    let dials = 0;
    // The first connection goes to one server, every later one to the other (no sticky sessions).
    const client = new TopicsClient(reconnecting(() => portOf(dials++ === 0 ? first : second)));
    const events = record(client);
    client.subscribe('t');
    await events.until(() => events.log.some((e) => e.type === 'subscribed'));
    await first.publish('t', 'a');
    await events.until(() => events.publications().length === 1);
    const before = client.positionOf('t');
    for (const ws of first.clients) ws.terminate();
    await events.until(() => events.log.filter((e) => e.type === 'resync').length === 2);
    const resync = events.log.filter((e) => e.type === 'resync').at(-1) as TopicSubscribedEvent;
    expect(resync.epoch).not.toBe(before?.epoch);
    await second.publish('t', 'b');
    await events.until(() => events.publications().length === 2);
    expect(events.publications().at(-1)?.text()).toBe('b');
  });

  it('reports a refused subscription as unsubscribed and forgets the topic', async () => {
    const wss = await server({ authorizeSubscribe: (_ws, topic) => topic !== 'private' });
    const client = new TopicsClient(reconnecting(() => portOf(wss)));
    const events = record(client);
    client.subscribe('private');
    await events.until(() => events.log.length > 0);
    expect(events.log[0]).toBeInstanceOf(TopicUnsubscribedEvent);
    expect(events.log[0]).toMatchObject({ topic: 'private', code: 4403 });
    expect(client.topics).toEqual([]);
  });
});

/** A socket the test scripts: it records what the client sends and delivers what the test pushes. */
class ScriptedSocket extends EventTarget implements TopicsSocket {
  readyState = 0;
  protocol = '';
  binaryType: 'blob' | 'arraybuffer' = 'blob';
  readonly sent: SubscribeMessage[] = [];
  send(data: Uint8Array<ArrayBuffer>): void {
    const message = decodeTopicsMessage(data);
    if (message.type === 'subscribe') this.sent.push(message);
  }
  open(): void {
    this.readyState = 1;
    this.protocol = TOPICS_SUBPROTOCOL;
    this.dispatchEvent(new Event('open'));
  }
  push(message: Parameters<typeof encodeTopicsMessage>[0]): void {
    const event = new Event('message') as Event & { data: ArrayBuffer };
    event.data = encodeTopicsMessage(message).buffer;
    this.dispatchEvent(event);
  }
}

describe('TopicsClient against a misbehaving server', () => {
  it('drops a repeated publication and resubscribes since its position on one that skips ahead', () => {
    const socket = new ScriptedSocket();
    const client = new TopicsClient(socket);
    const events = record(client);
    client.subscribe('t');
    // Nothing is sent before the socket opens; the open sends the subscribe.
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.sent).toEqual([{ type: 'subscribe', topic: 't' }]);
    socket.push({ type: 'subscribed', topic: 't', recovered: false, epoch: 'e', offset: 0, publications: [] });
    const data = new Uint8Array([1]);
    socket.push({ type: 'publication', topic: 't', epoch: 'e', offset: 1, data });
    socket.push({ type: 'publication', topic: 't', epoch: 'e', offset: 1, data });
    socket.push({ type: 'publication', topic: 't', epoch: 'e', offset: 3, data });
    expect(events.publications().map((e) => e.offset)).toEqual([1]);
    expect(socket.sent.at(-1)).toEqual({ type: 'subscribe', topic: 't', since: { epoch: 'e', offset: 1 } });
  });

  it('reports bytes that are not an envelope as an error event', () => {
    const socket = new ScriptedSocket();
    const client = new TopicsClient(socket);
    socket.open();
    const errors: Event[] = [];
    client.addEventListener('error', (event) => errors.push(event));
    const event = new Event('message') as Event & { data: ArrayBuffer };
    event.data = new Uint8Array([0x09, 0, 0, 1, 0x61]).buffer;
    socket.dispatchEvent(event);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_UNKNOWN_KIND' });
  });
});
