#!/usr/bin/env node
// Echo server: text comes back as text, binary as binary.
//   pnpm run echo-server --port 9001 [--host 0.0.0.0] [--no-deflate]
// permessage-deflate is accepted when offered (node:zlib, the codec's defaults:
// context takeover, window 15, level 6, messages from 1 KiB); --no-deflate declines it.
import { parseArgs } from 'node:util';
import { WebSocketServer } from '../dist/index.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    port: { type: 'string', default: '9001' },
    host: { type: 'string', default: '127.0.0.1' },
    'no-deflate': { type: 'boolean', default: false },
    'max-message-size': { type: 'string' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port ${values.port}`);
  process.exit(2);
}
const maxMessageSize = values['max-message-size'] === undefined ? undefined : Number(values['max-message-size']);

const wss = new WebSocketServer({ port, host: values.host, maxMessageSize, perMessageDeflate: !values['no-deflate'] });
wss.on('connection', (ws) => {
  ws.on('message', (data) => ws.send(data));
});
wss.on('listening', () => {
  const { address, port: bound } = wss.address();
  console.log(`echo server listening on ws://${address.includes(':') ? `[${address}]` : address}:${bound}`);
});
wss.on('error', (error) => {
  console.error(error.message);
  process.exit(1);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    wss.close({ timeout: 2000 }).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
