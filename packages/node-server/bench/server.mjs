// Echo server for the load generator, in its own process so its CPU and memory
// can be measured apart from the load generator's.
// argv: 'rfc6455' | 'rfc6455-sync' | 'rfc6455-pako' | 'rfc6455-h2' | 'ws', then optionally 'deflate' (permessage-deflate
// accepted: window 15, level 6, threshold 1 KiB, context takeover, on both servers).
// 'rfc6455-h2' is this package attached to a cleartext node:http2 server with
// the extended CONNECT setting (RFC 8441): WebSockets arrive as HTTP/2 streams.
// Runs under Node; bun-server.mjs and deno-server.mjs are the same for Bun's and
// Deno's built-in servers. Protocol on stdio: prints `{"port":N}` once listening;
// for each line "stats" on stdin, prints one JSON line with CPU (µs, user+system),
// RSS, heap used, external and array buffers after a GC; "snapshot PATH" writes a
// heap snapshot there (after a GC) and prints `{}` when done.
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

const kind = process.argv[2];
const deflate = process.argv[3] === 'deflate';
let port;
if (kind === 'ws') {
  const { WebSocketServer } = await import('ws');
  const perMessageDeflate = deflate && {
    threshold: 1024,
    zlibDeflateOptions: { level: 6, memLevel: 8, windowBits: 15 },
    serverMaxWindowBits: 15,
  };
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise((r) => wss.on('listening', r));
  port = wss.address().port;
} else {
  const { WebSocketServer, zlibBackend, zlibThreadPoolBackend } = await import('../dist/index.js');
  const { pakoBackend } = await import('@rfc6455/codec');
  const backend = kind === 'rfc6455-pako' ? pakoBackend : kind === 'rfc6455-sync' ? zlibBackend : zlibThreadPoolBackend;
  const perMessageDeflate = deflate && { threshold: 1024, level: 6, memLevel: 8, serverMaxWindowBits: 15, backend };
  const common = { maxMessageSize: 64 * 1024 * 1024, heartbeatInterval: 0, perMessageDeflate };
  if (kind === 'rfc6455-h2') {
    const { createServer } = await import('node:http2');
    // HTTP/2's default windows (64 KiB per stream and per connection) would let
    // 50 streams share 64 KiB in flight; a WebSocket server sets larger ones.
    const server = createServer({ settings: { enableConnectProtocol: true, initialWindowSize: 1 << 20 } });
    server.on('session', (session) => session.setLocalWindowSize(32 << 20));
    const wss = new WebSocketServer({ server, ...common });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = server.address().port;
  } else {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...common });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
    await new Promise((r) => wss.on('listening', r));
    port = wss.address().port;
  }
}
createInterface({ input: process.stdin })
  .on('close', () => process.exit(0)) // stdin closed: exit normally (so --cpu-prof writes its profile)
  .on('line', (line) => {
    globalThis.gc?.();
    if (line.startsWith('snapshot ')) {
      writeHeapSnapshot(line.slice('snapshot '.length));
      process.stdout.write('{}\n');
      return;
    }
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    process.stdout.write(
      `${JSON.stringify({ cpu: cpu.user + cpu.system, rss: mem.rss, heap: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers, spaces: process.env.BENCH_SPACES ? Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, x.physical_space_size])) : undefined })}\n`,
    );
  });
process.stdout.write(`${JSON.stringify({ port })}\n`);
