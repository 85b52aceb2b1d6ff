/**
 * Topics on one server process: `ws.subscribe`, `wss.publish` and the
 * `rfc6455.topics.v1` subprotocol, checked with the codec's client endpoint
 * over TCP (envelopes decoded by the topics package's decoder) and raw frames.
 */
import { once } from 'node:events';
import { permessageDeflate } from '@rfc6455/codec';
import { MessagePreEncoder } from '@rfc6455/codec/frames';
import { MemoryTopics, TOPICS_SUBPROTOCOL, TopicsClientState, type TopicsMessage } from '@rfc6455/topics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ServerOptions, TopicsUsageError, type WebSocket, type WebSocketServer } from '../src/index.js';
import { clientFrame, rawClient, startServer } from './helpers.js';
import { is, type TopicsPeer, topicsPeer } from './topics-peer.js';

const servers: WebSocketServer[] = [];
const peers: TopicsPeer[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.socket.destroy();
  await Promise.all(servers.splice(0).map((wss) => wss.close({ timeout: 500 })));
  vi.restoreAllMocks();
});

async function server(options: ServerOptions = {}) {
  const started = await startServer({ heartbeatInterval: 0, ...options });
  servers.push(started.wss);
  return started;
}

async function peer(port: number, options: Parameters<typeof topicsPeer>[1] = {}): Promise<TopicsPeer> {
  const p = await topicsPeer(port, options);
  peers.push(p);
  return p;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe('the rfc6455.topics.v1 subprotocol', () => {
  it('is chosen when offered and the hook chose nothing, and not when the hook said null', async () => {
    const { port } = await server();
    expect((await peer(port)).protocol).toBe(TOPICS_SUBPROTOCOL);
    const refused = await server({ handleUpgrade: () => ({ accept: true, protocol: null }) });
    expect((await peer(refused.port)).protocol).toBeNull();
  });

  it('answers a subscribe, then delivers publications in order with their offsets', async () => {
    const { wss, port } = await server();
    const client = await peer(port);
    client.send({ type: 'subscribe', topic: 'chat' });
    const subscribed = await client.waitFor(is.subscribed('chat'));
    // Without since no continuity is claimed.
    expect(subscribed).toMatchObject({ recovered: false, offset: 0, publications: [] });
    const results = [];
    for (const word of ['a', 'b', 'c']) results.push(await wss.publish('chat', word));
    expect(results.map((r) => r.offset)).toEqual([1, 2, 3]);
    expect(new Set(results.map((r) => r.epoch))).toEqual(new Set([subscribed.epoch]));
    await client.waitFor(is.publication('chat', 3));
    const publications = client.messages.filter((m) => m.type === 'publication');
    expect(publications.map((m) => [m.offset, text(m.data), m.epoch])).toEqual([
      [1, 'a', subscribed.epoch],
      [2, 'b', subscribed.epoch],
      [3, 'c', subscribed.epoch],
    ]);
  });

  it('resumes a new connection since the position the old one held', async () => {
    const { wss, port } = await server();
    const first = await peer(port);
    first.send({ type: 'subscribe', topic: 't' });
    const { epoch } = await first.waitFor(is.subscribed('t'));
    await wss.publish('t', 'one');
    await first.waitFor(is.publication('t', 1));
    first.socket.destroy();
    await wss.publish('t', 'two');
    await wss.publish('t', 'three');
    const second = await peer(port);
    second.send({ type: 'subscribe', topic: 't', since: { epoch, offset: 1 } });
    const resumed = await second.waitFor(is.subscribed('t'));
    expect(resumed.recovered).toBe(true);
    expect(resumed.offset).toBe(3);
    expect(resumed.publications.map((p) => [p.offset, text(p.data)])).toEqual([
      [2, 'two'],
      [3, 'three'],
    ]);
    await wss.publish('t', 'four');
    const live = await second.waitFor(is.publication('t', 4));
    expect(text(live.data)).toBe('four');
  });

  it('answers a since from another epoch (another server, a restart) with recovered: false', async () => {
    const { wss, port } = await server();
    await wss.publish('t', 'x');
    const client = await peer(port);
    client.send({ type: 'subscribe', topic: 't', since: { epoch: 'someOtherEpoch', offset: 7 } });
    const answer = await client.waitFor(is.subscribed('t'));
    expect(answer.recovered).toBe(false);
    expect(answer.offset).toBe(1);
    expect(answer.publications).toEqual([]);
  });

  it('answers an unsubscribe and delivers nothing more of that topic', async () => {
    const { wss, port } = await server();
    const client = await peer(port);
    client.send({ type: 'subscribe', topic: 'a' });
    client.send({ type: 'subscribe', topic: 'b' });
    await client.waitFor(is.subscribed('b'));
    client.send({ type: 'unsubscribe', topic: 'a' });
    const answer = await client.waitFor(is.unsubscribed('a'));
    expect(answer).toMatchObject({ code: 0, reason: '' });
    await wss.publish('a', 'not for you');
    await wss.publish('b', 'marker');
    // One connection keeps order: once b's publication is here, a's would have been too.
    await client.waitFor(is.publication('b', 1));
    expect(client.messages.some((m) => m.type === 'publication' && m.topic === 'a')).toBe(false);
  });

  it('refuses topics the authorizer refuses (4403) and topics over the per-connection limit (4429)', async () => {
    const { port } = await server({
      authorizeSubscribe: (_ws, topic) => !topic.startsWith('secret'),
      maxTopicsPerConnection: 2,
    });
    const client = await peer(port);
    client.send({ type: 'subscribe', topic: 'secret/plans' });
    expect(await client.waitFor(is.unsubscribed('secret/plans'))).toMatchObject({ code: 4403, reason: 'not allowed' });
    for (const topic of ['one', 'two', 'three']) client.send({ type: 'subscribe', topic });
    await client.waitFor(is.subscribed('two'));
    expect(await client.waitFor(is.unsubscribed('three'))).toMatchObject({ code: 4429 });
    // A topic already held does not count twice.
    client.send({ type: 'subscribe', topic: 'one' });
    await client.waitFor(is.subscribed('one'), client.messages.length);
  });

  it('closes with 1007 on bytes that are not an envelope', async () => {
    const { port } = await server();
    const client = await peer(port);
    client.sendBinary(Uint8Array.of(0x02, 0x00, 0x00));
    expect(await client.closed).toBe(1007);
  });

  it('closes with 1008 when a client sends a server-to-client envelope', async () => {
    const { port } = await server();
    const client = await peer(port);
    client.send({ type: 'publication', topic: 't', epoch: 'e', offset: 1, data: bytes('forged') });
    expect(await client.closed).toBe(1008);
  });

  it('hands text messages of a topics client to the application', async () => {
    const { wss, port } = await server();
    const got = new Promise<[string | Buffer, boolean]>((resolve) =>
      wss.on('connection', (ws) => ws.once('message', (data, isBinary) => resolve([data, isBinary]))),
    );
    const raw = await rawClient(port, `Sec-WebSocket-Protocol: ${TOPICS_SUBPROTOCOL}\r\n`);
    expect(raw.head).toMatch(/sec-websocket-protocol: rfc6455\.topics\.v1/i);
    raw.socket.write(clientFrame(0x81, 'hello'));
    expect(await got).toEqual(['hello', false]);
    raw.socket.destroy();
  });
});

describe('ws.subscribe and wss.publish', () => {
  it('deliver publication envelopes to a connection the application subscribed, whatever its subprotocol', async () => {
    const { wss, port } = await server();
    const connected = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = await peer(port, { protocols: [] });
    const [ws] = await connected;
    expect(client.protocol).toBeNull();
    ws.subscribe('news');
    expect(ws.topics).toEqual(['news']);
    await client.waitFor(is.subscribed('news'));
    await wss.publish('news', bytes('extra'));
    expect(text((await client.waitFor(is.publication('news', 1))).data)).toBe('extra');
    ws.unsubscribe('news');
    expect(ws.topics).toEqual([]);
    ws.subscribe('other');
    await wss.publish('news', 'gone');
    await wss.publish('other', 'marker');
    await client.waitFor(is.publication('other', 1));
    expect(client.messages.filter((m) => m.type === 'publication' && m.topic === 'news')).toHaveLength(1);
  });

  it('throws TopicsUsageError for an ill-formed topic or position and records nothing', async () => {
    const { wss, port } = await server();
    const connected = once(wss, 'connection') as Promise<[WebSocket]>;
    await peer(port);
    const [ws] = await connected;
    expect(() => ws.subscribe('')).toThrow(TopicsUsageError);
    expect(() => ws.subscribe('t', { since: { epoch: 'bad epoch!', offset: 1 } })).toThrow(TopicsUsageError);
    expect(ws.topics).toEqual([]);
    await expect(wss.publish('', 'x')).rejects.toBeInstanceOf(TopicsUsageError);
  });

  it('returns the first offset for a retried idempotency key and delivers the publication once', async () => {
    const { wss, port } = await server();
    const client = await peer(port);
    client.send({ type: 'subscribe', topic: 'orders' });
    await client.waitFor(is.subscribed('orders'));
    const first = await wss.publish('orders', 'order 1', { idempotencyKey: 'req-1' });
    const retry = await wss.publish('orders', 'order 1', { idempotencyKey: 'req-1' });
    expect(retry).toEqual({ ...first, duplicate: true });
    await wss.publish('orders', 'order 2');
    await client.waitFor(is.publication('orders', 2));
    expect(client.messages.filter((m) => m.type === 'publication').map((m) => text(m.data))).toEqual([
      'order 1',
      'order 2',
    ]);
  });

  it('uses the hub the factory makes, with the server’s callbacks', async () => {
    let made: MemoryTopics<WebSocket> | undefined;
    const { wss, port } = await server({
      topics: (handlers) => {
        made = new MemoryTopics<WebSocket>({ ...handlers, epoch: 'fixedEpoch' });
        return made;
      },
    });
    const client = await peer(port);
    client.send({ type: 'subscribe', topic: 't' });
    expect((await client.waitFor(is.subscribed('t'))).epoch).toBe('fixedEpoch');
    expect(await wss.publish('t', 'x')).toEqual({ epoch: 'fixedEpoch', offset: 1, duplicate: false });
    expect(made?.history('t', 0, 10).publications.map((p) => text(p.data))).toEqual(['x']);
    await wss.close({ timeout: 500 });
    // Closing the server closes its hub.
    expect(() => made?.subscribe({} as WebSocket, 't')).toThrow(TopicsUsageError);
  });
});

describe('encoding once', () => {
  it('encodes a publication once per compression class and writes the same bytes to every plain subscriber', async () => {
    const { wss, port } = await server({ perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
    const encode = vi.spyOn(MessagePreEncoder.prototype, 'encode');
    const plain = [await peer(port), await peer(port), await peer(port)];
    const offer = () => [permessageDeflate({ serverNoContextTakeover: true, threshold: 0 })];
    const deflate = [await peer(port, { extensions: offer() }), await peer(port, { extensions: offer() })];
    const all = [...plain, ...deflate];
    for (const client of all) client.send({ type: 'subscribe', topic: 'fan' });
    for (const client of all) await client.waitFor(is.subscribed('fan'));
    for (const client of all) client.chunks.length = 0;
    const before = encode.mock.calls.length;
    const payload = bytes('x'.repeat(2000));
    await wss.publish('fan', payload);
    for (const client of all) await client.waitFor(is.publication('fan', 1));
    // One plain encoding and one shared deflate encoding, for five subscribers.
    expect(encode.mock.calls.length - before).toBe(2);
    const wire = plain.map((client) => Buffer.concat(client.chunks).toString('hex'));
    expect(new Set(wire).size).toBe(1);
    const compressed = Buffer.concat((deflate[0] as TopicsPeer).chunks);
    expect(compressed[0]).toBe(0xc2); // FIN, RSV1 (compressed), binary
    expect(compressed.length).toBeLessThan(Buffer.from(wire[0] as string, 'hex').length);
    for (const client of all) {
      const got = client.messages.find(is.publication('fan', 1));
      expect(got?.data).toEqual(payload);
    }
  });
});

describe('a slow subscriber', () => {
  it("with onBufferOverflow 'drop' gets what was dropped back once it drains, without a gap or a duplicate", async () => {
    const { wss, port } = await server({ onBufferOverflow: 'drop', maxBufferedAmount: 256 * 1024 });
    const client = await peer(port);
    client.send({ type: 'subscribe', topic: 'big' });
    await client.waitFor(is.subscribed('big'));
    client.socket.pause();
    const connected = [...wss.clients][0] as WebSocket;
    const payload = new Uint8Array(64 * 1024).fill(7);
    const count = 200;
    for (let i = 1; i <= count; i++) await wss.publish('big', payload);
    // Over the cap the server skips messages but keeps the connection open.
    expect(connected.readyState).toBe(1);
    client.socket.resume();
    // The client's own state machine is the judge: it would resubscribe on a gap and drop duplicates.
    const state = new TopicsClientState();
    state.subscribe('big');
    const offsets: number[] = [];
    let recoveredAnswers = 0;
    let index = 0;
    while (offsets.at(-1) !== count) {
      await client.waitFor((m): m is TopicsMessage => m.type !== 'malformed', index);
      for (; index < client.messages.length; index++) {
        const message = client.messages[index];
        if (message === undefined || message.type === 'malformed') throw new Error('malformed');
        for (const event of state.receive(message)) {
          if (event.type === 'publication') offsets.push(event.offset);
          if (event.type === 'subscribed' && event.recovered) recoveredAnswers++;
          if (event.type === 'send') client.send(event.message);
        }
      }
    }
    expect(offsets).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    // Some publications never came live: they were dropped, and came back in a recovered answer.
    const live = client.messages.filter((m) => m.type === 'publication').length;
    expect(live).toBeLessThan(count);
    expect(recoveredAnswers).toBeGreaterThan(0);
  });
});
