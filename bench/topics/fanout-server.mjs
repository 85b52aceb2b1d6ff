/**
 * The fan-out benchmark's server, under Node (`node fanout-server.mjs`:
 * node-server, `wss.publish` on its MemoryTopics) or under Bun (`bun
 * fanout-server.mjs`: `Bun.serve` and `server.publish`). Every connection is
 * subscribed to one topic. Over stdin/stdout, one JSON line each way:
 * `{ "publish": n, "size": bytes }` publishes n messages of that size (one
 * per event-loop turn, so sockets are written between publishes) and answers
 * `{ done: n }`; `{ "stats": true }` answers the process's CPU time (µs) and
 * memory. The first line out is `{ port }`.
 */
import { createInterface } from 'node:readline';

const TOPIC = 'bench';
const isBun = typeof globalThis.Bun !== 'undefined';
const send = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const turn = () => new Promise((resolve) => setImmediate(resolve));

let publish;
let port;
if (isBun) {
  const server = globalThis.Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req, srv) {
      if (srv.upgrade(req)) return undefined;
      return new Response('websocket only', { status: 400 });
    },
    websocket: {
      idleTimeout: 0,
      perMessageDeflate: false,
      // Generous: the benchmark paces itself, nothing should be dropped.
      backpressureLimit: 64 * 1024 * 1024,
      open(ws) {
        ws.subscribe(TOPIC);
      },
      message() {},
    },
  });
  port = server.port;
  publish = (data) => server.publish(TOPIC, data);
} else {
  const { once } = await import('node:events');
  const { WebSocketServer } = await import('../../packages/node-server/dist/index.js');
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    heartbeatInterval: 0,
    maxBufferedAmount: 64 * 1024 * 1024,
  });
  wss.on('connection', (ws) => ws.subscribe(TOPIC));
  await once(wss, 'listening');
  port = wss.address().port;
  publish = (data) => wss.publish(TOPIC, data);
}

createInterface({ input: process.stdin })
  .on('close', () => process.exit(0))
  .on('line', async (line) => {
    const request = JSON.parse(line);
    if (request.stats) {
      const cpu = process.cpuUsage();
      send({ cpu: cpu.user + cpu.system, rss: process.memoryUsage().rss });
      return;
    }
    const payload = new Uint8Array(request.size).fill(0x61);
    for (let i = 0; i < request.publish; i++) {
      publish(payload);
      await turn();
    }
    send({ done: request.publish });
  });
send({ port });
