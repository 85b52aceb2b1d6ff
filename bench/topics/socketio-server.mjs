/**
 * The baseline's server process: Socket.IO 4 on node:http with the Redis
 * adapter (`@socket.io/redis-adapter`, pub/sub across processes) and
 * connection state recovery on. Clients join rooms (one per topic) with a
 * `join` event; the parent asks over IPC for `io.to(topic).emit('pub', topic,
 * key)`. Same IPC protocol as server-process.mjs. Not part of the project:
 * a point of comparison for the benchmark only.
 */
import { createServer } from 'node:http';
import { createClient } from '@redis/client';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';

const url = process.argv[2];
const pub = createClient({
  url,
  socket: { reconnectStrategy: (retries) => Math.min(20 * (retries + 1), 200), connectTimeout: 1000 },
});
const sub = pub.duplicate();
pub.on('error', () => {});
sub.on('error', () => {});
await Promise.all([pub.connect(), sub.connect()]);
const http = createServer();
const io = new Server(http, {
  adapter: createAdapter(pub, sub),
  transports: ['websocket'],
  connectionStateRecovery: { maxDisconnectionDuration: 120_000 },
});
io.on('connection', (socket) => {
  socket.on('join', (topics) => {
    for (const topic of topics) socket.join(topic);
  });
});
http.listen(0, '127.0.0.1', () => process.send?.({ type: 'listening', port: http.address().port }));
process.on('message', (message) => {
  if (message?.type !== 'publish') return;
  io.to(message.topic).emit('pub', message.topic, message.key);
  process.send?.({ type: 'published', id: message.id });
});
process.on('disconnect', () => process.exit(0));
setInterval(() => {
  const cpu = process.cpuUsage();
  process.send?.({ type: 'cpu', micros: cpu.user + cpu.system });
}, 250).unref();
