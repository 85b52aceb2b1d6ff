// Echo server for the load generator, in its own process so its CPU can be measured.
// argv: 'rfc6455' | 'ws'. Runs under Node; bun-server.mjs and deno-server.mjs are the
// same for Bun's and Deno's built-in servers. Protocol on stdio: prints `{"port":N}`
// once listening; for each line "stats" on stdin, prints one JSON line with
// CPU (µs, user+system), RSS and heap after a GC.
import { createInterface } from 'node:readline';

const kind = process.argv[2];
let port;
if (kind === 'ws') {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise((r) => wss.on('listening', r));
  port = wss.address().port;
} else {
  const { WebSocketServer } = await import('../dist/index.js');
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxMessageSize: 64 * 1024 * 1024, heartbeatInterval: 0 });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  await new Promise((r) => wss.on('listening', r));
  port = wss.address().port;
}
createInterface({ input: process.stdin })
  .on('close', () => process.exit(0)) // stdin closed: exit normally (so --cpu-prof writes its profile)
  .on('line', () => {
  globalThis.gc?.();
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ cpu: cpu.user + cpu.system, rss: mem.rss, heap: mem.heapUsed })}\n`);
});
process.stdout.write(`${JSON.stringify({ port })}\n`);
