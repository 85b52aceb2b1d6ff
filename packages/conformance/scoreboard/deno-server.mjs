// Deno.serve with Deno.upgradeWebSocket as an echo server, for the scoreboard (scoreboard.ts). Run with Deno:
//   deno run --allow-net=127.0.0.1 deno-server.mjs --port 0
// Prints `listening on ws://127.0.0.1:PORT`; text comes back as text, binary as binary.
// Deno.upgradeWebSocket takes no message size limit, so the scoreboard runs the limits family's floods only.
import { parseArgs } from 'node:util';

const { values } = parseArgs({ args: Deno.args, options: { port: { type: 'string', default: '0' } } });

const server = Deno.serve(
  {
    hostname: '127.0.0.1',
    port: Number(values.port),
    onListen: ({ port }) => console.log(`listening on ws://127.0.0.1:${port}`),
  },
  (req) => {
    let upgraded;
    try {
      upgraded = Deno.upgradeWebSocket(req);
    } catch (error) {
      // Deno refused the upgrade (it throws on a request it finds invalid): a 400 with its reason,
      // rather than the 500 an uncaught exception would give.
      return new Response(`${error instanceof Error ? error.message : error}\n`, { status: 400 });
    }
    const { socket, response } = upgraded;
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (ev) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(ev.data);
    };
    socket.onerror = () => {};
    return response;
  },
);
Deno.addSignalListener('SIGTERM', () => {
  server.shutdown().then(() => Deno.exit(0));
});
