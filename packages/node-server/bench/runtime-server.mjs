// This package's Bun or Deno listener (dist/bun.js, dist/deno.js), for the load
// generator: the same stdio protocol as server.mjs; argv 'deflate' accepts
// permessage-deflate (window 15, level 6, threshold 1 KiB, context takeover).
//   bun runtime-server.mjs [deflate]
//   deno run --allow-net=127.0.0.1 --allow-read --allow-env --v8-flags=--expose-gc runtime-server.mjs [deflate]
import process from 'node:process';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const deno = globalThis.Deno;
const deflate = (deno ? deno.args : process.argv.slice(2))[0] === 'deflate';
// BENCH_DIST: another build's directory (run.mjs's rfc6455-bun@DIR), to compare builds side by side.
const dist = process.env.BENCH_DIST
  ? pathToFileURL(`${process.env.BENCH_DIST}/`)
  : new URL('../dist/', import.meta.url);
const listener = await import(new URL(`${deno ? 'deno' : 'bun'}.js`, dist).href);
const { WebSocketServer } = listener;
// BENCH_DEFLATE=pool: compress on the runtime's zlib thread pool (zlibThreadPoolBackend) instead of the default.
const backend = process.env.BENCH_DEFLATE === 'pool' ? { backend: listener.zlibThreadPoolBackend } : {};
const wss = new WebSocketServer({
  hostname: '127.0.0.1',
  port: 0,
  maxMessageSize: 64 * 1024 * 1024,
  heartbeatInterval: 0,
  perMessageDeflate: deflate && { threshold: 1024, level: 6, memLevel: 8, serverMaxWindowBits: 15, ...backend },
});
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
createInterface({ input: process.stdin })
  .on('close', () => process.exit(0)) // stdin closed: exit normally (so --cpu-prof writes its profile)
  .on('line', () => {
    if (globalThis.Bun) globalThis.Bun.gc(true);
    else globalThis.gc?.();
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    process.stdout.write(
      `${JSON.stringify({ cpu: cpu.user + cpu.system, rss: mem.rss, heap: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external })}\n`,
    );
  });
process.stdout.write(`${JSON.stringify({ port: wss.address().port })}\n`);
