/**
 * RedisTopics against a real redis-server: fan-out across adapter instances
 * with their own connections and across a second Node process, idempotent
 * retries, recovery of what pub/sub missed while its connection was killed,
 * an epoch change after a restart without persistence, and retention by count
 * and by age. Every wait is for an event; no test sleeps.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import type { DeliverEffect, StreamPosition, SubscribedEffect } from '@rfc6455/topics';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectNodeRedis, RedisTopics, type RedisTopicsOptions, type TopicsRedisConnection } from '../src/index.js';
import { RedisServer } from './redis-server.js';

const text = new TextEncoder();
const bytes = (s: string) => text.encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * What one process's subscribers received, checked as it arrives: per
 * subscriber and topic, deliveries continue the last position exactly.
 */
class Recorder {
  readonly positions = new Map<string, StreamPosition>();
  readonly subscribed: SubscribedEffect<string>[] = [];
  readonly delivered: { subscriber: string; topic: string; epoch: string; offset: number; data: string }[] = [];
  readonly violations: string[] = [];
  private readonly waiters = new Set<() => void>();

  readonly onSubscribed = (effect: SubscribedEffect<string>) => {
    let offset = effect.publications[0] === undefined ? effect.offset : effect.publications[0].offset - 1;
    for (const publication of effect.publications) {
      if (publication.offset !== offset + 1) this.violations.push(`recovered run jumps at ${publication.offset}`);
      offset = publication.offset;
      this.delivered.push({
        subscriber: effect.subscriber,
        topic: effect.topic,
        epoch: effect.epoch,
        offset: publication.offset,
        data: str(publication.data),
      });
    }
    this.subscribed.push(effect);
    this.positions.set(`${effect.subscriber}|${effect.topic}`, { epoch: effect.epoch, offset: effect.offset });
    this.notify();
  };

  readonly onDeliver = (effect: DeliverEffect<string>) => {
    for (const subscriber of effect.subscribers) {
      const key = `${subscriber}|${effect.topic}`;
      const position = this.positions.get(key);
      const { offset, data } = effect.publication;
      if (position === undefined) this.violations.push(`${key}: delivery before subscribed`);
      else if (position.epoch !== effect.epoch || offset !== position.offset + 1) {
        this.violations.push(`${key}: ${position.epoch}:${position.offset} then ${effect.epoch}:${offset}`);
      }
      this.positions.set(key, { epoch: effect.epoch, offset });
      this.delivered.push({ subscriber, topic: effect.topic, epoch: effect.epoch, offset, data: str(data) });
    }
    this.notify();
  };

  of(subscriber: string, topic: string) {
    return this.delivered.filter((d) => d.subscriber === subscriber && d.topic === topic);
  }

  /** Resolves once `condition` holds, checking after every event. */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (condition()) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

let redis: RedisServer;
const cleanup: (() => Promise<void> | void)[] = [];
let prefixes = 0;

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

afterAll(async () => {
  await redis?.stop();
});

async function connect(url = redis.url): Promise<TopicsRedisConnection> {
  const connection = await connectNodeRedis({
    url,
    // Reconnect quickly, so the tests that break connections wait on events, not on back-off.
    client: { socket: { reconnectStrategy: (retries: number) => Math.min(10 * retries, 100) } },
  });
  cleanup.push(() => connection.close());
  return connection;
}

interface Instance {
  readonly topics: RedisTopics<string>;
  readonly seen: Recorder;
}

async function instance(
  prefix: string,
  options: Partial<RedisTopicsOptions<string>> = {},
  url?: string,
): Promise<Instance> {
  const seen = new Recorder();
  const topics = new RedisTopics<string>({
    connection: await connect(url),
    keyPrefix: prefix,
    onDeliver: seen.onDeliver,
    onSubscribed: seen.onSubscribed,
    ...options,
  });
  cleanup.push(() => topics.close());
  return { topics, seen };
}

async function admin() {
  const client = createClient({ url: redis.url });
  client.on('error', () => {});
  await client.connect();
  cleanup.push(() => client.close());
  return client;
}

const freshPrefix = () => `test${++prefixes}:`;

describe('RedisTopics on a real redis-server', () => {
  it('carries publications from one instance to the subscribers of another, in order', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix);
    const b = await instance(prefix);
    b.topics.subscribe('s1', 'news');
    b.topics.subscribe('s2', 'news');
    await b.seen.until(() => b.seen.subscribed.length === 2);
    expect(b.seen.subscribed.map((s) => [s.recovered, s.offset])).toEqual([
      [false, 0],
      [false, 0],
    ]);
    for (let i = 1; i <= 5; i++) expect((await a.topics.publish('news', bytes(`n${i}`))).offset).toBe(i);
    await b.seen.until(() => b.seen.of('s2', 'news').length === 5);
    expect(b.seen.of('s1', 'news').map((d) => `${d.offset}:${d.data}`)).toEqual([
      '1:n1',
      '2:n2',
      '3:n3',
      '4:n4',
      '5:n5',
    ]);
    expect(b.seen.violations).toEqual([]);
  });

  it('returns the first offset for a retried publish and mints it once', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix);
    const b = await instance(prefix);
    b.topics.subscribe('s', 'orders');
    await b.seen.until(() => b.seen.subscribed.length === 1);
    const first = await a.topics.publish('orders', bytes('order 1'), { idempotencyKey: 'req-1' });
    const retry = await a.topics.publish('orders', bytes('order 1, again'), { idempotencyKey: 'req-1' });
    const next = await a.topics.publish('orders', bytes('order 2'));
    expect(first).toMatchObject({ offset: 1, duplicate: false });
    expect(retry).toEqual({ ...first, duplicate: true });
    expect(next).toMatchObject({ epoch: first.epoch, offset: 2, duplicate: false });
    await b.seen.until(() => b.seen.of('s', 'orders').length === 2);
    expect(b.seen.of('s', 'orders').map((d) => d.data)).toEqual(['order 1', 'order 2']);
    expect((await a.topics.history('orders', 0, 10)).publications.map((p) => str(p.data))).toEqual([
      'order 1',
      'order 2',
    ]);
  });

  it('reads what pub/sub missed after CLIENT KILL TYPE pubsub from the stream, with no gap and no duplicate', async () => {
    const prefix = freshPrefix();
    const redisAdmin = await admin();
    await redisAdmin.sendCommand(['ACL', 'SETUSER', 'topics-b', 'on', '>secret', '~*', '&*', '+@all']);
    cleanup.push(async () => {
      await redisAdmin.sendCommand(['ACL', 'DELUSER', 'topics-b']);
    });
    const a = await instance(prefix);
    const b = await instance(prefix, {}, `redis://topics-b:secret@127.0.0.1:${redis.port}`);
    b.topics.subscribe('s', 'feed');
    await b.seen.until(() => b.seen.subscribed.length === 1);
    await a.topics.publish('feed', bytes('before 1'));
    await a.topics.publish('feed', bytes('before 2'));
    await b.seen.until(() => b.seen.of('s', 'feed').length === 2);

    // B's pub/sub connection dies and cannot come back until its user is enabled again:
    // everything published meanwhile is lost to pub/sub for certain.
    await redisAdmin.sendCommand(['ACL', 'SETUSER', 'topics-b', 'off']);
    expect(await redisAdmin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])).toBeGreaterThanOrEqual(1);
    for (let i = 1; i <= 5; i++) await a.topics.publish('feed', bytes(`missed ${i}`));
    expect(b.seen.of('s', 'feed')).toHaveLength(2);
    await redisAdmin.sendCommand(['ACL', 'SETUSER', 'topics-b', 'on']);

    await b.seen.until(() => b.seen.of('s', 'feed').length === 7);
    await a.topics.publish('feed', bytes('after'));
    await b.seen.until(() => b.seen.of('s', 'feed').length === 8);
    expect(b.seen.of('s', 'feed').map((d) => d.offset)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(b.seen.of('s', 'feed').map((d) => d.data)).toEqual([
      'before 1',
      'before 2',
      'missed 1',
      'missed 2',
      'missed 3',
      'missed 4',
      'missed 5',
      'after',
    ]);
    expect(b.seen.subscribed).toHaveLength(1);
    expect(b.seen.violations).toEqual([]);
  });

  it('recovers subscribers that join with since while publications stream in', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix);
    const b = await instance(prefix, { core: { fetchLimit: 7 } });
    const first = await a.topics.publish('burst', bytes('m1'));
    // Publishes in flight while B's subscribers recover from offset 1: history and live traffic overlap.
    const publishing = Array.from({ length: 150 }, (_, i) => a.topics.publish('burst', bytes(`m${i + 2}`)));
    for (let s = 0; s < 5; s++) b.topics.subscribe(`s${s}`, 'burst', { epoch: first.epoch, offset: 1 });
    await Promise.all(publishing);
    for (let s = 0; s < 5; s++) await b.seen.until(() => b.seen.of(`s${s}`, 'burst').length === 150);
    for (let s = 0; s < 5; s++) {
      expect(b.seen.of(`s${s}`, 'burst').map((d) => d.data)).toEqual(
        Array.from({ length: 150 }, (_, i) => `m${i + 2}`),
      );
    }
    expect(b.seen.subscribed.every((s) => s.recovered)).toBe(true);
    expect(b.seen.violations).toEqual([]);
  });

  it('trims by count, and answers a since older than the history with recovered: false', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix, { maxLength: 3 });
    for (let i = 1; i <= 10; i++) await a.topics.publish('log', bytes(`l${i}`));
    const history = await a.topics.history('log', 0, 100);
    expect(history.latest).toBe(10);
    expect(history.publications.map((p) => p.offset)).toEqual([8, 9, 10]);

    a.topics.subscribe('late', 'log', { epoch: history.epoch, offset: 2 });
    a.topics.subscribe('recent', 'log', { epoch: history.epoch, offset: 8 });
    await a.seen.until(() => a.seen.subscribed.length === 2);
    const late = a.seen.subscribed.find((s) => s.subscriber === 'late');
    const recent = a.seen.subscribed.find((s) => s.subscriber === 'recent');
    expect(late).toMatchObject({ recovered: false, epoch: history.epoch, offset: 10, publications: [] });
    expect(recent).toMatchObject({ recovered: true, epoch: history.epoch, offset: 10 });
    expect(recent?.publications.map((p) => str(p.data))).toEqual(['l9', 'l10']);
  });

  it('trims by age with MINID, on the clock it is given', async () => {
    const prefix = freshPrefix();
    let now = 1_000_000;
    const a = await instance(prefix, { maxAgeMs: 1000, clock: () => now });
    for (let i = 1; i <= 3; i++) await a.topics.publish('ticks', bytes(`old ${i}`));
    now += 5000;
    for (let i = 4; i <= 5; i++) await a.topics.publish('ticks', bytes(`new ${i}`));
    const history = await a.topics.history('ticks', 0, 100);
    expect(history.publications.map((p) => p.offset)).toEqual([4, 5]);

    a.topics.subscribe('late', 'ticks', { epoch: history.epoch, offset: 2 });
    a.topics.subscribe('recent', 'ticks', { epoch: history.epoch, offset: 3 });
    await a.seen.until(() => a.seen.subscribed.length === 2);
    expect(a.seen.subscribed.find((s) => s.subscriber === 'late')).toMatchObject({ recovered: false, offset: 5 });
    const recent = a.seen.subscribed.find((s) => s.subscriber === 'recent');
    expect(recent?.recovered).toBe(true);
    expect(recent?.publications.map((p) => str(p.data))).toEqual(['new 4', 'new 5']);
    const redisAdmin = await admin();
    const ttl = Number(await redisAdmin.sendCommand(['PTTL', `${prefix}{ticks}:stream`]));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
  });

  it('lets the epoch of a topic that was only read expire, and keeps it once published on', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix);
    const redisAdmin = await admin();
    const metaTtl = async () => Number(await redisAdmin.sendCommand(['PTTL', `${prefix}{quiet}:meta`]));
    const read = await a.topics.history('quiet', null, 1);
    expect(read).toMatchObject({ latest: 0, publications: [] });
    expect(await metaTtl()).toBeGreaterThan(0);
    const published = await a.topics.publish('quiet', bytes('q1'));
    expect(published).toMatchObject({ epoch: read.epoch, offset: 1 });
    expect(await metaTtl()).toBe(-1);
  });

  it('delivers what a second Node process publishes', async () => {
    const prefix = freshPrefix();
    const b = await instance(prefix);
    b.topics.subscribe('s', 'jobs');
    await b.seen.until(() => b.seen.subscribed.length === 1);
    const script = fileURLToPath(new URL('./fixtures/publish.mjs', import.meta.url));
    const child = spawn(process.execPath, [script, redis.url, prefix, 'jobs', '4'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(output.trim().split('\n')).toEqual(['1', '2', '3', '4']);
    await b.seen.until(() => b.seen.of('s', 'jobs').length === 4);
    expect(b.seen.of('s', 'jobs').map((d) => d.data)).toEqual([1, 2, 3, 4].map((i) => `from ${child.pid} #${i}`));
    expect(b.seen.violations).toEqual([]);
  });

  // Last: it restarts the server under every other connection.
  it('reports a Redis restart without persistence as recovered: false in a new epoch', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix);
    const b = await instance(prefix);
    b.topics.subscribe('s', 'room');
    await b.seen.until(() => b.seen.subscribed.length === 1);
    const before = await a.topics.publish('room', bytes('r1'));
    await a.topics.publish('room', bytes('r2'));
    await b.seen.until(() => b.seen.of('s', 'room').length === 2);

    await redis.restart();
    // B's pub/sub comes back and reads the topic: a new epoch, which it must not hide.
    await b.seen.until(() => b.seen.subscribed.length === 2);
    const notice = b.seen.subscribed[1]!;
    expect(notice).toMatchObject({ subscriber: 's', topic: 'room', recovered: false, publications: [] });
    expect(notice.epoch).not.toBe(before.epoch);

    const after = await a.topics.publish('room', bytes('r1 again'));
    expect(after.epoch).toBe(notice.epoch);
    expect(after.offset).toBe(notice.offset + 1);
    await b.seen.until(() => b.seen.of('s', 'room').length === 3);
    expect(b.seen.of('s', 'room').at(-1)).toMatchObject({ epoch: after.epoch, offset: after.offset, data: 'r1 again' });

    // A client coming back with its old position is told it cannot be continued.
    b.topics.subscribe('returning', 'room', { epoch: before.epoch, offset: 2 });
    await b.seen.until(() => b.seen.subscribed.length === 3);
    expect(b.seen.subscribed[2]).toMatchObject({ recovered: false, epoch: after.epoch, offset: after.offset });
    expect(b.seen.violations).toEqual([]);
  });
});
