// Deno's built-in WebSocket server (Deno.serve + Deno.upgradeWebSocket), for the
// load generator. Same stdio protocol as server.mjs.
import process from 'node:process';
import { createInterface } from 'node:readline';

const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, (req) => {
  const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
  socket.binaryType = 'arraybuffer';
  socket.onmessage = (e) => socket.send(e.data);
  return response;
});
createInterface({ input: process.stdin })
  .on('close', () => process.exit(0)) // stdin closed: exit normally (so --cpu-prof writes its profile)
  .on('line', () => {
    globalThis.gc?.();
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ cpu: cpu.user + cpu.system, rss: mem.rss, heap: mem.heapUsed })}\n`);
  });
process.stdout.write(`${JSON.stringify({ port: server.addr.port })}\n`);
