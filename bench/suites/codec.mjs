// Codec suite: frames decoded and encoded by @rfc6455/codec (the built
// packages/codec/dist) side by side with ws's own Receiver and Sender.
//
// Decoding: a long stream of frames is built once and cut into 64 KiB chunks,
// as a socket delivers it. Both receivers take ownership of their chunks and
// unmask in place, so before every timed pass each one gets its chunks
// refilled from the pristine stream (untimed, identical for both).
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openPair } from '../lib/endpoint.mjs';
import { clock, compare, prng, receiveBuffers } from '../lib/harness.mjs';
import { Receiver, Sender, wsBufferUtil, wsMaskImplementation, wsVersion } from '../lib/ws.mjs';

// BENCH_CODEC=path/to/index.js benches another build of the codec (e.g. a
// patched copy) against the same ws.
const codecPath = process.env.BENCH_CODEC
  ? resolve(process.env.BENCH_CODEC)
  : new URL('../../packages/codec/dist/index.js', import.meta.url).pathname;
const codec = await import(pathToFileURL(isAbsolute(codecPath) ? codecPath : resolve(codecPath)).href);
const frames = await import(
  new URL('frames.js', pathToFileURL(isAbsolute(codecPath) ? codecPath : resolve(codecPath))).href
);
const { maskInto, unmaskInPlace } = frames;

const CHUNK = 64 * 1024;
const KiB = 1024;
const MiB = 1024 * 1024;

export const description = 'frame decode/encode throughput: this codec vs ws Receiver/Sender';

// --- building input ---------------------------------------------------------

function payloadBytes(size, text, rand) {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = text ? 0x20 + (rand() % 95) : rand() & 0xff;
  return p;
}

/** One frame (FIN set) with `payload`, masked with a key from `rand` when `masked`. */
function frame(opcode, payload, masked, rand) {
  const n = payload.length;
  const lenBytes = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const head = 2 + lenBytes + (masked ? 4 : 0);
  const f = new Uint8Array(head + n);
  f[0] = 0x80 | opcode;
  f[1] = (masked ? 0x80 : 0) | (n < 126 ? n : n < 0x10000 ? 126 : 127);
  if (lenBytes === 2) {
    f[2] = n >>> 8;
    f[3] = n & 0xff;
  } else if (lenBytes === 8) {
    for (let i = 0; i < 4; i++) f[6 + i] = (n >>> (24 - 8 * i)) & 0xff;
  }
  if (!masked) {
    f.set(payload, head);
    return f;
  }
  const k = rand();
  const key = [k & 0xff, (k >>> 8) & 0xff, (k >>> 16) & 0xff, k >>> 24];
  f.set(key, head - 4);
  for (let i = 0; i < n; i++) f[head + i] = payload[i] ^ key[i & 3];
  return f;
}

/**
 * A stream of `count` frames of `size` bytes (distinct payloads, cycling
 * through a few), cut into 64 KiB chunks. Returns the chunks and a checksum
 * of the payloads for verifying each receiver once.
 */
function buildStream({ size, text, masked, streamBytes }) {
  const rand = prng(0x5eed + size + (masked ? 1 : 0) + (text ? 2 : 0));
  const distinct = Array.from({ length: 4 }, () => payloadBytes(size, text, rand));
  const perFrame = size + 2 + (masked ? 4 : 0) + (size < 126 ? 0 : size < 0x10000 ? 2 : 8);
  const count = Math.max(1, Math.round(streamBytes / perFrame));
  const stream = new Uint8Array(count * perFrame);
  let expected = 0;
  for (let i = 0; i < count; i++) {
    const p = distinct[i % distinct.length];
    stream.set(frame(text ? 1 : 2, p, masked, rand), i * perFrame);
    expected = mix(expected, p);
  }
  const chunks = [];
  for (let at = 0; at < stream.length; at += CHUNK) chunks.push(stream.subarray(at, at + CHUNK));
  return { chunks, count, expected };
}

function mix(h, bytes) {
  // Length plus a sparse sample of bytes: enough to catch a wrong key or offset.
  h = (Math.imul(h, 31) + bytes.length) | 0;
  const step = Math.max(1, bytes.length >>> 6);
  for (let i = 0; i < bytes.length; i += step) h = (Math.imul(h, 31) + bytes[i]) | 0;
  return (Math.imul(h, 31) + bytes[bytes.length - 1]) | 0;
}
const mixText = (h, s) =>
  mix(
    h,
    Uint8Array.from(s, (c) => c.charCodeAt(0)),
  );

// --- decoders ---------------------------------------------------------------

const NODE_ALLOC = { allocate: (n) => Buffer.allocUnsafeSlow(n) };

function thisDecoder(stream, masked, onMessage, options = {}) {
  const { bufs, refill } = receiveBuffers(stream.chunks, (n) => new Uint8Array(n));
  const limits = { maxMessageSize: 64 * MiB, ...options };
  const pair = openPair(codec, { server: limits, client: limits });
  const conn = masked ? pair.server : pair.client;
  const pass = () => {
    let n = 0;
    for (let i = 0; i < bufs.length; i++) {
      conn.receive(bufs[i]);
      for (let ev = conn.nextEvent(); ev !== undefined; ev = conn.nextEvent()) {
        if (ev.type !== 'binary' && ev.type !== 'text') throw new Error(`unexpected ${ev.type} event: ${ev.reason}`);
        onMessage(ev.data);
        n++;
      }
    }
    return n;
  };
  return { pass, refill };
}

function wsDecoder(stream, masked, onMessage) {
  const { bufs, refill } = receiveBuffers(stream.chunks, (n) => Buffer.allocUnsafeSlow(n));
  const receiver = new Receiver({ isServer: masked, binaryType: 'nodebuffer' });
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
    // Receiver.write() is what ws's socket 'data' handler calls.
    for (let i = 0; i < bufs.length; i++) receiver.write(bufs[i]);
    return n;
  };
  return { pass, refill };
}

function verify(name, make, stream, text, asString) {
  let h = 0;
  const { pass, refill } = make((data) => {
    if (typeof data === 'string') h = mixText(h, data);
    else h = asString ? mixText(h, data.toString()) : mix(h, data);
  });
  refill();
  const n = pass();
  if (n !== stream.count || h !== stream.expected) {
    throw new Error(
      `${name} decoded ${n}/${stream.count} messages, checksum ${h} vs ${stream.expected}${text ? ' (text)' : ''}`,
    );
  }
}

async function decodeCase({ size, masked, text }) {
  const large = size >= 64 * KiB;
  const stream = buildStream({ size, text, masked, streamBytes: large ? 8 * MiB : 2 * MiB });
  let sink = 0;
  const count = (data) => {
    sink ^= data.length;
  };
  const toStr = (data) => {
    sink ^= data.toString().length;
  };
  const makers = [
    ['this', (cb) => thisDecoder(stream, masked, cb)],
    ['ws', (cb) => wsDecoder(stream, masked, cb)],
  ];
  if (text) makers.push(['ws+toString', (cb) => wsDecoder(stream, masked, cb), true]);
  // node-server lends the codec an allocator that skips zero-filling a message's buffer (its `allocate` option).
  if (large && !text) makers.push(['this, node-server allocator', (cb) => thisDecoder(stream, masked, cb, NODE_ALLOC)]);
  const contenders = makers.map(([name, make, str]) => {
    verify(name, make, stream, text, str);
    return { name, ...make(str ? toStr : count) };
  });
  const result = await compare(contenders, large ? { sampleMs: 150, rounds: 7 } : {});
  if (sink === 0.5) console.log(sink); // keep the sink alive
  // Ops per pass are messages; a pass is the whole stream.
  return result;
}

// --- encoders ---------------------------------------------------------------

function thisEncoder(payload, masked, ops, batch = 1, transfer = false) {
  const pair = openPair(codec);
  const conn = masked ? pair.client : pair.server;
  let bytes = 0;
  const take = () => {
    const out = conn.takeOutgoing();
    for (let j = 0; j < out.length; j++) bytes += out[j].length;
  };
  const pass = () => {
    for (let i = 0; i < ops; i++) {
      conn.send({ type: 'binary', data: payload, transfer });
      // What a transport adapter does: take the buffers and write them, after
      // each send, or once for all the sends one read or tick produced.
      if ((i + 1) % batch === 0) take();
    }
    take();
    return ops;
  };
  return { pass, bytes: () => bytes };
}

function wsEncoder(payload, masked, ops) {
  let bytes = 0;
  const socket = {
    destroyed: false,
    cork() {},
    uncork() {},
    write(buf) {
      bytes += buf.length;
      return true;
    },
  };
  const sender = new Sender(socket, {}, undefined);
  const data = Buffer.from(payload);
  const options = { binary: true, fin: true, mask: masked, compress: false };
  const pass = () => {
    for (let i = 0; i < ops; i++) sender.send(data, options, undefined);
    return ops;
  };
  return { pass, bytes: () => bytes };
}

async function encodeCase({ size, masked, batch = 1 }) {
  const large = size >= 64 * KiB;
  const payload = payloadBytes(size, false, prng(size));
  const ops = Math.max(4, Math.floor((2 * MiB) / size));
  const a = thisEncoder(payload, masked, 1);
  const b = wsEncoder(payload, masked, 1);
  a.pass();
  b.pass();
  if (a.bytes() !== b.bytes()) throw new Error(`encoded sizes differ: ${a.bytes()} vs ${b.bytes()}`);
  const contenders = [
    { name: 'this', pass: thisEncoder(payload, masked, ops, batch).pass },
    { name: 'ws', pass: wsEncoder(payload, masked, ops).pass },
  ];
  // transfer: the payload is handed over and masked where it lies (its bytes change every pass, its size does not).
  if (large && masked)
    contenders.push({ name: 'this, transfer', pass: thisEncoder(payload.slice(), masked, ops, batch, true).pass });
  return compare(contenders, large ? { sampleMs: 150, rounds: 7 } : {});
}

// --- the public frame encoder (/frames) -------------------------------------

/**
 * Masking keys the way ws's Sender draws them: 4 bytes at a time from a pool
 * refilled with crypto randomness, so both contenders pay the same for keys.
 */
function keySource() {
  const pool = new Uint8Array(4096);
  let at = pool.length;
  return (key) => {
    if (at === pool.length) {
      crypto.getRandomValues(pool);
      at = 0;
    }
    key[0] = pool[at];
    key[1] = pool[at + 1];
    key[2] = pool[at + 2];
    key[3] = pool[at + 3];
    at += 4;
  };
}

/**
 * One frame per call, its bytes taken (ready to write) after every call.
 * `encodeFrame` returns the frame (up to 4 KiB a view into the codec's
 * shared pool); `encodeFrameInto` writes it into the caller's buffer (a
 * 64 KiB slab, replaced when full, as ws's Buffer pool is), from which the
 * caller writes it (`+view`: takes a view of it first).
 */
function thisFrameEncoder(api, payload, masked, ops) {
  const key = new Uint8Array(4);
  const init = masked ? { opcode: 2, maskKey: key } : { opcode: 2 };
  const nextKey = keySource();
  let bytes = 0;
  if (api === 'encodeFrame') {
    const { encodeFrame } = frames;
    return {
      pass: () => {
        for (let i = 0; i < ops; i++) {
          if (masked) nextKey(key);
          bytes += encodeFrame(init, payload).length;
        }
        return ops;
      },
      bytes: () => bytes,
    };
  }
  if (api === 'encodeFrameHeader') {
    // Unmasked: the header alone, the payload written after it as it is (ws's list).
    const { encodeFrameHeader } = frames;
    return {
      pass: () => {
        for (let i = 0; i < ops; i++) {
          const list = [encodeFrameHeader(init, payload.length), payload];
          bytes += list[0].length + list[1].length;
        }
        return ops;
      },
      bytes: () => bytes,
    };
  }
  const { encodeFrameInto } = frames;
  const SLAB = 64 * 1024;
  let slab = new Uint8Array(SLAB);
  let slabBuffer = slab.buffer;
  let pos = 0;
  const view = api === 'encodeFrameInto+view';
  return {
    pass: () => {
      for (let i = 0; i < ops; i++) {
        if (masked) nextKey(key);
        if (SLAB - pos < payload.length + 14) {
          slab = new Uint8Array(SLAB);
          slabBuffer = slab.buffer;
          pos = 0;
        }
        const end = encodeFrameInto(init, payload, slab, pos);
        // The bytes are the caller's to write from its buffer; a transport that
        // wants one object per frame gets a view (made from the ArrayBuffer at
        // hand: its getter is a call).
        bytes += view ? new Uint8Array(slabBuffer, pos, end - pos).length : end - pos;
        pos = end;
      }
      return ops;
    },
    bytes: () => bytes,
  };
}

/**
 * ws's static Sender.frame() with the options its Sender#send() passes for a
 * Buffer (readOnly: true): a list of buffers to write. Unmasked, that is
 * [header, payload]: a 2–10-byte header from Buffer.allocUnsafe (a slice of
 * Node's unzeroed 8 KiB pool) and the payload itself, not copied. Masked,
 * it is [frame]: one allocUnsafe buffer holding the header and the masked
 * copy of the payload (bufferutil masks from 48 bytes). So unmasked, only
 * encodeFrameHeader does what Sender.frame does; encodeFrame and
 * encodeFrameInto also copy the payload behind the header.
 */
function wsFrameEncoder(payload, masked, ops) {
  const data = Buffer.from(payload);
  const options = { fin: true, opcode: 2, mask: masked, maskBuffer: Buffer.alloc(4), readOnly: true, rsv1: false };
  let bytes = 0;
  return {
    pass: () => {
      for (let i = 0; i < ops; i++) {
        const list = Sender.frame(data, options);
        for (let j = 0; j < list.length; j++) bytes += list[j].length;
      }
      return ops;
    },
    bytes: () => bytes,
  };
}

/**
 * What copying the payload alone costs a frame encoder that writes one
 * contiguous frame, as encodeFrameInto does into the same 64 KiB slab: the
 * set() of the payload behind a 2-byte gap, and the fresh slab memory it
 * fills. ws's unmasked Sender.frame copies nothing.
 */
function payloadCopyAlone(payload, ops) {
  const SLAB = 64 * 1024;
  let slab = new Uint8Array(SLAB);
  let pos = 0;
  return {
    pass: () => {
      for (let i = 0; i < ops; i++) {
        if (SLAB - pos < payload.length + 14) {
          slab = new Uint8Array(SLAB);
          pos = 0;
        }
        slab.set(payload, pos + 2);
        pos += payload.length + 2;
      }
      return ops;
    },
  };
}

async function frameEncoderCase({ api, size, masked }) {
  const payload = payloadBytes(size, false, prng(size));
  const ops = 4096;
  const a = thisFrameEncoder(api, payload, masked, 1);
  const b = wsFrameEncoder(payload, masked, 1);
  a.pass();
  b.pass();
  if (a.bytes() !== b.bytes()) throw new Error(`frame sizes differ: ${a.bytes()} vs ${b.bytes()}`);
  const contenders = [
    { name: 'this', pass: thisFrameEncoder(api, payload, masked, ops).pass },
    { name: 'ws', pass: wsFrameEncoder(payload, masked, ops).pass },
  ];
  if (api === 'encodeFrameInto' && !masked)
    contenders.push({ name: 'payload copy alone', ...payloadCopyAlone(payload, ops) });
  return compare(contenders);
}

// --- masking alone ----------------------------------------------------------

/**
 * The masking kernels alone, on payloads at odd offsets (as inside a socket
 * chunk): unmasking in place, and masking while copying into a buffer whose
 * alignment differs from the source's. ws's functions are the ones its
 * Receiver and Sender call (bufferutil's addon from 32/48 bytes up).
 */
async function maskCase({ size, copy }) {
  const rand = prng(size);
  const span = Math.max(4 * MiB, size * 4);
  const mem = payloadBytes(span + 64, false, rand);
  const out = new Uint8Array(span + 64);
  const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
  const keyBuf = Buffer.from(key);
  const ops = Math.max(4, Math.floor((2 * MiB) / size));
  const slots = Math.max(1, Math.floor(span / (size + 5)));
  const memBuf = Buffer.from(mem.buffer, mem.byteOffset, mem.length);
  const outBuf = Buffer.from(out.buffer, out.byteOffset, out.length);
  const at = (i) => (i % slots) * (size + 5) + 1;
  const ours = copy
    ? () => {
        for (let i = 0; i < ops; i++) {
          const a = at(i);
          maskInto(mem.subarray(a, a + size), out, a + 1, key, 0);
        }
        return ops;
      }
    : () => {
        for (let i = 0; i < ops; i++) {
          const a = at(i);
          unmaskInPlace(mem.subarray(a, a + size), key, 0);
        }
        return ops;
      };
  const theirs = copy
    ? () => {
        for (let i = 0; i < ops; i++) {
          const a = at(i);
          wsBufferUtil.mask(memBuf.subarray(a, a + size), keyBuf, outBuf, a + 1, size);
        }
        return ops;
      }
    : () => {
        for (let i = 0; i < ops; i++) {
          const a = at(i);
          wsBufferUtil.unmask(memBuf.subarray(a, a + size), keyBuf);
        }
        return ops;
      };
  return compare([
    { name: 'this', pass: ours },
    { name: 'ws', pass: theirs },
  ]);
}

// --- the suite --------------------------------------------------------------

const sizeName = (n) => (n >= MiB ? `${n / MiB} MiB` : n >= KiB ? `${n / KiB} KiB` : `${n} B`);

export function cases() {
  const list = [];
  for (const masked of [true, false]) {
    for (const size of [16, 125, KiB]) {
      list.push({
        group: 'decode binary',
        name: `decode binary ${sizeName(size)} ${masked ? 'masked (server)' : 'unmasked (client)'}`,
        unit: 'frames/s',
        size,
        run: () => decodeCase({ size, masked, text: false }),
      });
    }
  }
  for (const masked of [true, false]) {
    for (const size of [64 * KiB, MiB]) {
      list.push({
        group: 'decode large',
        name: `decode binary ${sizeName(size)} ${masked ? 'masked (server)' : 'unmasked (client)'}`,
        unit: 'GB/s',
        size,
        run: () => decodeCase({ size, masked, text: false }),
      });
    }
  }
  for (const masked of [true, false]) {
    for (const size of [16, 125, KiB]) {
      list.push({
        group: 'decode text',
        name: `decode text ${sizeName(size)} ${masked ? 'masked (server)' : 'unmasked (client)'}`,
        unit: 'frames/s',
        size,
        run: () => decodeCase({ size, masked, text: true }),
      });
    }
  }
  for (const masked of [false, true]) {
    for (const size of [16, 125, KiB]) {
      list.push({
        group: 'encode binary, taken per send',
        name: `encode binary ${sizeName(size)} ${masked ? 'masked (client)' : 'unmasked (server)'}`,
        unit: 'frames/s',
        size,
        run: () => encodeCase({ size, masked }),
      });
    }
  }
  for (const masked of [false, true]) {
    for (const size of [16, 125, KiB]) {
      list.push({
        group: 'encode binary, taken per 16 sends',
        name: `encode binary ${sizeName(size)} ${masked ? 'masked (client)' : 'unmasked (server)'}, taken per 16`,
        unit: 'frames/s',
        size,
        run: () => encodeCase({ size, masked, batch: 16 }),
      });
    }
  }
  for (const api of ['encodeFrame', 'encodeFrameHeader', 'encodeFrameInto', 'encodeFrameInto+view']) {
    if (typeof frames[api.replace('+view', '')] !== 'function') continue;
    for (const masked of api === 'encodeFrameHeader' ? [false] : [false, true]) {
      for (const size of [16, 125]) {
        list.push({
          group: 'frame encoder',
          name: `${api} ${sizeName(size)} ${masked ? 'masked' : 'unmasked'} vs Sender.frame`,
          unit: 'frames/s',
          size,
          run: () => frameEncoderCase({ api, size, masked }),
        });
      }
    }
  }
  for (const size of [64 * KiB, MiB]) {
    list.push({
      group: 'encode large',
      name: `encode binary ${sizeName(size)} masked (client)`,
      unit: 'GB/s',
      size,
      run: () => encodeCase({ size, masked: true }),
    });
  }
  for (const copy of [false, true]) {
    for (const size of [125, KiB, 64 * KiB, MiB]) {
      list.push({
        group: 'mask kernel',
        name: `mask only ${sizeName(size)} ${copy ? 'copying, misaligned' : 'in place'}`,
        unit: 'GB/s',
        size,
        run: () => maskCase({ size, copy }),
      });
    }
  }
  return list;
}

export function environment() {
  return { codec: codecPath, ws: wsVersion, wsMasking: wsMaskImplementation(), chunkSize: CHUNK, clock };
}

export const notes = [
  'Decode: a pre-built stream of frames cut into 64 KiB chunks; each receiver gets fresh copies of the chunks before every pass (copy not timed).',
  'Binary is the like-for-like comparison. Text: "this" validates UTF-8 AND decodes to a JS string; ws validates and hands out bytes, "ws+toString" adds Buffer#toString() in the listener.',
  'Encode large masked, "this, transfer": send() with transfer: true, which hands the payload over to be masked in place and queued by reference (ws masks its own buffers in place the same way, but copies a Buffer it is given, as "this" does).',
  'Encode: send() plus taking the buffers for writing after every send, or once per 16 sends as an adapter does for the replies one read produced (this), vs Sender#send() into a socket stub that counts bytes (ws, which writes every frame as it is sent). Client keys come from crypto randomness in both.',
  'GB/s counts payload bytes (1 GB = 1e9 bytes).',
  "Frame encoder: the public /frames encoder, one frame per call with its bytes taken each time (encodeFrame returns it, small frames from the codec's shared pool; encodeFrameInto writes into a 64 KiB buffer of the caller, replaced when full, and +view also takes a view of it), vs ws's static Sender.frame() with the options Sender#send() passes for a Buffer. Keys for masked frames come from a crypto-filled pool in both.",
  'Frame encoder, unmasked: Sender.frame returns a pooled header and the payload by reference (no copy), as encodeFrameHeader does; encodeFrame and encodeFrameInto write one contiguous frame, so they also copy the payload. "payload copy alone" is that copy and the slab memory it fills, without any header.',
  'Frame encoder, masked: Sender.frame returns one buffer with the header and the masked payload, as encodeFrame and encodeFrameInto do.',
  'Mask only: maskInto/unmaskInPlace vs the mask/unmask functions ws itself uses, on payloads at odd offsets; copying into a destination of different alignment.',
];
