// Echo load generator on raw sockets with pre-built masked frames, against
// this package's server, a ws server (with bufferutil) and, when their binaries
// are installed, Bun's and Deno's built-in servers and this package's Bun and
// Deno listeners (rfc6455-bun, rfc6455-deno), each in a child process.
//   pnpm run bench:server   (DURATION ms per case, default 3000; ROUNDS, default 3;
//                            IDLE idle connections, default 5000; H2_STREAMS, default 2000;
//                            SERVERS=rfc6455,rfc6455-h2,ws,bun,rfc6455-bun,deno,rfc6455-deno;
//                            CASES=0,2 to pick cases; NODE_ARGS='--cpu-prof' for the Node servers,
//                            BUN_ARGS and DENO_ARGS likewise for this package's Bun and Deno listeners;
//                            rfc6455-bun@DIR or rfc6455-deno@DIR runs the listener built in DIR instead
//                            of ../dist, e.g. to compare a change with a build of the code before it)
// Rounds are interleaved (every server runs a case before any runs it again,
// in alternating order) and each figure is the median over rounds.
// Compressed cases (permessage-deflate, context takeover, window 15, level 6,
// threshold 1 KiB on every server) run against servers started with deflate on:
// this package on node:zlib and on pako, ws, and Bun. Memory is always measured
// in a fresh server process of its own (never the one that carried load), as the
// change in that process's heap (after a GC) and RSS; the load generator's own
// memory is never counted.
// HTTP/2 (RFC 8441): the rfc6455-h2 server is this package on a cleartext
// node:http2 server; its cases multiplex the WebSockets as streams of one
// HTTP/2 connection opened by node:http2 (the same frames, h2 flow control
// as backpressure), beside the same shape over as many HTTP/1.1 connections.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deflateRawSync, constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { connect as connectHttp2 } from 'node:http2';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodeFrame, encodeFrameHeader, Opcode, parseFrameHeader } from '@rfc6455/codec/frames';
import {
  buildUpgradeRequest,
  createResponseHeadParser,
  toWebSocketUrl,
  validateUpgradeResponse,
} from '@rfc6455/codec/http';

const DURATION = Number(process.env.DURATION ?? 3000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const IDLE = Number(process.env.IDLE ?? 5000);
const DEFLATE_CONNS = Number(process.env.DEFLATE_CONNS ?? 2000);
const H2_STREAMS = Number(process.env.H2_STREAMS ?? 2000);
const H2_PER_SESSION = 100;
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = (name) => (process.env[name] ?? '').split(' ').filter(Boolean);
const NODE_ARGS = args('NODE_ARGS');
const BUN_ARGS = args('BUN_ARGS');
const DENO_ARGS = args('DENO_ARGS');

/** A binary from this package's, a sibling package's or the root's node_modules/.bin. */
function findBin(name) {
  for (const dir of ['../node_modules/.bin', '../../browser-client/node_modules/.bin', '../../../node_modules/.bin']) {
    const path = here(`${dir}/${name}`);
    if (existsSync(path)) return path;
  }
  return undefined;
}

const nodeServer = (kind, mode) => [process.execPath, ['--expose-gc', ...NODE_ARGS, here('./server.mjs'), kind, mode]];
const launchers = {
  rfc6455: (mode) => nodeServer('rfc6455', mode),
  'rfc6455-pako': (mode) => nodeServer('rfc6455-pako', mode),
  'rfc6455-sync': (mode) => nodeServer('rfc6455-sync', mode),
  'rfc6455-h2': (mode) => mode === 'plain' && nodeServer('rfc6455-h2', mode),
  ws: (mode) => nodeServer('ws', mode),
  bun: (mode) => {
    const bun = findBin('bun');
    return bun && [bun, [here('./bun-server.mjs'), mode]];
  },
  // This package's listeners on Bun.listen and Deno.listen (dist/bun.js, dist/deno.js).
  'rfc6455-bun': (mode) => {
    const bun = findBin('bun');
    return bun && [bun, [...BUN_ARGS, here('./runtime-server.mjs'), mode]];
  },
  'rfc6455-deno': (mode) => {
    const deno = findBin('deno');
    return (
      deno && [
        deno,
        [
          'run',
          '--allow-net=127.0.0.1',
          '--allow-read',
          '--allow-env',
          '--v8-flags=--expose-gc',
          ...DENO_ARGS,
          here('./runtime-server.mjs'),
          mode,
        ],
      ]
    );
  },
  deno: (mode) => {
    const deno = findBin('deno');
    return (
      mode === 'plain' &&
      deno && [deno, ['run', '--allow-net=127.0.0.1', '--v8-flags=--expose-gc', here('./deno-server.mjs')]]
    );
  },
};

/** Starts a server in a child process; `mode` is 'plain' or 'deflate' (permessage-deflate accepted). */
function startServer(kind, mode = 'plain') {
  const [base, dist] = kind.split('@');
  const launch = launchers[base]?.(mode);
  if (!launch) return undefined;
  const child = spawn(launch[0], launch[1], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...(dist && { BENCH_DIST: dist }) },
  });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  // What is not the protocol's JSON (a runtime's --trace-gc prints to stdout, with no line break
  // before the JSON that follows) passes through to stderr.
  lines.on('line', (line) => {
    const json = line.indexOf('{"');
    if (json !== 0) process.stderr.write(`${kind}: ${json < 0 ? line : line.slice(0, json)}\n`);
    if (json >= 0) waiting.shift()?.(JSON.parse(line.slice(json)));
  });
  const next = () => new Promise((resolve) => waiting.push(resolve));
  return next().then(({ port }) => ({
    kind,
    mode,
    child,
    port,
    stats() {
      const p = next();
      child.stdin.write('stats\n');
      return p;
    },
    async stop() {
      // Closing stdin makes it exit by itself (a profiler then writes its file); kill only one that does not.
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      const timer = setTimeout(() => child.kill(), 5000);
      await exited;
      clearTimeout(timer);
    },
  }));
}

/** A masked client frame (binary unless said otherwise), written once and sent many times. */
function maskedFrame(size, data = randomBytes(size), init = { opcode: Opcode.Binary }) {
  return Buffer.from(encodeFrame({ ...init, maskKey: randomBytes(4) }, data));
}
/** Bytes of the server's unmasked echo of a `size`-byte message. */
const replySize = (size) => encodeFrameHeader({ opcode: Opcode.Binary }, size).length + size;

const DEFLATE_OFFER = { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] };
const fillRandom = (bytes) => bytes.set(randomBytes(bytes.length));

/** Opens a WebSocket on a raw socket: the codec writes the request and checks the 101 (and, with `deflate`, that it agreed). */
async function open(port, deflate = false) {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('connect', r));
  const request = buildUpgradeRequest(
    toWebSocketUrl(`ws://127.0.0.1:${port}/`),
    { extensions: deflate ? [DEFLATE_OFFER] : [] },
    fillRandom,
  );
  socket.write(request.bytes);
  await new Promise((resolve, reject) => {
    const parser = createResponseHeadParser();
    const onData = (d) => {
      const head = parser.push(d);
      if (head.type === 'incomplete') return;
      socket.off('data', onData);
      if (head.type === 'invalid') return reject(new Error(`unreadable response head: ${head.reason}`));
      const shown = [
        `HTTP/${head.startLine.httpVersion} ${head.startLine.status} ${head.startLine.reason}`,
        ...head.headers.entries().map(([n, v]) => `${n}: ${v}`),
      ].join('\n');
      if (head.startLine.status !== 101) return reject(new Error(`no 101:\n${shown}`));
      const verdict = validateUpgradeResponse(head.headers, {
        key: request.key,
        protocols: [],
        extensions: deflate ? [DEFLATE_OFFER.name] : [],
      });
      if (!verdict.ok) return reject(new Error(`${verdict.reason}:\n${shown}`));
      if (deflate && verdict.extensions.length === 0)
        return reject(new Error(`permessage-deflate not agreed:\n${shown}`));
      // Whatever came after the head is the server's first frame data.
      if (head.trailing.length > 0) socket.unshift(Buffer.from(head.trailing));
      resolve();
    };
    socket.on('data', onData);
  });
  return socket;
}

/** One HTTP/2 connection (h2c) whose peer must have advertised extended CONNECT. */
async function openH2Session(port) {
  // Windows as large as the server's (see server.mjs), not HTTP/2's 64 KiB defaults.
  const session = connectHttp2(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1 << 20 } });
  session.on('error', () => {});
  await new Promise((r) => session.once('remoteSettings', r));
  session.setLocalWindowSize(32 << 20);
  if (!session.remoteSettings.enableConnectProtocol) throw new Error('the server did not enable extended CONNECT');
  return session;
}

/** A WebSocket on a stream of `session` (RFC 8441): the stream is a Duplex carrying the frames. */
async function openH2Stream(session) {
  const stream = session.request(
    { ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/', 'sec-websocket-version': '13' },
    { endStream: false },
  );
  stream.on('error', () => {});
  const [headers] = await new Promise((resolve, reject) => {
    stream.once('response', (...args) => resolve(args));
    stream.once('close', () => reject(new Error('the stream closed before a response')));
  });
  if (headers[':status'] !== 200) throw new Error(`extended CONNECT answered ${headers[':status']}`);
  return stream;
}

/** `conns` WebSockets: TCP connections, or with `h2` streams on HTTP/2 connections of `perSession` streams each. */
async function openAll(port, conns, { h2 = false, perSession = conns } = {}) {
  if (!h2) return Promise.all(Array.from({ length: conns }, () => open(port)));
  const streams = [];
  for (let i = 0; i < conns; i += perSession) {
    const session = await openH2Session(port);
    streams.push(
      ...(await Promise.all(Array.from({ length: Math.min(perSession, conns - i) }, () => openH2Stream(session)))),
    );
  }
  return streams;
}

/** Ends WebSockets made by openAll or open: TCP connections, or HTTP/2 streams and their connections. */
function destroyAll(sockets) {
  for (const s of sockets) {
    s.destroy();
    s.session?.destroy();
  }
}

/** Deterministic 16 KiB JSON-like documents, all different, so context takeover helps but never trivially. */
function jsonDocuments(count, size) {
  let seed = 0x5eed1234;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 8;
  const names = [
    'amber',
    'basalt',
    'cedar',
    'dune',
    'ember',
    'fjord',
    'garnet',
    'harbor',
    'iris',
    'juniper',
    'kestrel',
    'lagoon',
  ];
  const docs = [];
  for (let d = 0; d < count; d++) {
    const rows = [];
    let text = '';
    while (text.length < size) {
      rows.push({
        sku: `${names[rand() % 12]}-${rand() % 100000}`,
        qty: rand() % 500,
        price: (rand() % 1000000) / 100,
        labels: [names[rand() % 12], names[rand() % 12]],
        inStock: (rand() & 1) === 1,
        seen: new Date(1.7e12 + (rand() % 1e10)).toISOString(),
      });
      text = JSON.stringify({ batch: d, rows });
    }
    docs.push(text.slice(0, size));
  }
  return docs;
}

/** A masked client text frame carrying `text` compressed on its own (valid under any inflater context). */
function compressedFrame(text) {
  const deflated = deflateRawSync(Buffer.from(text), {
    level: 6,
    windowBits: 15,
    finishFlush: zlibConstants.Z_SYNC_FLUSH,
  });
  const payload = deflated.subarray(0, deflated.length - 4); // without 00 00 ff ff (RFC 7692 §7.2.1)
  return maskedFrame(payload.length, payload, { opcode: Opcode.Text, rsv: 0x40 }); // RSV1: compressed
}

/**
 * Counts the server's frames on a socket without inflating them (the load
 * generator must not spend the CPU both share): calls `onMessage(payload?)`
 * per final frame, with the payload of the first one (to check it).
 */
function frameCounter(onMessage) {
  // A server's frames: unmasked, RSV1 only on compressed messages.
  const rules = { expectMasked: false, allowedRsv: 0x40 };
  let partial = null; // the start of a header cut off by the end of a chunk
  let remaining = -1; // payload bytes of the current frame still to come; -1 between frames
  let fin = false;
  let firstPayload = []; // the first message's payload pieces; undefined once reported
  const frameDone = () => {
    remaining = -1;
    if (!fin) return;
    if (firstPayload === undefined) return onMessage(undefined);
    const payload = Buffer.concat(firstPayload);
    firstPayload = undefined;
    onMessage(payload);
  };
  return (chunk) => {
    const bytes = partial === null ? chunk : Buffer.concat([partial, chunk]);
    partial = null;
    let at = 0;
    while (at < bytes.length) {
      if (remaining < 0) {
        const parsed = parseFrameHeader(bytes, at, rules);
        if (parsed.type === 'need-more') {
          partial = bytes.subarray(at);
          return;
        }
        if (parsed.type === 'invalid') throw new Error(`the server sent an invalid frame: ${parsed.reason}`);
        fin = parsed.header.fin;
        remaining = parsed.header.payloadLength;
        at += parsed.header.headerLength;
        if (remaining === 0) {
          frameDone();
          continue;
        }
      }
      const take = Math.min(remaining, bytes.length - at);
      firstPayload?.push(bytes.subarray(at, at + take));
      at += take;
      remaining -= take;
      if (remaining === 0) frameDone();
    }
  };
}

const DOC_SIZE = 16 * 1024;
let docs; // made on first use
let docFrames;
function compressedLoad() {
  docs ??= jsonDocuments(16, DOC_SIZE);
  docFrames ??= docs.map(compressedFrame);
  return { docs, docFrames };
}

/**
 * Compressed echo: each connection keeps `inflight` compressed 16 KiB JSON-like
 * text messages outstanding (cycling through 16 distinct documents) and counts
 * the replies by parsing frame headers. The first reply of each connection is
 * inflated and checked. Returns the rate and the bytes on the wire per payload byte.
 */
async function compressedEcho(port, { conns, inflight }) {
  const { docs, docFrames } = compressedLoad();
  const sockets = await Promise.all(Array.from({ length: conns }, () => open(port, true)));
  let done = 0;
  let wireIn = 0; // bytes the server wrote
  let running = true;
  let bad = 0;
  sockets.forEach((s, c) => {
    let next = c % docs.length;
    const firstDoc = next;
    const send = (n) => {
      const frames = [];
      for (let i = 0; i < n; i++) {
        frames.push(docFrames[next]);
        next = (next + 1) % docs.length;
      }
      const bytes = frames.length === 1 ? frames[0] : Buffer.concat(frames);
      s.write(bytes);
    };
    let replies = 0;
    const count = frameCounter((payload) => {
      if (payload !== undefined) {
        // The server's first compressed message needs no earlier context.
        const text = inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), {
          finishFlush: zlibConstants.Z_SYNC_FLUSH,
        }).toString();
        if (text !== docs[firstDoc]) bad++;
      }
      replies++;
    });
    s.on('data', (d) => {
      wireIn += d.length;
      replies = 0;
      count(d);
      done += replies;
      if (running && replies > 0) send(replies);
    });
    send(inflight);
  });
  const start = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, DURATION));
  running = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 200));
  if (bad > 0) throw new Error(`${bad} first replies did not inflate to the message sent`);
  return {
    messages: done,
    perSecond: done / seconds,
    mibPerSecond: (done * DOC_SIZE) / seconds / 1048576,
    wireRatio: wireIn / (done * DOC_SIZE), // what the server sent per payload byte (replies in flight at the end count a little extra)
  };
}

/** Echo round trips: `conns` connections (or HTTP/2 streams), each keeping `inflight` messages of `size` bytes outstanding. */
async function echo(port, { size, conns, inflight, deflate, h2 }) {
  if (deflate) return compressedEcho(port, { conns, inflight });
  const frame = maskedFrame(size);
  const reply = replySize(size);
  const sockets = await openAll(port, conns, { h2 });
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
  destroyAll(sockets);
  await new Promise((r) => setTimeout(r, 200));
  return { messages: done, perSecond: done / seconds, mibPerSecond: (done * size) / seconds / 1048576 };
}

/**
 * Opens `n` connections, 250 at a time (with `h2`, `n` streams on HTTP/2
 * connections of 100 streams each); with `message`, each sends it and waits
 * for one reply.
 */
async function openMany(port, n, deflate, message, h2 = false) {
  const sockets = [];
  const step = h2 ? H2_PER_SESSION : 250;
  for (let i = 0; i < n; i += step) {
    if (h2) {
      sockets.push(...(await openAll(port, Math.min(step, n - i), { h2 })));
      continue;
    }
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, n - i) }, async () => {
        const s = await open(port, deflate);
        if (message !== undefined) {
          await new Promise((resolve) => {
            const count = frameCounter(() => {
              s.removeAllListeners('data');
              resolve();
            });
            s.on('data', count);
            s.write(message);
          });
        }
        return s;
      }),
    );
    sockets.push(...batch);
  }
  return sockets;
}

/**
 * Memory per connection in a fresh server process: after 3 × 250 connections
 * opened and closed (so lazily made, server-wide things exist), the change in
 * the server's heap (after a GC) and RSS with `n` connections open, and the
 * change in RSS from `n` to 2·`n` (the steady cost, once V8's young generation
 * has grown to its working size). With `message`, each connection first sends
 * that frame and reads the echo, and the figures are taken after the
 * connections have been idle for 2.5 s (this package parks deflaters idle for
 * 1–2 s; the other servers' memory does not change with time). Then every
 * connection is closed and, 2.5 s later, the RSS still held over the start
 * and the share of the 2·`n` growth given back are taken.
 */
async function memory(kind, mode, n, message, h2 = false) {
  const server = await startServer(kind, mode);
  if (!server) return undefined;
  try {
    const deflate = mode === 'deflate';
    for (let i = 0; i < 3; i++) destroyAll(await openMany(server.port, 250, deflate, message, h2));
    await new Promise((r) => setTimeout(r, 300));
    await server.stats();
    const before = await server.stats();
    const settle = () => new Promise((r) => setTimeout(r, message === undefined ? 500 : 2500));
    const first = await openMany(server.port, n, deflate, message, h2);
    await settle();
    await server.stats();
    const after = await server.stats();
    const second = await openMany(server.port, n, deflate, message, h2);
    await settle();
    await server.stats();
    const after2 = await server.stats();
    destroyAll([...first, ...second]);
    // Every connection gone (and idle engines past their parking time): how much of the growth the process gave back.
    await new Promise((r) => setTimeout(r, 2500));
    await server.stats();
    const closed = await server.stats();
    return {
      heapPerConn: (after.heap - before.heap) / n,
      externalPerConn: after.external === undefined ? undefined : (after.external - before.external) / n,
      rssPerConn: (after.rss - before.rss) / n,
      rssMarginal: (after2.rss - after.rss) / n,
      rssHeldAfterClose: closed.rss - before.rss,
      rssReturned: (after2.rss - closed.rss) / (after2.rss - before.rss),
    };
  } finally {
    await server.stop();
  }
}

const allCases = [
  { name: '64 B, 1 conn × 1 in flight', size: 64, conns: 1, inflight: 1 },
  { name: '64 B, 50 conns × 16 in flight', size: 64, conns: 50, inflight: 16 },
  { name: '16 KiB, 50 conns × 1 in flight', size: 16 * 1024, conns: 50, inflight: 1 },
  { name: '1 MiB, 1 conn × 2 in flight', size: 1024 * 1024, conns: 1, inflight: 2 },
  { name: '16 KiB JSON deflate, 50 conns × 4 in flight', size: 16 * 1024, conns: 50, inflight: 4, deflate: true },
  { name: `${IDLE} idle conns`, memory: 'idle' },
  { name: `${DEFLATE_CONNS} conns after 1 deflate msg`, memory: 'deflate' },
  // HTTP/2 (rfc6455-h2 only): the shapes of cases 1 and 2 as streams of one connection.
  { name: '64 B, 50 h2 streams on 1 conn × 16 in flight', size: 64, conns: 50, inflight: 16, h2: true },
  { name: '16 KiB, 50 h2 streams on 1 conn × 1 in flight', size: 16 * 1024, conns: 50, inflight: 1, h2: true },
  { name: `${H2_STREAMS} idle h2 streams, ${H2_PER_SESSION} per conn`, memory: 'h2' },
];
const cases = process.env.CASES ? process.env.CASES.split(',').map((i) => allCases[Number(i)]) : allCases;
const kinds = (process.env.SERVERS ?? 'rfc6455,rfc6455-pako,rfc6455-h2,ws,bun,rfc6455-bun,deno,rfc6455-deno').split(
  ',',
);
// The h2 server runs the h2 cases only, and they run on it only.
const runsOn = (kind, c) => (kind === 'rfc6455-h2') === (c.h2 === true || c.memory === 'h2');
const loadCases = cases.filter((c) => !c.memory);
// rfc6455-pako and rfc6455-sync (zlib on the event loop) differ from rfc6455 only when compressing.
const wanted = (kind, mode) => (kind !== 'rfc6455-pako' && kind !== 'rfc6455-sync') || mode === 'deflate';

const servers = [];
for (const mode of ['plain', 'deflate']) {
  if (!loadCases.some((c) => (c.deflate ? 'deflate' : 'plain') === mode)) continue;
  for (const kind of kinds) {
    if (!wanted(kind, mode)) continue;
    if (!loadCases.some((c) => (c.deflate ? 'deflate' : 'plain') === mode && runsOn(kind, c))) continue;
    const server = await startServer(kind, mode);
    if (server) servers.push(server);
    else if (launchers[kind.split('@')[0]]) console.log(`${kind} (${mode}): not available, skipped`);
  }
}
// JIT warm-up, not recorded (WARMUP=i warms the plain servers on case i instead: a profile then shows that case alone).
const warmup = process.env.WARMUP === undefined ? undefined : allCases[Number(process.env.WARMUP)];
for (const server of servers)
  await echo(
    server.port,
    server.mode === 'deflate'
      ? { ...allCases[4], conns: 10 }
      : server.kind === 'rfc6455-h2'
        ? allCases[7]
        : (warmup ?? allCases[1]),
  );

const samples = new Map(); // `${kind}|${case}` → [{ perSecond, mib, cpuPerMsg }]
for (let round = 0; round < ROUNDS; round++) {
  for (const c of loadCases) {
    const mode = c.deflate ? 'deflate' : 'plain';
    const forCase = servers.filter((s) => s.mode === mode && runsOn(s.kind, c));
    const order = round % 2 === 0 ? forCase : [...forCase].reverse();
    for (const server of order) {
      const cpu0 = (await server.stats()).cpu;
      const r = await echo(server.port, c);
      const cpu1 = (await server.stats()).cpu;
      const key = `${server.kind}|${c.name}`;
      if (!samples.has(key)) samples.set(key, []);
      samples.get(key).push({
        perSecond: r.perSecond,
        mib: r.mibPerSecond,
        cpuPerMsg: (cpu1 - cpu0) / r.messages,
        wireRatio: r.wireRatio,
      });
    }
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const rows = [];
for (const c of loadCases) {
  const wsRate = samples.has(`ws|${c.name}`) ? median(samples.get(`ws|${c.name}`).map((x) => x.perSecond)) : undefined;
  for (const server of servers.filter((x) => x.mode === (c.deflate ? 'deflate' : 'plain') && runsOn(x.kind, c))) {
    const xs = samples.get(`${server.kind}|${c.name}`);
    if (xs === undefined) continue;
    const rate = median(xs.map((x) => x.perSecond));
    rows.push({
      case: c.name,
      server: server.kind,
      'msg/s': Math.round(rate),
      'MiB/s': median(xs.map((x) => x.mib)).toFixed(1),
      '× ws': wsRate ? (rate / wsRate).toFixed(2) : '',
      'server µs CPU/msg': median(xs.map((x) => x.cpuPerMsg)).toFixed(2),
      'msg/s per round': xs.map((x) => Math.round(x.perSecond)).join(' '),
      ...(c.deflate && { 'wire/payload': median(xs.map((x) => x.wireRatio)).toFixed(3) }),
    });
  }
}
for (const server of servers) await server.stop();

// Each h2 case beside the same shape over HTTP/1.1 connections, both this package.
const h2Rows = [];
for (const c of loadCases.filter((x) => x.h2)) {
  const h1Case = allCases.find(
    (x) => !x.h2 && !x.memory && !x.deflate && x.size === c.size && x.conns === c.conns && x.inflight === c.inflight,
  );
  const h2s = samples.get(`rfc6455-h2|${c.name}`);
  const h1s = h1Case && samples.get(`rfc6455|${h1Case.name}`);
  if (!h2s) continue;
  const rate = (xs) => median(xs.map((x) => x.perSecond));
  const cpu = (xs) => median(xs.map((x) => x.cpuPerMsg));
  h2Rows.push({
    case: c.name,
    'h2 msg/s': Math.round(rate(h2s)),
    'h1 msg/s': h1s ? Math.round(rate(h1s)) : '',
    'h2 ÷ h1': h1s ? (rate(h2s) / rate(h1s)).toFixed(2) : '',
    'h2 µs CPU/msg': cpu(h2s).toFixed(2),
    'h1 µs CPU/msg': h1s ? cpu(h1s).toFixed(2) : '',
  });
}

// Memory: a fresh server process per measurement.
const memoryRows = [];
const kb = (x) => (x === undefined ? '' : (x / 1024).toFixed(2));
for (const c of cases.filter((x) => x.memory)) {
  const mode = c.memory === 'deflate' ? 'deflate' : 'plain';
  const n = c.memory === 'idle' ? IDLE : c.memory === 'h2' ? H2_STREAMS : DEFLATE_CONNS;
  if (n <= 0) continue;
  const message = c.memory === 'deflate' ? compressedLoad().docFrames[0] : undefined;
  for (const kind of kinds) {
    if (!wanted(kind, mode) || !runsOn(kind, c)) continue;
    const m = await memory(kind, mode, n, message, c.memory === 'h2');
    if (!m) continue;
    memoryRows.push({
      case: c.name,
      server: kind,
      'heap KiB/conn': kb(m.heapPerConn),
      'ext KiB/conn': kb(m.externalPerConn),
      'rss KiB/conn': kb(m.rssPerConn),
      'rss KiB/conn, n→2n': kb(m.rssMarginal),
      'rss MiB held once all closed': (m.rssHeldAfterClose / 1024 / 1024).toFixed(1),
      'growth returned': `${Math.round(100 * m.rssReturned)} %`,
    });
  }
}
console.log(`node ${process.version}, ${DURATION} ms per case, ${ROUNDS} interleaved rounds, medians`);
if (rows.length > 0) console.table(rows);
if (h2Rows.length > 0) {
  console.log('WebSocket over HTTP/2 (RFC 8441): streams of one h2c connection vs as many HTTP/1.1 connections');
  console.table(h2Rows);
}
if (memoryRows.length > 0) {
  console.log('memory per connection, each server in a fresh process (n connections, then n more)');
  console.table(memoryRows);
}
