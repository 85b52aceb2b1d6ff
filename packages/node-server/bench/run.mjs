// Echo load generator on raw sockets with pre-built masked frames, against
// this package's server and a ws server (with bufferutil), each in a child process.
//   pnpm run bench:server            (DURATION=ms per case, default 3000)
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const DURATION = Number(process.env.DURATION ?? 3000);
const IDLE = Number(process.env.IDLE ?? 5000);
const serverScript = fileURLToPath(new URL('./server.mjs', import.meta.url));

function startServer(kind) {
  const child = fork(serverScript, [kind], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', ({ port }) => resolve({ child, port })));
}
function ask(child) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send('cpu');
  });
}

function maskedFrame(size) {
  const payload = randomBytes(size);
  let header;
  if (size < 126) header = Buffer.from([0x82, 0x80 | size]);
  else if (size < 65536) header = Buffer.from([0x82, 0x80 | 126, size >> 8, size & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = 0x82;
    header[1] = 0x80 | 127;
    header.writeUInt32BE(size, 6);
  }
  const key = randomBytes(4);
  for (let i = 0; i < size; i++) payload[i] ^= key[i & 3];
  return Buffer.concat([header, key, payload]);
}
const replySize = (size) => size + (size < 126 ? 2 : size < 65536 ? 4 : 10);

async function open(port) {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('connect', r));
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise((resolve) => {
    let head = '';
    const onData = (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  return socket;
}

/** Echo round trips: `conns` connections, each keeping `inflight` messages of `size` bytes outstanding. */
async function echo(port, { size, conns, inflight }) {
  const frame = maskedFrame(size);
  const reply = replySize(size);
  const sockets = await Promise.all(Array.from({ length: conns }, () => open(port)));
  let done = 0;
  let running = true;
  for (const s of sockets) {
    let pending = 0; // bytes of replies received not yet counted
    s.on('data', (d) => {
      pending += d.length;
      const n = Math.floor(pending / reply);
      if (n === 0) return;
      pending -= n * reply;
      done += n;
      if (running) {
        if (n === 1) s.write(frame);
        else s.write(Buffer.concat(Array.from({ length: n }, () => frame)));
      }
    });
    s.write(Buffer.concat(Array.from({ length: inflight }, () => frame)));
  }
  const start = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, DURATION));
  running = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 200));
  return { messages: done, perSecond: done / seconds, mibPerSecond: (done * size) / seconds / 1048576 };
}

async function idleMemory(child, port) {
  const before = await ask(child);
  const sockets = [];
  for (let i = 0; i < IDLE; i += 250) sockets.push(...(await Promise.all(Array.from({ length: Math.min(250, IDLE - i) }, () => open(port)))));
  await new Promise((r) => setTimeout(r, 500));
  const after = await ask(child);
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 500));
  return { heapPerConn: (after.heap - before.heap) / IDLE, rssPerConn: (after.rss - before.rss) / IDLE };
}

const cases = [
  { name: '64 B, 1 conn × 1 in flight', size: 64, conns: 1, inflight: 1 },
  { name: '64 B, 50 conns × 16 in flight', size: 64, conns: 50, inflight: 16 },
  { name: '16 KiB, 50 conns × 1 in flight', size: 16 * 1024, conns: 50, inflight: 1 },
  { name: '1 MiB, 1 conn × 2 in flight', size: 1024 * 1024, conns: 1, inflight: 2 },
];

const rows = [];
for (const kind of ['rfc6455', 'ws']) {
  const { child, port } = await startServer(kind);
  await echo(port, { ...cases[1], warmup: true }); // JIT warm-up, not recorded
  for (const c of cases) {
    const cpu0 = (await ask(child)).cpu;
    const r = await echo(port, c);
    const cpu1 = (await ask(child)).cpu;
    const cpuUs = cpu1.user - cpu0.user + (cpu1.system - cpu0.system);
    rows.push({ server: kind, case: c.name, 'msg/s': Math.round(r.perSecond), 'MiB/s': r.mibPerSecond.toFixed(1), 'server µs CPU/msg': (cpuUs / r.messages).toFixed(2) });
  }
  if (IDLE > 0) {
    const m = await idleMemory(child, port);
    rows.push({ server: kind, case: `${IDLE} idle conns`, 'heap B/conn': Math.round(m.heapPerConn), 'rss B/conn': Math.round(m.rssPerConn) });
  }
  child.kill();
}
console.log(`node ${process.version}, ${DURATION} ms per case`);
console.table(rows);
