/**
 * One-process fan-out: 1 publisher, many subscribers on raw TCP WebSockets,
 * node-server's `wss.publish` against Bun's `server.publish`. The server
 * (fanout-server.mjs) runs in a child process; the subscribers here only
 * count bytes, so the client side costs as little as it can. A warm-up
 * publication gives each server's frame size for the payload (node-server's
 * carries the rfc6455.topics.v1 envelope: topic, epoch and offset, ~30 bytes
 * more than Bun's bare payload). Then `messages` publications are timed
 * until every subscriber holds every byte; the server's CPU time over that
 * interval is divided by the deliveries.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./fanout-server.mjs', import.meta.url));
const BUN = fileURLToPath(new URL('../../packages/browser-client/node_modules/.bin/bun', import.meta.url));

export const bunAvailable = () => existsSync(BUN);

function startServer(runtime) {
  // NODE_ARGS (e.g. --cpu-prof) go to a Node server, as in node-server's benchmark.
  const nodeArgs = (process.env.NODE_ARGS ?? '').split(' ').filter(Boolean);
  const [command, args] = runtime === 'bun' ? [BUN, [SERVER]] : [process.execPath, [...nodeArgs, SERVER]];
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const ask = (request) => {
    const answer = next();
    child.stdin.write(`${JSON.stringify(request)}\n`);
    return answer;
  };
  return next().then(({ port }) => ({
    port,
    ask,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      await exited;
    },
  }));
}

/** A subscriber: a raw socket that sent an upgrade request and counts the bytes after the response head. */
function subscriber(port, counters, index) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let head = true;
    let pending = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () =>
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk) => {
      if (head) {
        pending = Buffer.concat([pending, chunk]);
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = false;
        if (!pending.subarray(0, 12).toString().includes('101')) reject(new Error('no 101'));
        chunk = pending.subarray(end + 4);
        resolve(socket);
      }
      counters[index] += chunk.length;
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition) {
  while (!condition()) await sleep(5);
}

/** Runs one case; resolves to `{ deliveriesPerSecond, cpuMicrosPerDelivery, frameBytes }`. */
export async function runFanout({ runtime, subscribers = 1000, size, messages }) {
  const server = await startServer(runtime);
  const counters = new Array(subscribers).fill(0);
  const sockets = [];
  try {
    for (let i = 0; i < subscribers; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(subscribers, i + 50); j++) batch.push(subscriber(server.port, counters, j));
      sockets.push(...(await Promise.all(batch)));
    }
    // node-server answers each subscribe with an envelope; let those land, then start from zero.
    await sleep(300);
    counters.fill(0);
    await server.ask({ publish: 1, size });
    await until(() => counters.every((count) => count > 0));
    await sleep(100);
    const frameBytes = counters[0];
    counters.fill(0);
    const total = frameBytes * messages * subscribers;
    const before = await server.ask({ stats: true });
    const started = performance.now();
    const done = server.ask({ publish: messages, size });
    await until(() => counters.reduce((sum, count) => sum + count, 0) >= total);
    const seconds = (performance.now() - started) / 1000;
    await done;
    const after = await server.ask({ stats: true });
    const deliveries = messages * subscribers;
    return {
      runtime,
      size,
      subscribers,
      messages,
      frameBytes,
      deliveriesPerSecond: deliveries / seconds,
      cpuMicrosPerDelivery: (after.cpu - before.cpu) / deliveries,
      rss: after.rss,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.stop();
  }
}
