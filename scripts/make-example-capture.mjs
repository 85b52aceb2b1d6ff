#!/usr/bin/env node
// Makes examples/captures/socketio-upgrade.pcapng, the capture the README
// runs `rfc6455 decode --pcap` on: a Socket.IO server and client on
// 127.0.0.1 (the cli package's dev dependencies), captured by dumpcap on the
// loopback interface. The client starts on long-polling, upgrades to
// WebSocket, emits an event, one with an ack and one with binary, joins a
// second namespace and leaves.
//
// `node scripts/make-example-capture.mjs [out.pcapng]` — needs dumpcap
// (Debian's tshark package; `node scripts/ensure-debian-packages.mjs tshark`)
// and the right to capture on lo (root, or the wireshark group).
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = process.argv[2] ?? `${root}examples/captures/socketio-upgrade.pcapng`;
// socket.io is a dev dependency of the cli package, not of the root.
const require = createRequire(`${root}packages/cli/package.json`);
const { Server } = require('socket.io');
const { io } = require('socket.io-client');

const http = createServer();
const server = new Server(http);
server.on('connection', (socket) => {
  socket.on('greet', (name, ack) => ack(`hello, ${name}`));
  socket.on('upload', (meta, bytes) => socket.emit('stored', { ...meta, size: bytes.length }));
});
server.of('/chat').on('connection', (socket) => {
  socket.on('say', (text) => socket.emit('said', text.toUpperCase()));
});
await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
const port = http.address().port;

// dumpcap prints "Capturing on" before its filter is live: a marker
// connection that shows up in its packet count proves it is capturing.
const marker = net.createServer((s) => s.destroy());
await new Promise((resolve) => marker.listen(0, '127.0.0.1', resolve));
const markerPort = marker.address().port;
mkdirSync(dirname(out), { recursive: true });
const dumpcap = spawn('dumpcap', ['-i', 'lo', '-f', `tcp port ${port} or tcp port ${markerPort}`, '-w', out], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let stderr = '';
let count = 0;
const waiters = [];
dumpcap.stderr.on('data', (d) => {
  stderr += d;
  for (const m of String(d).matchAll(/Packets: (\d+)/g)) count = Number(m[1]);
  for (const w of waiters.splice(0)) w();
});
dumpcap.on('exit', (code) => {
  if (code !== 0) console.error(`dumpcap exited with ${code}: ${stderr}`);
  for (const w of waiters.splice(0)) w();
});
const next = () => new Promise((resolve) => waiters.push(resolve));
const poke = () =>
  new Promise((resolve) => {
    const s = net.connect(markerPort, '127.0.0.1');
    s.on('error', resolve);
    s.on('close', resolve);
  });
while (!/Capturing on/.test(stderr)) {
  if (dumpcap.exitCode !== null) process.exit(1);
  await next();
}
while (count === 0) {
  await poke();
  await Promise.race([next(), new Promise((r) => setTimeout(r, 100))]);
}

const socket = io(`http://127.0.0.1:${port}`, { forceNew: true });
const upgraded = new Promise((resolve) => socket.io.once('open', () => socket.io.engine.once('upgrade', resolve)));
await new Promise((resolve) => socket.once('connect', resolve));
await upgraded;
console.log(await socket.emitWithAck('greet', 'capture'));
socket.emit('upload', { name: 'tiny.bin' }, Uint8Array.from([0xde, 0xad, 0xbe, 0xef]));
console.log(await new Promise((resolve) => socket.once('stored', resolve)));
const chat = socket.io.socket('/chat');
await new Promise((resolve) => chat.once('connect', resolve));
chat.emit('say', 'over websocket');
console.log(await new Promise((resolve) => chat.once('said', resolve)));
// Leaving both namespaces closes the session: a close packet, then TCP's FINs.
chat.disconnect();
socket.disconnect();

// A marker after the traffic: once counted, everything before it is in the file.
const before = count;
await poke();
while (count <= before && dumpcap.exitCode === null) await next();
dumpcap.kill('SIGTERM');
await new Promise((resolve) => dumpcap.once('exit', resolve));
marker.close();
await server.close();
chmodSync(out, 0o644);
console.log(`wrote ${out}`);
