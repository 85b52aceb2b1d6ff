// Deno's WebSocket as a fuzzing-server echo client, for the scoreboard (scoreboard.ts). Run with Deno:
//   deno run --allow-net=127.0.0.1 deno-client.mjs --url ws://127.0.0.1:9001 --agent deno [--cases 1,2]
import { echoArgs, echoCases } from './web-echo.mjs';

const args = echoArgs(Deno.args);
const ran = await echoCases(WebSocket, { ...args, log: (line) => console.log(line) });
console.log(`done: ${ran} cases`);
