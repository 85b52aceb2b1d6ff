// Text suite: what text messages cost in @rfc6455/codec (the built
// packages/codec/dist) beside ws 8 with its native helpers, in one process per
// case, as the codec suite does.
//
//   decode → string  a stream of masked text frames cut into 64 KiB chunks,
//                    decoded by a server endpoint into JS strings; ws: its
//                    Receiver (UTF-8 validated by buffer.isUtf8) plus
//                    Buffer#toString() in the listener, as an application
//                    that wants a string does.
//   decode → bytes   the same, with `textAs: 'bytes'` (validated, no string)
//                    against ws's Receiver alone (validated Buffers).
//   fragments        one 4 MiB message in 1 KiB or 64 KiB fragments, or in
//                    one frame: text beside binary, so a cost only text
//                    fragments pay shows.
//   send             `send({ type: 'text', data })` from bytes already UTF-8,
//                    and from a string, against Sender#send() of the same.
//
// Each decode case runs twice: with the codec's pure defaults (TextDecoder,
// its own validator) and with node-server's accelerators (`text` option:
// nodeTextCodec, i.e. buffer.isUtf8/isAscii, utf8Slice, transcode to UTF-16).
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openPair } from '../lib/endpoint.mjs';
import { compare, prng, receiveBuffers } from '../lib/harness.mjs';
import { Receiver, Sender, wsMaskImplementation, wsVersion } from '../lib/ws.mjs';

const codecPath = process.env.BENCH_CODEC
  ? resolve(process.env.BENCH_CODEC)
  : new URL('../../packages/codec/dist/index.js', import.meta.url).pathname;
const codec = await import(pathToFileURL(isAbsolute(codecPath) ? codecPath : resolve(codecPath)).href);
// The accelerators node-server passes to its endpoints.
const nodeServerPath = new URL('../../packages/node-server/dist/index.js', import.meta.url).pathname;
const { nodeTextCodec } = await import(pathToFileURL(nodeServerPath).href);

const CHUNK = 64 * 1024;
const KiB = 1024;
const MiB = 1024 * 1024;

export const description =
  'text messages: decode to strings or bytes, fragments, send from bytes; this codec vs ws + bufferutil';

// --- text ---------------------------------------------------------------------

const ASCII_WORDS = [
  'the',
  'quick',
  'brown',
  'fox',
  'jumps',
  'over',
  'lazy',
  'dog',
  '{"id":',
  '42,',
  '"ok":true}',
  'lorem',
  'ipsum',
];
// Latin with accents (2-byte), Cyrillic (2), Greek (2), CJK (3), emoji (4), between ASCII words.
const MIXED_WORDS = [
  ...ASCII_WORDS,
  'café',
  'naïve',
  'Größe',
  'привет',
  'мир',
  'καλημέρα',
  '東京',
  '日本語',
  'テキスト',
  '😀',
  '🚀',
  '✓',
];

/** UTF-8 text of exactly `size` bytes: whole words, padded with spaces. */
function textBytes(size, mixed, seed) {
  const rand = prng(seed);
  const words = mixed ? MIXED_WORDS : ASCII_WORDS;
  const enc = new TextEncoder();
  const out = new Uint8Array(size).fill(0x20);
  let at = 0;
  for (;;) {
    const w = enc.encode(`${words[rand() % words.length]} `);
    if (at + w.length > size) return out;
    out.set(w, at);
    at += w.length;
  }
}

// --- frames -------------------------------------------------------------------

/** A message as masked frames of at most `fragment` payload bytes. */
function frames(opcode, payload, fragment, rand) {
  const out = [];
  for (let at = 0; at < payload.length || at === 0; at += fragment) {
    const end = Math.min(payload.length, at + fragment);
    const fin = end === payload.length;
    out.push(frame((fin ? 0x80 : 0) | (at === 0 ? opcode : 0), payload.subarray(at, end), rand));
    if (fin) break;
  }
  return out;
}

function frame(byte0, payload, rand) {
  const n = payload.length;
  const lenBytes = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const head = 2 + lenBytes + 4;
  const f = new Uint8Array(head + n);
  f[0] = byte0;
  f[1] = 0x80 | (n < 126 ? n : n < 0x10000 ? 126 : 127);
  if (lenBytes === 2) {
    f[2] = n >>> 8;
    f[3] = n & 0xff;
  } else if (lenBytes === 8) {
    for (let i = 0; i < 4; i++) f[6 + i] = (n >>> (24 - 8 * i)) & 0xff;
  }
  const k = rand();
  const key = [k & 0xff, (k >>> 8) & 0xff, (k >>> 16) & 0xff, k >>> 24];
  f.set(key, head - 4);
  for (let i = 0; i < n; i++) f[head + i] = payload[i] ^ key[i & 3];
  return f;
}

/** Messages (cycling through `payloads`) as one stream of frames cut into 64 KiB chunks. */
function buildStream(opcode, payloads, count, fragment) {
  const rand = prng(0x7e47 + count);
  const all = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    for (const f of frames(opcode, payloads[i % payloads.length], fragment, rand)) {
      all.push(f);
      total += f.length;
    }
  }
  const stream = new Uint8Array(total);
  let at = 0;
  for (const f of all) {
    stream.set(f, at);
    at += f.length;
  }
  const chunks = [];
  for (let p = 0; p < stream.length; p += CHUNK) chunks.push(stream.subarray(p, p + CHUNK));
  return { chunks, count };
}

// --- decoders -----------------------------------------------------------------

function thisDecoder(stream, options, onMessage) {
  const { bufs, refill } = receiveBuffers(stream.chunks, (n) => new Uint8Array(n));
  const limits = { maxMessageSize: 64 * MiB };
  const { server } = openPair(codec, { server: { ...limits, ...options }, client: limits });
  const pass = () => {
    let n = 0;
    for (let i = 0; i < bufs.length; i++) {
      server.receive(bufs[i]);
      for (let ev = server.nextEvent(); ev !== undefined; ev = server.nextEvent()) {
        if (ev.type !== 'binary' && ev.type !== 'text') throw new Error(`unexpected ${ev.type} event: ${ev.reason}`);
        onMessage(ev.data);
        n++;
      }
    }
    return n;
  };
  return { pass, refill };
}

function wsDecoder(stream, onMessage) {
  const { bufs, refill } = receiveBuffers(stream.chunks, (n) => Buffer.allocUnsafeSlow(n));
  const receiver = new Receiver({ isServer: true, binaryType: 'nodebuffer', maxPayload: 64 * MiB });
  let n = 0;
  receiver.on('message', (data) => {
    onMessage(data);
    n++;
  });
  receiver.on('error', (err) => {
    throw err;
  });
  const pass = () => {
    n = 0;
    for (let i = 0; i < bufs.length; i++) receiver.write(bufs[i]);
    return n;
  };
  return { pass, refill };
}

const asText = (data) =>
  typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.length).toString();

/** Runs one pass of a contender and checks every message against the payloads. */
function verify(name, make, stream, payloads, want) {
  const got = [];
  const { pass, refill } = make((data) => got.push(data));
  refill();
  const n = pass();
  if (n !== stream.count) throw new Error(`${name} decoded ${n}/${stream.count} messages`);
  for (let i = 0; i < got.length; i++) {
    const data = got[i];
    if (want === 'string' && typeof data !== 'string')
      throw new Error(`${name} handed out ${typeof data}, not a string`);
    if (want === 'bytes' && typeof data === 'string') throw new Error(`${name} handed out a string, not bytes`);
    const expected = payloads[i % payloads.length];
    if (asText(data) !== Buffer.from(expected).toString()) throw new Error(`${name}: message ${i} differs`);
  }
}

/**
 * Decode `count` messages of `payloads` (fragmented at `fragment` bytes) with
 * `options` on the codec's side. `want`: 'string' (ws adds toString()) or
 * 'bytes' (ws hands out its validated Buffer).
 */
async function decodeCase({ payloads, count, fragment = Infinity, options = {}, want, opcode = 1, timing = {} }) {
  const stream = buildStream(opcode, payloads, count, fragment);
  let sink = 0;
  const keepLength = (data) => {
    sink ^= data.length;
  };
  const keepStringLength = (data) => {
    sink ^= data.toString().length;
  };
  const makers = [
    ['this', (cb) => thisDecoder(stream, options, cb), keepLength],
    [
      'ws',
      (cb) => wsDecoder(stream, (data) => cb(want === 'string' ? data.toString() : data)),
      want === 'string' ? keepStringLength : keepLength,
    ],
  ];
  const contenders = makers.map(([name, make, sinkFn]) => {
    if (opcode === 1) verify(name, make, stream, payloads, want);
    return { name, ...make(sinkFn) };
  });
  const result = await compare(contenders, timing);
  if (sink === 0.5) console.log(sink);
  return result;
}

// --- encoders -----------------------------------------------------------------

function thisSender(data, ops, options) {
  const { server } = openPair(codec, { server: options });
  let bytes = 0;
  const pass = () => {
    for (let i = 0; i < ops; i++) {
      server.send({ type: 'text', data });
      const out = server.takeOutgoing();
      for (let j = 0; j < out.length; j++) bytes += out[j].length;
    }
    return ops;
  };
  return { pass, bytes: () => bytes };
}

function wsSender(data, ops) {
  let bytes = 0;
  const socket = {
    destroyed: false,
    cork() {},
    uncork() {},
    write(buf) {
      // ws leaves a string payload for the socket to encode as it writes it: a real socket does that work.
      bytes += typeof buf === 'string' ? Buffer.from(buf).length : buf.length;
      return true;
    },
  };
  const sender = new Sender(socket, {}, undefined);
  // binary: false sends a Buffer as a text frame, as it is.
  const options = { binary: false, fin: true, mask: false, compress: false };
  const pass = () => {
    for (let i = 0; i < ops; i++) sender.send(data, options, undefined);
    return ops;
  };
  return { pass, bytes: () => bytes };
}

async function sendCase({ payload, from, options = {} }) {
  const ops = Math.max(4, Math.floor((2 * MiB) / payload.length));
  const ours = from === 'bytes' ? payload : Buffer.from(payload).toString();
  const theirs = from === 'bytes' ? Buffer.from(payload) : Buffer.from(payload).toString();
  const a = thisSender(ours, 1, options);
  const b = wsSender(theirs, 1);
  a.pass();
  b.pass();
  if (a.bytes() !== b.bytes()) throw new Error(`encoded sizes differ: ${a.bytes()} vs ${b.bytes()}`);
  return compare([
    { name: 'this', pass: thisSender(ours, ops, options).pass },
    { name: 'ws', pass: wsSender(theirs, ops).pass },
  ]);
}

// --- the suite ----------------------------------------------------------------

const PURE = {};
const NODE = { text: nodeTextCodec };
const BYTES = { textAs: 'bytes' };
const NODE_BYTES = { textAs: 'bytes', text: nodeTextCodec };

const sizeName = (n) => (n >= MiB ? `${n / MiB} MiB` : n >= KiB ? `${n / KiB} KiB` : `${n} B`);
const distinct = (size, mixed) =>
  Array.from({ length: 4 }, (_, i) => textBytes(size, mixed, 0x1000 + size + i + (mixed ? 77 : 0)));
const countFor = (size) => Math.max(1, Math.round((2 * MiB) / size));

export function cases() {
  const list = [];
  const small = [
    ['125 B', 125, false],
    ['16 KiB ASCII', 16 * KiB, false],
    ['16 KiB mixed', 16 * KiB, true],
  ];
  for (const [label, size, mixed] of small) {
    for (const [accel, options] of [
      ['pure', PURE],
      ['node accelerator', NODE],
    ]) {
      list.push({
        group: 'decode to string',
        name: `decode ${label} text → string (${accel})`,
        unit: 'messages/s',
        size,
        run: () => decodeCase({ payloads: distinct(size, mixed), count: countFor(size), options, want: 'string' }),
      });
    }
  }
  for (const [label, size, mixed] of small) {
    for (const [accel, options] of [
      ['pure', BYTES],
      ['node accelerator', NODE_BYTES],
    ]) {
      list.push({
        group: 'decode to bytes',
        name: `decode ${label} text → bytes (${accel})`,
        unit: 'messages/s',
        size,
        run: () => decodeCase({ payloads: distinct(size, mixed), count: countFor(size), options, want: 'bytes' }),
      });
    }
  }
  const big = 4 * MiB;
  const timing = { sampleMs: 200, rounds: 7 };
  for (const fragment of [KiB, 64 * KiB, big]) {
    const fr = fragment === big ? 'in one frame' : `in ${sizeName(fragment)} fragments`;
    list.push({
      group: 'fragments',
      name: `decode 4 MiB binary ${fr}`,
      unit: 'GB/s',
      size: big,
      run: () =>
        decodeCase({ payloads: [textBytes(big, false, 9)], count: 1, fragment, opcode: 2, want: 'bytes', timing }),
    });
    for (const [accel, options, want] of [
      ['→ string, pure', PURE, 'string'],
      ['→ string, node accelerator', NODE, 'string'],
      ['→ bytes, pure', BYTES, 'bytes'],
      ['→ bytes, node accelerator', NODE_BYTES, 'bytes'],
    ]) {
      list.push({
        group: 'fragments',
        name: `decode 4 MiB text ${fr} ${accel}`,
        unit: 'GB/s',
        size: big,
        run: () => decodeCase({ payloads: [textBytes(big, false, 9)], count: 1, fragment, options, want, timing }),
      });
    }
  }
  for (const [label, size, mixed] of small) {
    for (const [from, accel, options] of [
      ['bytes', 'pure', PURE],
      ['bytes', 'node accelerator', NODE],
      ['string', 'pure', PURE],
    ]) {
      list.push({
        group: 'send',
        name: `send ${label} text from ${from} (${accel})`,
        unit: 'messages/s',
        size,
        run: () => sendCase({ payload: textBytes(size, mixed, 31 + size), from, options }),
      });
    }
  }
  return list;
}

export function environment() {
  return { codec: codecPath, ws: wsVersion, wsMasking: wsMaskImplementation(), chunkSize: CHUNK };
}

export const notes = [
  'Decode: masked frames (a server receiving) pre-built and cut into 64 KiB chunks; each receiver gets fresh copies of its chunks before every pass (untimed).',
  '→ string: this = text events with string data; ws = Receiver (validates with buffer.isUtf8) + Buffer#toString() in the listener.',
  '→ bytes: this = textAs: "bytes" (validated UTF-8 as Uint8Array); ws = Receiver alone (validated Buffer).',
  'pure = the codec with its defaults (TextDecoder, its own validator); node accelerator = the `text` option node-server passes (nodeTextCodec: buffer.isUtf8/isAscii, Buffer#utf8Slice, transcode to UTF-16 for non-ASCII text).',
  'Fragments: one 4 MiB message per pass; binary beside text shows what text fragments cost beyond binary ones.',
  'Send: send() + takeOutgoing() per message (server, unmasked) vs Sender#send(…, { binary: false }) into a socket stub; "from bytes" hands both the UTF-8 bytes (this validates them, ws does not), "from string" a string (ws leaves it to the socket to encode: the stub encodes it).',
  'Mixed text: words in Latin with accents, Cyrillic, Greek, CJK and emoji between ASCII words.',
];
