/**
 * The chaos scenario with Socket.IO 4 and its Redis adapter, as a labelled
 * baseline for the benchmark (root devDependencies only; nothing of the
 * project uses it). Same parts and faults as chaos.mjs: two server processes
 * (socketio-server.mjs) on one redis-server behind a fault proxy, clients
 * (socket.io-client, WebSocket transport, connection state recovery on the
 * server) behind a proxy that sends each new connection to the other server
 * and cuts it after 1–3 s, one publisher per topic, and the same fault
 * timeline. Socket.IO has no offsets and no idempotent publish: a publish
 * that failed is sent again on the other server, and the oracle counts, per
 * client and topic, the publications sent after it first joined that it
 * received (delivered %), and those it received twice.
 */
import { fileURLToPath } from 'node:url';
import { injectFaults, startServerProcess } from './chaos.mjs';
import { startFaultProxy } from './fault-proxy.mjs';
import { percentile } from './oracle.mjs';
import { startRedis } from './redis-process.mjs';

const SERVER_SCRIPT = fileURLToPath(new URL('./socketio-server.mjs', import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function socketIoAvailable() {
  try {
    await Promise.all([import('socket.io'), import('socket.io-client'), import('@socket.io/redis-adapter')]);
    return true;
  } catch {
    return false;
  }
}

export async function runSocketIoChaos(options = {}) {
  const { io } = await import('socket.io-client');
  const clientCount = options.clients ?? 24;
  const topics = options.topics ?? ['alpha', 'beta', 'gamma'];
  const durationMs = options.durationMs ?? 16_000;
  const publishIntervalMs = options.publishIntervalMs ?? 40;
  const settleTimeoutMs = options.settleTimeoutMs ?? 5_000;
  const log = options.log ?? (() => {});
  const now = () => performance.now();
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
  const cleanups = [];
  try {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const redisProxy = await startFaultProxy({ upstream: redis.port });
    cleanups.push(() => redisProxy.close());
    const redisUrl = `redis://127.0.0.1:${redisProxy.port}`;
    const servers = [
      await startServerProcess(redisUrl, log, SERVER_SCRIPT),
      await startServerProcess(redisUrl, log, SERVER_SCRIPT),
    ];
    const everyServer = [...servers];
    cleanups.push(() => Promise.all(servers.map((server) => server.kill('SIGTERM'))));
    const front = await startFaultProxy({ upstream: servers.map((s) => s.port), lifetimeMs: [1000, 3000] });
    cleanups.push(() => front.close());

    const clientLogs = [];
    const sockets = [];
    for (let i = 0; i < clientCount; i++) {
      const mine = topics.length > 1 ? topics.filter((_, index) => index !== i % topics.length) : topics;
      const events = [];
      const socket = io(`http://127.0.0.1:${front.port}`, {
        transports: ['websocket'],
        reconnectionDelay: 20,
        reconnectionDelayMax: 300,
      });
      cleanups.push(() => socket.close());
      socket.on('connect', () => {
        events.push({ type: 'connect', recovered: socket.recovered, t: now() });
        socket.emit('join', mine);
      });
      socket.on('disconnect', () => events.push({ type: 'disconnect', t: now() }));
      socket.on('pub', (topic, key) => events.push({ type: 'pub', topic, key, t: now() }));
      sockets.push(socket);
      clientLogs.push({ topics: mine, events });
    }
    // Every client joined before publishing starts, as in chaos.mjs where each got its first answer.
    const joinedBy = now() + 10_000;
    while (clientLogs.some((c) => !c.events.some((e) => e.type === 'connect')) && now() < joinedBy) await sleep(20);
    await sleep(200);

    const published = new Map(topics.map((topic) => [topic, []]));
    let publishing = true;
    let serverTurn = 0;
    const publisher = async (topic) => {
      for (let seq = 0; publishing; seq++) {
        const key = `${topic}-${seq}`;
        const sentAt = now();
        for (let attempt = 0; ; attempt++) {
          const alive = servers.filter((server) => server.alive);
          const server = alive[serverTurn++ % Math.max(1, alive.length)];
          counts.publishAttempts++;
          try {
            if (server === undefined) throw new Error('no server alive');
            await server.publish(topic, key, key, 1500);
            break;
          } catch {
            counts.publishFailures++;
            await sleep(Math.min(25 * 2 ** attempt, 250));
          }
        }
        published.get(topic).push({ key, sentAt });
        await sleep(publishIntervalMs);
      }
    };
    const publishers = topics.map((topic) => publisher(topic));
    const started = now();
    await injectFaults({
      redis,
      redisProxy,
      durationMs,
      counts,
      log,
      killServer: () => servers[0].kill('SIGKILL'),
      startServer: async () => {
        servers[0] = await startServerProcess(redisUrl, log, SERVER_SCRIPT);
        everyServer.push(servers[0]);
        front.setUpstream(servers.map((s) => s.port));
      },
    });
    front.setLifetime(null);
    publishing = false;
    await Promise.all(publishers);
    const lastKeys = new Map(topics.map((topic) => [topic, published.get(topic).at(-1)?.key]));
    const caughtUp = () =>
      clientLogs.every(({ topics: mine, events }) =>
        mine.every((topic) => events.some((e) => e.type === 'pub' && e.key === lastKeys.get(topic))),
      );
    const settleBy = now() + settleTimeoutMs;
    while (!caughtUp() && now() < settleBy) await sleep(50);
    const runSeconds = (now() - started) / 1000;
    const proxyStats = front.stats();
    return {
      settled: caughtUp(),
      counts: {
        ...counts,
        clientConnectionsCut: proxyStats.cut,
        clientConnections: proxyStats.accepted,
        serverCpuMicros: everyServer.reduce((sum, server) => sum + server.usage.cpuMicros, 0),
        runSeconds,
      },
      ...judgeSocketIo(published, clientLogs),
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

/** Per client and topic: publications sent after its first connect, received or not, and received twice. */
function judgeSocketIo(published, clientLogs) {
  let deliveries = 0;
  let duplicates = 0;
  let missing = 0;
  let expected = 0;
  let recoveredConnects = 0;
  let unrecoveredReconnects = 0;
  const latency = [];
  const sentAt = new Map();
  for (const records of published.values()) for (const r of records) sentAt.set(r.key, r.sentAt);
  for (const { topics, events } of clientLogs) {
    const connects = events.filter((e) => e.type === 'connect');
    recoveredConnects += connects.filter((e) => e.recovered).length;
    unrecoveredReconnects += connects.slice(1).filter((e) => !e.recovered).length;
    const firstConnect = connects[0]?.t ?? Number.POSITIVE_INFINITY;
    for (const topic of topics) {
      const seen = new Set();
      for (const event of events) {
        if (event.type !== 'pub' || event.topic !== topic) continue;
        deliveries++;
        if (seen.has(event.key)) duplicates++;
        seen.add(event.key);
        const sent = sentAt.get(event.key);
        if (sent !== undefined) latency.push(event.t - sent);
      }
      for (const record of published.get(topic) ?? []) {
        if (record.sentAt < firstConnect) continue;
        expected++;
        if (!seen.has(record.key)) missing++;
      }
    }
  }
  return {
    totals: { deliveries, duplicates, missing, expected, recoveredConnects, unrecoveredReconnects },
    deliveredPercent: expected === 0 ? 100 : (100 * (expected - missing)) / expected,
    latency: { liveP50: percentile(latency, 50), liveP99: percentile(latency, 99) },
    publications: [...published.values()].reduce((sum, records) => sum + records.length, 0),
  };
}

/** The baseline's report as rows: [what, value]. */
export function socketIoRows(result) {
  const { totals, counts, latency } = result;
  return [
    ['publications sent', result.publications],
    ['publish attempts / failed (sent again)', `${counts.publishAttempts} / ${counts.publishFailures}`],
    ['client connections / cut by the proxy', `${counts.clientConnections} / ${counts.clientConnectionsCut}`],
    [
      'server kill -9 / Redis restarts / pubsub kills / Redis cuts',
      `${counts.serverKills} / ${counts.redisRestarts} / ${counts.pubsubKills} / ${counts.redisCuts}`,
    ],
    ['deliveries', totals.deliveries],
    ['delivered (of those sent after the client joined)', `${result.deliveredPercent.toFixed(2)} %`],
    ['missing (no notice to the application)', totals.missing],
    ['duplicates', totals.duplicates],
    ['reconnects recovered / not recovered', `${totals.recoveredConnects} / ${totals.unrecoveredReconnects}`],
    ['latency p50 / p99', `${latency.liveP50.toFixed(1)} ms / ${latency.liveP99.toFixed(1)} ms`],
    ['settled (every client got every last publication)', result.settled ? 'yes' : 'NO'],
  ];
}
