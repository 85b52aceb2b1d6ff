// Echo server for the load generator, in its own process so its CPU can be measured.
// argv: 'rfc6455' | 'ws'. Replies to IPC 'cpu' with process.cpuUsage() and memory.
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
process.on('message', (msg) => {
  if (msg === 'cpu') {
    globalThis.gc?.();
    process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed });
  }
});
process.send({ port });
