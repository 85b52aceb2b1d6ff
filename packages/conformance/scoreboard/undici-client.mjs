// Node's global WebSocket (undici) as a fuzzing-server echo client, for the scoreboard (scoreboard.ts):
//   node --experimental-websocket undici-client.mjs --url ws://127.0.0.1:9001 --agent undici [--cases 1,2]
// (Node 20 needs the flag; from Node 22 the global is there without it.)
import { echoArgs, echoCases } from './web-echo.mjs';

if (typeof WebSocket !== 'function') {
  console.error('no global WebSocket: run Node 20 with --experimental-websocket');
  process.exit(2);
}
const args = echoArgs(process.argv.slice(2));
const ran = await echoCases(WebSocket, { ...args, log: (line) => console.log(line) });
console.log(`done: ${ran} cases`);
