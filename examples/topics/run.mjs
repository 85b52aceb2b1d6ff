/**
 * The topics example, scripted: a redis-server on a free port, two chat
 * server processes behind it, and two users. Alice talks to server A, Bob
 * listens on server A too; server A is killed (kill -9) while Alice keeps
 * talking through server B. Bob reconnects to server B and gets what he
 * missed, in order, with no duplicate: his client resubscribed since the
 * last offset it held.
 *
 *   pnpm run example:topics
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startRedis } from '../../bench/topics/redis-process.mjs';
import { chatClient } from './client.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const started = Date.now();
const say = (who, line) =>
  console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${who.padEnd(8)} ${line}`);

async function startServer(name, redisUrl) {
  const child = fork(fileURLToPath(new URL('./server.mjs', import.meta.url)), [name, redisUrl]);
  const [message] = await once(child, 'message');
  say(name, `listening on ws://127.0.0.1:${message.port} (pid ${child.pid})`);
  return { name, port: message.port, child };
}

const redis = await startRedis();
say('redis', `redis-server on 127.0.0.1:${redis.port} (no persistence)`);
const a = await startServer('server A', redis.url);
const b = await startServer('server B', redis.url);
try {
  // Bob waits a second and a half before reconnecting, so that he misses a few messages.
  const bob = chatClient({
    user: 'bob',
    room: 'general',
    servers: [a, b],
    print: (line) => say('bob', line),
    reconnectDelay: 1500,
  });
  const alice = chatClient({ user: 'alice', room: 'general', servers: [b, a], print: () => {} });
  await sleep(500);
  for (const text of ['hi Bob', 'are you there?']) {
    say('alice', `says "${text}" (via server B)`);
    alice.say(text);
    await sleep(400);
  }
  say('server A', 'kill -9: Bob loses his connection');
  a.child.kill('SIGKILL');
  for (const text of ['server A is down', 'but Redis kept the room', 'you will get these']) {
    say('alice', `says "${text}" (via server B)`);
    alice.say(text);
    await sleep(150);
  }
  await sleep(2500);
  say('alice', 'says "welcome back" (live)');
  alice.say('welcome back');
  await sleep(500);
  bob.close();
  alice.close();
  say('done', 'Bob got every message once, in order, across the kill: resumed from the offset he held.');
} finally {
  a.child.kill('SIGKILL');
  b.child.kill('SIGTERM');
  await redis.stop();
}
