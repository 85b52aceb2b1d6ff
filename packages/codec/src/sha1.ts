/**
 * SHA-1 (FIPS 180-4 §6.1), synchronous and dependency-free.
 *
 * The handshake needs exactly one digest of ~60 bytes per connection, and
 * WebCrypto's `subtle.digest` is asynchronous, which would force an await into
 * an otherwise synchronous state machine. SHA-1 is used here only because
 * RFC 6455 §4.2.2 prescribes it for `Sec-WebSocket-Accept`; it is not a
 * security boundary.
 */

const BLOCK_BYTES = 64;

/** Returns the 20-byte SHA-1 digest of `data`. */
export function sha1(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const state = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
  const schedule = new Uint32Array(80);
  const padded = pad(data);
  const view = new DataView(padded.buffer);
  for (let offset = 0; offset < padded.length; offset += BLOCK_BYTES) {
    compress(state, schedule, view, offset);
  }
  const digest = new Uint8Array(20);
  const out = new DataView(digest.buffer);
  for (let i = 0; i < 5; i++) out.setUint32(i * 4, state[i] ?? 0);
  return digest;
}

/** Appends 0x80, zeros, and the 64-bit big-endian bit length (FIPS 180-4 §5.1.1). */
function pad(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const total = Math.ceil((data.length + 9) / BLOCK_BYTES) * BLOCK_BYTES;
  const padded = new Uint8Array(total);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  // Bit length split in two words: JS bitwise ops are 32-bit only.
  const bitsHigh = Math.floor(data.length / 0x20000000);
  const bitsLow = (data.length * 8) >>> 0;
  view.setUint32(total - 8, bitsHigh);
  view.setUint32(total - 4, bitsLow);
  return padded;
}

function compress(state: Uint32Array, w: Uint32Array, view: DataView, offset: number): void {
  for (let t = 0; t < 16; t++) w[t] = view.getUint32(offset + t * 4);
  for (let t = 16; t < 80; t++) {
    w[t] = rotl((w[t - 3] ?? 0) ^ (w[t - 8] ?? 0) ^ (w[t - 14] ?? 0) ^ (w[t - 16] ?? 0), 1);
  }
  let a = state[0] ?? 0;
  let b = state[1] ?? 0;
  let c = state[2] ?? 0;
  let d = state[3] ?? 0;
  let e = state[4] ?? 0;
  for (let t = 0; t < 80; t++) {
    const temp = (rotl(a, 5) + roundFunction(t, b, c, d) + e + roundConstant(t) + (w[t] ?? 0)) >>> 0;
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = temp;
  }
  state[0] = (state[0] ?? 0) + a;
  state[1] = (state[1] ?? 0) + b;
  state[2] = (state[2] ?? 0) + c;
  state[3] = (state[3] ?? 0) + d;
  state[4] = (state[4] ?? 0) + e;
}

function roundFunction(t: number, b: number, c: number, d: number): number {
  if (t < 20) return (b & c) | (~b & d);
  if (t < 40 || t >= 60) return b ^ c ^ d;
  return (b & c) | (b & d) | (c & d);
}

function roundConstant(t: number): number {
  if (t < 20) return 0x5a827999;
  if (t < 40) return 0x6ed9eba1;
  if (t < 60) return 0x8f1bbcdc;
  return 0xca62c1d6;
}

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}
