// Bun's WebSocket as a fuzzing-server echo client, for the scoreboard (scoreboard.ts). Run with Bun:
//   bun bun-client.mjs --url ws://127.0.0.1:9001 --agent bun [--cases 1,2]
import { echoArgs, echoCases } from './web-echo.mjs';

const args = echoArgs(Bun.argv.slice(2));
const ran = await echoCases(WebSocket, { ...args, log: (line) => console.log(line) });
console.log(`done: ${ran} cases`);
