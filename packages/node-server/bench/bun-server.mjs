// Bun's built-in WebSocket server (Bun.serve), for the load generator: the ceiling.
// Same stdio protocol as server.mjs; argv 'deflate' accepts permessage-deflate with
// per-connection ("dedicated") compressor and decompressor, i.e. context takeover.
import { createInterface } from 'node:readline';

const deflate = process.argv[2] === 'deflate';

const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response('websocket only', { status: 400 });
  },
  websocket: {
    maxPayloadLength: 64 * 1024 * 1024,
    perMessageDeflate: deflate ? { compress: 'dedicated', decompress: 'dedicated' } : false,
    idleTimeout: 0,
    message(ws, data) {
      ws.send(data, deflate);
    },
  },
});
createInterface({ input: process.stdin })
  .on('close', () => process.exit(0)) // stdin closed: exit normally (so --cpu-prof writes its profile)
  .on('line', () => {
    Bun.gc(true);
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    process.stdout.write(
      `${JSON.stringify({ cpu: cpu.user + cpu.system, rss: mem.rss, heap: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external })}\n`,
    );
  });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
