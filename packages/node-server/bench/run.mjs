// Echo load generator on raw sockets with pre-built masked frames, against
// this package's server, a ws server (with bufferutil) and, when their binaries
// are installed, Bun's and Deno's built-in servers, each in a child process.
//   pnpm run bench:server   (DURATION ms per case, default 3000; ROUNDS, default 3;
//                            IDLE idle connections, default 5000; SERVERS=rfc6455,ws,bun,deno;
//                            CASES=0,2 to pick cases; NODE_ARGS='--cpu-prof' for the Node servers)
// Rounds are interleaved (every server runs a case before any runs it again,
// in alternating order) and each figure is the median over rounds.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const DURATION = Number(process.env.DURATION ?? 3000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const IDLE = Number(process.env.IDLE ?? 5000);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const NODE_ARGS = (process.env.NODE_ARGS ?? '').split(' ').filter(Boolean);

/** A binary from this package's, a sibling package's or the root's node_modules/.bin. */
function findBin(name) {
  for (const dir of ['../node_modules/.bin', '../../browser-client/node_modules/.bin', '../../../node_modules/.bin']) {
    const path = here(`${dir}/${name}`);
    if (existsSync(path)) return path;
  }
  return undefined;
}

const launchers = {
  rfc6455: () => [process.execPath, ['--expose-gc', ...NODE_ARGS, here('./server.mjs'), 'rfc6455']],
  ws: () => [process.execPath, ['--expose-gc', ...NODE_ARGS, here('./server.mjs'), 'ws']],
  bun: () => {
    const bun = findBin('bun');
    return bun && [bun, [here('./bun-server.mjs')]];
  },
  deno: () => {
    const deno = findBin('deno');
    return deno && [deno, ['run', '--allow-net=127.0.0.1', '--v8-flags=--expose-gc', here('./deno-server.mjs')]];
  },
};

function startServer(kind) {
  const launch = launchers[kind]();
  if (!launch) return undefined;
  const child = spawn(launch[0], launch[1], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  return next().then(({ port }) => ({
    kind,
    child,
    port,
    stats() {
      const p = next();
      child.stdin.write('stats\n');
      return p;
    },
  }));
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

async function idleMemory(server) {
  const before = await server.stats();
  const sockets = [];
  for (let i = 0; i < IDLE; i += 250) sockets.push(...(await Promise.all(Array.from({ length: Math.min(250, IDLE - i) }, () => open(server.port)))));
  await new Promise((r) => setTimeout(r, 500));
  const after = await server.stats();
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 500));
  return { heapPerConn: (after.heap - before.heap) / IDLE, rssPerConn: (after.rss - before.rss) / IDLE };
}

const allCases = [
  { name: '64 B, 1 conn × 1 in flight', size: 64, conns: 1, inflight: 1 },
  { name: '64 B, 50 conns × 16 in flight', size: 64, conns: 50, inflight: 16 },
  { name: '16 KiB, 50 conns × 1 in flight', size: 16 * 1024, conns: 50, inflight: 1 },
  { name: '1 MiB, 1 conn × 2 in flight', size: 1024 * 1024, conns: 1, inflight: 2 },
];
const cases = process.env.CASES ? process.env.CASES.split(',').map((i) => allCases[Number(i)]) : allCases;
const kinds = (process.env.SERVERS ?? 'rfc6455,ws,bun,deno').split(',');

const servers = [];
for (const kind of kinds) {
  const server = await startServer(kind);
  if (server) servers.push(server);
  else console.log(`${kind}: binary not found, skipped`);
}
for (const server of servers) await echo(server.port, allCases[1]); // JIT warm-up, not recorded

const samples = new Map(); // `${kind}|${case}` → [{ perSecond, mib, cpuPerMsg }]
for (let round = 0; round < ROUNDS; round++) {
  for (const c of cases) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      const cpu0 = (await server.stats()).cpu;
      const r = await echo(server.port, c);
      const cpu1 = (await server.stats()).cpu;
      const key = `${server.kind}|${c.name}`;
      if (!samples.has(key)) samples.set(key, []);
      samples.get(key).push({ perSecond: r.perSecond, mib: r.mibPerSecond, cpuPerMsg: (cpu1 - cpu0) / r.messages });
    }
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const rows = [];
for (const c of cases) {
  const wsRate = samples.has(`ws|${c.name}`) ? median(samples.get(`ws|${c.name}`).map((x) => x.perSecond)) : undefined;
  for (const server of servers) {
    const xs = samples.get(`${server.kind}|${c.name}`);
    const rate = median(xs.map((x) => x.perSecond));
    rows.push({
      case: c.name,
      server: server.kind,
      'msg/s': Math.round(rate),
      'MiB/s': median(xs.map((x) => x.mib)).toFixed(1),
      '× ws': wsRate ? (rate / wsRate).toFixed(2) : '',
      'server µs CPU/msg': median(xs.map((x) => x.cpuPerMsg)).toFixed(2),
      'msg/s per round': xs.map((x) => Math.round(x.perSecond)).join(' '),
    });
  }
}
if (IDLE > 0) {
  for (const server of servers) {
    const m = await idleMemory(server);
    rows.push({ case: `${IDLE} idle conns`, server: server.kind, 'heap B/conn': Math.round(m.heapPerConn), 'rss B/conn': Math.round(m.rssPerConn) });
  }
}
for (const server of servers) server.child.stdin.end();
await new Promise((r) => setTimeout(r, 300));
for (const server of servers) server.child.kill();
console.log(`node ${process.version}, ${DURATION} ms per case, ${ROUNDS} interleaved rounds, medians`);
console.table(rows);
