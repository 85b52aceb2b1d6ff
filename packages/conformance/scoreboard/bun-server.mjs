// Bun.serve's echo server, for the scoreboard (scoreboard.ts). Run with Bun:
//   bun bun-server.mjs --port 0 --max-message-size 70000
// Prints `listening on ws://127.0.0.1:PORT`; text comes back as text, binary as binary.
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { port: { type: 'string', default: '0' }, 'max-message-size': { type: 'string' } },
});

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(values.port),
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    // Bun refused the upgrade (not a valid WebSocket request by its rules): say so with a 400.
    return new Response('not a WebSocket upgrade\n', { status: 400 });
  },
  websocket: {
    ...(values['max-message-size'] === undefined ? {} : { maxPayloadLength: Number(values['max-message-size']) }),
    perMessageDeflate: true,
    // A string for a text message, a Buffer for a binary one: send() keeps the type.
    message(ws, message) {
      ws.send(message);
    },
  },
});
console.log(`listening on ws://127.0.0.1:${server.port}`);
process.once('SIGTERM', () => {
  server.stop(true);
  process.exit(0);
});
