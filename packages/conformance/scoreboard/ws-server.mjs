// The `ws` package's echo server, for the scoreboard (scoreboard.ts).
//   node ws-server.mjs --port 0 --max-message-size 70000
// Prints `listening on ws://127.0.0.1:PORT`; text comes back as text, binary as binary.
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, 'max-message-size': { type: 'string' } },
});
const maxPayload = values['max-message-size'] === undefined ? undefined : Number(values['max-message-size']);

// permessage-deflate is off by default in ws; the deflate family needs it offered and accepted.
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(values.port), maxPayload, perMessageDeflate: true });
wss.on('connection', (ws) => {
  // Without a listener, the first invalid frame's error event would crash the process.
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(`listening on ws://127.0.0.1:${wss.address().port}`));
process.once('SIGTERM', () => wss.close(() => process.exit(0)));
