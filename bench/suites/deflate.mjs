// Deflate suite: permessage-deflate in @rfc6455/codec (pako, pure JS, sync)
// beside ws's PerMessageDeflate (node:zlib, async on the libuv pool) in one run.
//
// Throughput: 16 KiB JSON-like text messages, context takeover on (both
// sides' defaults), window 15, level 6 (zlib's default, which ws uses too).
//   compress — this: ServerEndpoint.send() + takeOutgoing() on the server role;
//              ws: PerMessageDeflate#compress(), awaited one message at a
//              time as ws's Sender does for one socket.
//   inflate  — this: ServerEndpoint.receive() of a masked compressed frame +
//              nextEvent() to a string; ws: PerMessageDeflate#decompress() +
//              Buffer#toString().
// ws is asynchronous, so this suite times with its own async loop (same
// warm-up / interleaving / median scheme as lib/harness.mjs).
//
// Memory: 2 000 server-side receivers that each inflated one compressed
// 16 KiB message and stay open, per receiver: heapUsed + external +
// arrayBuffers after a full GC, minus the same before they were created.
import { openPair } from '../lib/endpoint.mjs';
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { idle, median, prng } from '../lib/harness.mjs';
import { wsVersion } from '../lib/ws.mjs';

const codecPath = process.env.BENCH_CODEC
  ? resolve(process.env.BENCH_CODEC)
  : new URL('../../packages/codec/dist/index.js', import.meta.url).pathname;
const codec = await import(pathToFileURL(isAbsolute(codecPath) ? codecPath : resolve(codecPath)).href);
const { permessageDeflate } = codec;
// A server endpoint that negotiated permessage-deflate with `options` against a client offering it.
const deflateServer = (options) =>
  openPair(codec, {
    server: { extensions: [permessageDeflate(options)] },
    client: { extensions: [permessageDeflate()] },
  }).server;

const require = createRequire(import.meta.url);
const wsRoot = require.resolve('ws/package.json').replace(/package\.json$/, '');
const PerMessageDeflate = require(`${wsRoot}lib/permessage-deflate.js`);

const KiB = 1024;
const SIZE = 16 * KiB;
const CONNECTIONS = 2000;

export const description =
  'permessage-deflate: 16 KiB JSON text compress/inflate throughput and memory per connection, this codec vs ws';

/** Eight distinct JSON-like documents of about 16 KiB, so context takeover helps but never trivially. */
function documents() {
  const rand = prng(0xdef1a7e);
  const words = [
    'alpha',
    'bravo',
    'charlie',
    'delta',
    'echo',
    'foxtrot',
    'golf',
    'hotel',
    'india',
    'juliet',
    'kilo',
    'lima',
  ];
  const docs = [];
  for (let d = 0; d < 8; d++) {
    const items = [];
    let text = '';
    for (let i = 0; text.length < SIZE - 200; i++) {
      items.push({
        id: (rand() % 1_000_000) + i,
        name: `${words[rand() % words.length]} ${words[rand() % words.length]}`,
        price: (rand() % 100_000) / 100,
        tags: [words[rand() % words.length], words[rand() % words.length]],
        active: (rand() & 1) === 1,
        updated: new Date(1.7e12 + (rand() % 1e9)).toISOString(),
      });
      text = JSON.stringify({ page: d, items });
    }
    docs.push(text.slice(0, SIZE));
  }
  return docs;
}

function wsDeflate(isServer) {
  const pmd = new PerMessageDeflate({ threshold: 0 }, isServer, 0);
  // Agree on the defaults: no parameters in the offer, none in the response.
  if (isServer) pmd.accept([{}]);
  else pmd.accept([{}]);
  return pmd;
}

const promisify = (fn) => new Promise((res, rej) => fn((err, out) => (err ? rej(err) : res(out))));

/** Timed async passes until `ms` of wall time; returns ops/s. */
async function sampleAsync(pass, ms) {
  let ops = 0;
  const t0 = performance.now();
  let spent = 0;
  while (spent < ms) {
    ops += await pass();
    spent = performance.now() - t0;
  }
  return (ops * 1000) / spent;
}

async function compareAsync(contenders, { warmupMs = 300, sampleMs = 200, rounds = 7 } = {}) {
  for (const c of contenders) await sampleAsync(c.pass, warmupMs);
  const samples = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = contenders.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      samples[i].push(await sampleAsync(contenders[i].pass, sampleMs));
      await idle();
    }
  }
  const out = {};
  for (const [i, c] of contenders.entries()) out[c.name] = { median: median(samples[i]), samples: samples[i] };
  return out;
}

// --- compress ------------------------------------------------------------------

async function compressCase() {
  const docs = documents();
  const raw = docs.map((d) => Buffer.from(d));
  const server = deflateServer({ threshold: 0 });
  const fast = deflateServer({ threshold: 0, level: 1 });
  const pmd = wsDeflate(true);
  let i = 0;
  let f = 0;
  let fastBytes = 0;
  let j = 0;
  let ourBytes = 0;
  let wsBytes = 0;
  let inBytes = 0;
  // Ratio over one round of every document (with context kept from the previous ones).
  for (let k = 0; k < 16; k++) {
    server.send({ type: 'text', data: docs[k % 8] });
    ourBytes += server.takeOutgoing().reduce((n, b) => n + b.length, 0);
    fast.send({ type: 'text', data: docs[k % 8] });
    fastBytes += fast.takeOutgoing().reduce((n, b) => n + b.length, 0);
    wsBytes += (await promisify((cb) => pmd.compress(raw[k % 8], true, cb))).length;
    inBytes += raw[k % 8].length;
  }
  const measured = await compareAsync([
    {
      name: 'this',
      pass: async () => {
        for (let k = 0; k < 8; k++) {
          server.send({ type: 'text', data: docs[i++ & 7] });
          server.takeOutgoing();
        }
        return 8;
      },
    },
    {
      name: 'thisLevel1',
      pass: async () => {
        for (let k = 0; k < 8; k++) {
          fast.send({ type: 'text', data: docs[f++ & 7] });
          fast.takeOutgoing();
        }
        return 8;
      },
    },
    {
      name: 'ws',
      pass: async () => {
        await promisify((cb) => pmd.compress(raw[j++ & 7], true, cb));
        return 1;
      },
    },
  ]);
  const ratio = { this: inBytes / ourBytes, level1: inBytes / fastBytes, ws: inBytes / wsBytes };
  console.log(
    `  compression ratio (16 messages, payload in / wire out incl. frame headers for this, payload only for ws): this ${ratio.this.toFixed(2)}:1, this level 1 ${ratio.level1.toFixed(2)}:1, ws ${ratio.ws.toFixed(2)}:1`,
  );
  return measured;
}

// --- inflate -------------------------------------------------------------------

function maskedFrame(payload, rand) {
  const n = payload.length;
  const head = n < 126 ? 6 : n < 65536 ? 8 : 14;
  const f = new Uint8Array(head + n);
  f[0] = 0xc1; // FIN, RSV1, text
  if (n < 126) f[1] = 0x80 | n;
  else if (n < 65536) {
    f[1] = 0x80 | 126;
    f[2] = n >>> 8;
    f[3] = n & 0xff;
  } else throw new Error('too big');
  const k = rand();
  const key = [k & 0xff, (k >>> 8) & 0xff, (k >>> 16) & 0xff, k >>> 24];
  f.set(key, head - 4);
  for (let i = 0; i < n; i++) f[head + i] = payload[i] ^ key[i & 3];
  return f;
}

/** The documents as a client with context takeover compresses them, in order (a stream of 64 messages). */
async function clientStream(docs) {
  const client = wsDeflate(false);
  const out = [];
  for (let k = 0; k < 64; k++) out.push(await promisify((cb) => client.compress(Buffer.from(docs[k & 7]), true, cb)));
  return out;
}

async function inflateCase() {
  const docs = documents();
  const compressed = await clientStream(docs);
  const rand = prng(42);
  const frames = compressed.map((c) => maskedFrame(c, rand));
  // Each pass decodes the whole 64-message stream from a fresh receiver state, so context stays in sync.
  let expectLen = 0;
  for (const d of docs) expectLen += d.length;
  const measured = await compareAsync([
    {
      name: 'this',
      pass: async () => {
        const server = deflateServer({});
        let n = 0;
        for (const f of frames) {
          server.receive(f.slice());
          const ev = server.nextEvent();
          if (ev.type !== 'text') throw new Error(`${ev.type} ${ev.reason}`);
          n += ev.data.length;
        }
        if (n !== expectLen * 8) throw new Error('length mismatch');
        return frames.length;
      },
    },
    {
      name: 'ws',
      pass: async () => {
        const pmd = wsDeflate(true);
        let n = 0;
        for (const c of compressed) n += (await promisify((cb) => pmd.decompress(c, true, cb))).toString().length;
        if (n !== expectLen * 8) throw new Error('length mismatch');
        pmd.cleanup();
        return compressed.length;
      },
    },
  ]);
  return measured;
}

// --- memory --------------------------------------------------------------------

function gcFunction() {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc');
}

function footprint() {
  const m = process.memoryUsage();
  // arrayBuffers is already part of external.
  return { total: m.heapUsed + m.external, rss: m.rss };
}

async function settle(gc) {
  for (let i = 0; i < 4; i++) {
    gc();
    await idle();
  }
}

async function memoryCase(which, params, wsOptions) {
  const gc = gcFunction();
  const docs = documents();
  const compressed = await clientStream(docs);
  const rand = prng(7);
  const frames = compressed.slice(0, 8).map((c) => maskedFrame(c, rand));
  const plainFrame = maskedFrame(new TextEncoder().encode(docs[0]), rand);
  plainFrame[0] = 0x81;
  const held = [];
  await settle(gc);
  const before = footprint();
  for (let i = 0; i < CONNECTIONS; i++) {
    if (which === 'plain') {
      // The same connection without the extension, receiving the message uncompressed: the codec's own baseline.
      const conn = openPair(codec).server;
      conn.receive(plainFrame.slice());
      const ev = conn.nextEvent();
      if (ev.type !== 'text') throw new Error(ev.reason);
      held.push(conn);
    } else if (which === 'this') {
      const conn = deflateServer(params);
      conn.receive(frames[0].slice());
      const ev = conn.nextEvent();
      if (ev.type !== 'text') throw new Error(ev.reason);
      held.push(conn);
    } else {
      const pmd = new PerMessageDeflate({ threshold: 0, ...wsOptions }, true, 0);
      pmd.accept([params.clientNoContextTakeover ? { client_no_context_takeover: [true] } : {}]);
      await promisify((cb) => pmd.decompress(compressed[0], true, cb));
      held.push(pmd);
    }
  }
  await settle(gc);
  const after = footprint();
  const perConn = (after.total - before.total) / CONNECTIONS;
  const rssPer = (after.rss - before.rss) / CONNECTIONS;
  console.log(
    `  ${which}: ${(perConn / KiB).toFixed(1)} KiB per connection (heap+external+arrayBuffers), rss ${(rssPer / KiB).toFixed(1)} KiB`,
  );
  if (held.length !== CONNECTIONS) throw new Error('lost connections');
  return { perConn, rssPer };
}

async function memoryCompare(params, wsOptions) {
  // Each measurement in this (child) process: ws first, then this codec, with a GC between.
  const ws = await memoryCase('ws', params, wsOptions);
  const ours = await memoryCase('this', params);
  const plain = await memoryCase('plain', params);
  // Reported in KiB per connection (lower is better); the shared table prints them with a "/s" suffix.
  return {
    this: { median: ours.perConn / KiB, samples: [ours.perConn / KiB] },
    ws: { median: ws.perConn / KiB, samples: [ws.perConn / KiB] },
    thisRss: { median: ours.rssPer / KiB, samples: [ours.rssPer / KiB] },
    wsRss: { median: ws.rssPer / KiB, samples: [ws.rssPer / KiB] },
    thisWithoutDeflate: { median: plain.perConn / KiB, samples: [plain.perConn / KiB] },
  };
}

export function cases() {
  return [
    { group: 'deflate', name: 'compress 16 KiB JSON text (server send)', unit: 'GB/s', size: SIZE, run: compressCase },
    { group: 'deflate', name: 'inflate 16 KiB JSON text (server receive)', unit: 'GB/s', size: SIZE, run: inflateCase },
    {
      group: 'memory',
      name: `memory KiB/conn, ${CONNECTIONS} server conns after 1 message, context takeover`,
      unit: 'KiB/conn',
      size: 1,
      run: () => memoryCompare({}, {}),
    },
    {
      group: 'memory',
      name: `memory KiB/conn, ${CONNECTIONS} server conns after 1 message, client_no_context_takeover`,
      unit: 'KiB/conn',
      size: 1,
      run: () => memoryCompare({ clientNoContextTakeover: true }, { clientNoContextTakeover: true }),
    },
  ];
}

export function environment() {
  return { codec: codecPath, ws: wsVersion, wsZlib: process.versions.zlib, messageBytes: SIZE };
}

export const notes = [
  'GB/s counts uncompressed payload bytes (1 GB = 1e9 bytes). The compression ratio (uncompressed over compressed bytes) is printed by the compress case.',
  'thisLevel1: the codec with level 1 instead of 6 (faster, larger output).',
  'this: pako (pure JS) synchronously on the main thread. ws: node:zlib (C) on the libuv thread pool, awaited per message as one socket does.',
  'Memory rows are KiB per connection, lower is better (the table prints them with a "/s" suffix): heapUsed + external after GC. "this" is a whole server endpoint (its write slab is shared by all connections); ws is its PerMessageDeflate alone, whose zlib memory is native (counted in external). thisWithoutDeflate: the same endpoint without the extension.',
  'With client_no_context_takeover negotiated the codec lends inflaters from a pool between messages, so nothing is held per connection after a message.',
];
