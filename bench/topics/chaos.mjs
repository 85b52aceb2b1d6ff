/**
 * The topics chaos harness: two node-server processes on one real
 * redis-server, each behind a TCP fault proxy (Redis too), a few dozen topics
 * clients (`@rfc6455/browser-client/topics` on ReconnectingWebSockets that
 * alternate between the two servers on every connection) and one publisher
 * per topic, while faults are injected:
 *
 * - every client connection lives 1–3 s, then the proxy destroys it and the
 *   client reconnects, to the other process;
 * - `CLIENT KILL TYPE pubsub` on Redis, and a cut of every Redis connection;
 * - `kill -9` of one server process, restarted a little later;
 * - one Redis restart (no persistence: a new epoch, announced to clients as
 *   `recovered: false`);
 * - publishes that fail or time out are retried with the same idempotency
 *   key, and some successful ones are repeated to check they are not
 *   published twice.
 *
 * Then faults stop, publishers stop, and the harness waits until every client
 * holds every topic's last offset. The publisher logs every offset it was
 * given, each client every event it got; `judge` (oracle.mjs) compares them.
 * Used by the chaos test (browser-client) and by `pnpm bench` (bench/suites).
 * Needs the packages built (`pnpm build`).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { dialNode, ReconnectingWebSocket } from '../../packages/browser-client/dist/node.js';
import { TOPICS_SUBPROTOCOL, TopicsClient } from '../../packages/browser-client/dist/topics.js';
import { startFaultProxy } from './fault-proxy.mjs';
import { judge } from './oracle.mjs';
import { redisCommand, startRedis } from './redis-process.mjs';

const SERVER_SCRIPT = fileURLToPath(new URL('./server-process.mjs', import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small deterministic generator, so that a run's random choices can be replayed from its seed. */
function seeded(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** A server process (server-process.mjs, or another `script` with its IPC protocol): its port once listening, and publishing through IPC. */
export async function startServerProcess(redisUrl, log, script = SERVER_SCRIPT) {
  const child = fork(script, [redisUrl], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  child.stderr?.on('data', (chunk) => log(`server ${child.pid}: ${chunk.toString().trim()}`));
  const pending = new Map();
  let nextId = 0;
  const usage = { cpuMicros: 0 };
  child.on('message', (message) => {
    if (message.type === 'cpu') {
      usage.cpuMicros = message.micros;
      return;
    }
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.type === 'published') waiter.resolve(message);
    else waiter.reject(new Error(message.error));
  });
  child.on('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('the server process exited'));
    pending.clear();
  });
  const [ready] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => {
      throw new Error('the server process exited before listening');
    }),
  ]);
  return {
    child,
    port: ready.port,
    usage,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    publish(topic, data, key, timeoutMs) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          if (pending.delete(id)) reject(new Error('publish timed out'));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        const failed = (error) => {
          if (error && pending.delete(id)) {
            clearTimeout(timer);
            reject(error);
          }
        };
        // A process being killed closes its channel: a send then throws or reports the error.
        try {
          child.send({ type: 'publish', id, topic, data, key }, failed);
        } catch (error) {
          failed(error);
        }
      });
    },
    async kill(signal = 'SIGKILL') {
      if (!this.alive) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}

/**
 * The fault timeline, as fractions of `durationMs` from now: a pubsub kill
 * (0.15), `kill -9` of a server (0.3, `killServer`), its restart (0.45,
 * `startServer`), a Redis restart (0.6), a pubsub kill and a cut of every
 * Redis connection (0.75); resolves at the end of `durationMs`.
 */
export async function injectFaults({ redis, redisProxy, durationMs, counts, log, killServer, startServer }) {
  const started = performance.now();
  const at = async (fraction) => {
    const wait = started + fraction * durationMs - performance.now();
    if (wait > 0) await sleep(wait);
  };
  await at(0.15);
  log('fault: CLIENT KILL TYPE pubsub');
  await redisCommand(redis.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
  counts.pubsubKills++;
  await at(0.3);
  log('fault: kill -9 server 0');
  await killServer();
  counts.serverKills++;
  await at(0.45);
  log('restart server 0');
  await startServer();
  await at(0.6);
  log('fault: redis restart');
  await redis.restart();
  counts.redisRestarts++;
  await at(0.75);
  log('fault: CLIENT KILL TYPE pubsub; every Redis connection cut');
  await redisCommand(redis.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
  counts.pubsubKills++;
  redisProxy.cutAll();
  counts.redisCuts++;
  await at(1);
}

/**
 * Runs one chaos scenario and returns the oracle's report plus the raw counts.
 * All options have defaults sized for a CI test (about 30 s on 2 cores).
 */
export async function runChaos(options = {}) {
  const clientCount = options.clients ?? 24;
  const topics = options.topics ?? ['alpha', 'beta', 'gamma'];
  const durationMs = options.durationMs ?? 16_000;
  const publishIntervalMs = options.publishIntervalMs ?? 40;
  const settleTimeoutMs = options.settleTimeoutMs ?? 20_000;
  const random = seeded(options.seed ?? Date.now());
  const faults = { clientLifetimeMs: [1000, 3000], ...(options.faults ?? {}) };
  const log = options.log ?? (() => {});
  const now = () => performance.now();

  const cleanups = [];
  const counts = {
    pubsubKills: 0,
    redisCuts: 0,
    serverKills: 0,
    redisRestarts: 0,
    publishAttempts: 0,
    publishFailures: 0,
    idempotentRepeats: 0,
    idempotencyViolations: 0,
  };
  try {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const redisProxy = await startFaultProxy({ upstream: redis.port });
    cleanups.push(() => redisProxy.close());
    const redisUrl = `redis://127.0.0.1:${redisProxy.port}`;

    const servers = [await startServerProcess(redisUrl, log), await startServerProcess(redisUrl, log)];
    /** Every server process ever started, for the CPU they used. */
    const everyServer = [...servers];
    cleanups.push(() => Promise.all(servers.map((server) => server.kill('SIGTERM'))));
    const proxies = [];
    for (const server of servers) {
      const proxy = await startFaultProxy({ upstream: server.port, lifetimeMs: faults.clientLifetimeMs, random });
      cleanups.push(() => proxy.close());
      proxies.push(proxy);
    }

    // ---- clients ----------------------------------------------------------------
    /** Per client: events in arrival order. */
    const clientLogs = [];
    const clients = [];
    for (let i = 0; i < clientCount; i++) {
      let dials = i; // half start on each server; every reconnect goes to the other one
      const socket = new ReconnectingWebSocket('ws://127.0.0.1/', TOPICS_SUBPROTOCOL, {
        reconnect: { initialDelay: 20, maxDelay: 300, random },
        transport: (_url, init) => {
          const proxy = proxies[dials++ % proxies.length];
          return dialNode(new URL(`ws://127.0.0.1:${proxy.port}/`), init);
        },
      });
      cleanups.push(() => socket.close());
      const client = new TopicsClient(socket);
      const events = [];
      let replaying;
      client.addEventListener('subscribed', (e) => {
        events.push({
          type: 'subscribed',
          topic: e.topic,
          recovered: e.recovered,
          epoch: e.epoch,
          offset: e.offset,
          t: now(),
        });
        // Publications dispatched right after a subscribed event, in the same turn, are its replay.
        replaying = e.topic;
        queueMicrotask(() => {
          replaying = undefined;
        });
      });
      client.addEventListener('publication', (e) => {
        events.push({
          type: 'publication',
          topic: e.topic,
          epoch: e.epoch,
          offset: e.offset,
          data: e.text(),
          replay: replaying === e.topic,
          t: now(),
        });
      });
      client.addEventListener('error', (e) => events.push({ type: 'error', code: e.code, reason: e.reason, t: now() }));
      socket.addEventListener('disconnect', () => events.push({ type: 'disconnect', t: now() }));
      // Each client takes all topics but one (a different one per client), so audiences differ.
      const mine = topics.length > 1 ? topics.filter((_, index) => index !== i % topics.length) : topics;
      for (const topic of mine) client.subscribe(topic);
      clients.push({ client, socket, topics: mine });
      clientLogs.push({ topics: mine, events });
    }

    // ---- publishers -------------------------------------------------------------
    /** topic → list of { key, epoch, offset, sentAt } the publisher was given. */
    const published = new Map(topics.map((topic) => [topic, []]));
    /** key → time of the first attempt. */
    const sentAt = new Map();
    let publishing = true;
    let serverTurn = 0;
    const publishOnce = async (topic, key) => {
      for (let attempt = 0; ; attempt++) {
        const alive = servers.filter((server) => server.alive);
        const server = alive[serverTurn++ % Math.max(1, alive.length)];
        counts.publishAttempts++;
        try {
          if (server === undefined) throw new Error('no server alive');
          return await server.publish(topic, key, key, 1500);
        } catch {
          counts.publishFailures++;
          // Retried with the same idempotency key: it is published at most once per epoch.
          await sleep(Math.min(25 * 2 ** attempt, 250));
        }
      }
    };
    const publisher = async (topic) => {
      for (let seq = 0; publishing; seq++) {
        const key = `${topic}-${seq}`;
        sentAt.set(key, now());
        const result = await publishOnce(topic, key);
        published.get(topic).push({ key, epoch: result.epoch, offset: result.offset, sentAt: sentAt.get(key) });
        if (random() < 0.1) {
          // A client that did not hear the answer asks again: the same offset, nothing new published.
          const again = await publishOnce(topic, key);
          counts.idempotentRepeats++;
          if (again.epoch === result.epoch && (again.offset !== result.offset || !again.duplicate)) {
            counts.idempotencyViolations++;
          }
        }
        await sleep(publishIntervalMs);
      }
    };
    const publishers = topics.map((topic) => publisher(topic));

    // ---- faults -----------------------------------------------------------------
    const started = now();
    await injectFaults({
      redis,
      redisProxy,
      durationMs,
      counts,
      log,
      killServer: () => servers[0].kill('SIGKILL'),
      startServer: async () => {
        servers[0] = await startServerProcess(redisUrl, log);
        everyServer.push(servers[0]);
        proxies[0].setUpstream(servers[0].port);
      },
    });

    // ---- settle -----------------------------------------------------------------
    for (const proxy of proxies) proxy.setLifetime(null);
    publishing = false;
    await Promise.all(publishers);
    const last = new Map(topics.map((topic) => [topic, published.get(topic).at(-1)]));
    const settledBy = now() + settleTimeoutMs;
    const caughtUp = () =>
      clients.every(({ client, topics: mine }) =>
        mine.every((topic) => {
          const position = client.positionOf(topic);
          const final = last.get(topic);
          return final === undefined || (position?.epoch === final.epoch && position.offset >= final.offset);
        }),
      );
    while (!caughtUp() && now() < settledBy) await sleep(50);
    const settled = caughtUp();
    const runSeconds = (now() - started) / 1000;
    const proxyStats = proxies.map((proxy) => proxy.stats());
    return {
      settled,
      counts: {
        ...counts,
        clientConnectionsCut: proxyStats.reduce((sum, s) => sum + s.cut, 0),
        clientConnections: proxyStats.reduce((sum, s) => sum + s.accepted, 0),
        serverCpuMicros: everyServer.reduce((sum, server) => sum + server.usage.cpuMicros, 0),
        runSeconds,
      },
      ...judge({ published, sentAt, clientLogs }),
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
