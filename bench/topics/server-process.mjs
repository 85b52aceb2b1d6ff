/**
 * One topics server process for the harness: a node-server WebSocketServer
 * on 127.0.0.1 whose topics hub is a RedisTopics (argv: redis URL). It tells
 * its parent its port over IPC, and publishes what the parent asks
 * (`{ type: 'publish', id, topic, data, key }`), answering with the offset or
 * the error. Needs the packages built.
 */
import { WebSocketServer } from '../../packages/node-server/dist/index.js';
import { connectNodeRedis, RedisTopics } from '../../packages/topics-redis/dist/index.js';

const redisUrl = process.argv[2];
const connection = await connectNodeRedis({
  url: redisUrl,
  // Come back quickly after a Redis restart or a cut connection.
  client: { socket: { reconnectStrategy: (retries) => Math.min(20 * (retries + 1), 200), connectTimeout: 1000 } },
});
const wss = new WebSocketServer({
  port: 0,
  host: '127.0.0.1',
  heartbeatInterval: 0,
  topics: (handlers) =>
    new RedisTopics({ connection, ...handlers, retryDelayMs: (attempt) => Math.min(20 * 2 ** (attempt - 1), 250) }),
});
wss.on('listening', () => process.send?.({ type: 'listening', port: wss.address()?.port }));
process.on('message', (message) => {
  if (message?.type !== 'publish') return;
  const { id, topic, data, key } = message;
  wss.publish(topic, data, { idempotencyKey: key }).then(
    (result) => process.send?.({ type: 'published', id, ...result }),
    (error) => process.send?.({ type: 'failed', id, error: String(error?.message ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
// CPU time so far, for the benchmark's CPU per delivery (a killed process's last report stands).
setInterval(() => {
  const cpu = process.cpuUsage();
  process.send?.({ type: 'cpu', micros: cpu.user + cpu.system });
}, 250).unref();
