/**
 * XOR masking (RFC 6455 §5.3). Both functions take the offset into the
 * payload at which `data` starts, so a payload that arrives in pieces can be
 * unmasked piece by piece with the same key.
 *
 * Three paths, by size:
 *  - short payloads (under 80 bytes): a byte loop with the key held in
 *    locals (no setup cost);
 *  - larger ones: a WebAssembly SIMD kernel, fed by copying blocks of up to
 *    64 KiB into its memory and back (two memcpys and a 16-byte-wide XOR
 *    beat any JS loop from about 80 bytes on);
 *  - where WebAssembly or SIMD is missing: 32-bit words from 128 bytes. When
 *    source and destination differ in alignment mod 4 (payloads sit at any
 *    offset in a socket chunk), the bytes are copied first and the copy is
 *    XORed in place, which keeps the word loop instead of a byte loop.
 *
 * The same memory serves as scratch space: a frame whose bytes must end up
 * in a buffer of their own (a masked frame to send, a payload that arrived
 * in several chunks) is assembled and masked there, then leaves in one copy
 * with `copyOf` (byte-copy.ts), which engines fill without zeroing first. Writing into
 * a fresh zeroed buffer instead costs a pass of its own: zeroing a buffer
 * costs about what copying into it does.
 */
import { SIMD_OVERRUN, simdMasker, type SimdMasker } from './mask-wasm.js';

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// Below these sizes the byte loop wins: calling into WebAssembly (two copies
// and a call, ~60 ns) or setting up Uint32Array views costs more than it saves.
// Measured crossovers on Node 20 / x64: ~80 bytes for the SIMD kernel, ~128
// for 32-bit words.
const SIMD_MIN = 80;
const WORDS_MIN = 128;

let simd: SimdMasker | null | undefined;
let simdAllowed = true;

/**
 * For tests and benchmarks: allow or forbid the WebAssembly path. Returns
 * whether the WebAssembly path is in use afterwards.
 * @internal
 */
export function useSimd(allowed: boolean): boolean {
  simdAllowed = allowed;
  simd = undefined;
  return allowed && simdMasker() !== null;
}

// maskInto streams larger payloads through the kernel's memory in blocks
// this size: big enough to amortise a call, small enough to stay in cache.
const SIMD_BLOCK = 65536;

/**
 * Largest number of bytes {@link scratch} hands out: a 1 MiB payload with the
 * longest frame header (the kernel's memory is sized for it). Scratch memory
 * is never released, so this is what a process keeps after its largest frame.
 */
export const SCRATCH_LIMIT = 1024 * 1024 + 14;

/** The last view of the kernel's memory that maskInto copied out of. */
let lastView = new Uint8Array(0);

/** Scratch memory where WebAssembly is missing (or forbidden by useSimd). */
let plainScratch = new Uint8Array(0);

/** XORs `data` in place with `key`, where `data[0]` is payload byte number `offset`. */
export function unmaskInPlace(data: Uint8Array, key: Uint8Array, offset: number): void {
  maskInto(data, data, 0, key, offset);
}

/**
 * Writes `src` XOR `key` into `dst` starting at `dstStart`, where `src[0]` is
 * payload byte number `offset`. `src` and `dst` may be the same memory at the
 * same position (in-place), but must not otherwise overlap.
 */
export function maskInto(src: Uint8Array, dst: Uint8Array, dstStart: number, key: Uint8Array, offset: number): void {
  const n = src.length;
  if (n >= SIMD_MIN) {
    if (simd === undefined) simd = simdAllowed ? simdMasker() : null;
    if (simd !== null) {
      maskSimd(simd, src, dst, dstStart, key, offset);
      return;
    }
    if (n >= WORDS_MIN) {
      maskWords(src, dst, dstStart, key, offset);
      return;
    }
  }
  maskBytes(src, dst, dstStart, key, offset, 0, n);
}

/** `dst[dstStart + i] = src[i] ^ key` for i in [from, to). */
function maskBytes(
  src: Uint8Array,
  dst: Uint8Array,
  dstStart: number,
  key: Uint8Array,
  offset: number,
  from: number,
  to: number,
): void {
  const o = offset + from;
  const k0 = key[o & 3] as number;
  const k1 = key[(o + 1) & 3] as number;
  const k2 = key[(o + 2) & 3] as number;
  const k3 = key[(o + 3) & 3] as number;
  let i = from;
  let d = dstStart + from;
  for (const end4 = to - 3; i < end4; i += 4, d += 4) {
    dst[d] = (src[i] as number) ^ k0;
    dst[d + 1] = (src[i + 1] as number) ^ k1;
    dst[d + 2] = (src[i + 2] as number) ^ k2;
    dst[d + 3] = (src[i + 3] as number) ^ k3;
  }
  if (i < to) {
    dst[d] = (src[i] as number) ^ k0;
    if (i + 1 < to) {
      dst[d + 1] = (src[i + 1] as number) ^ k1;
      if (i + 2 < to) dst[d + 2] = (src[i + 2] as number) ^ k2;
    }
  }
}

/**
 * Shared memory of at least `n` bytes for assembling bytes that then leave
 * with `copyOf`; null past {@link SCRATCH_LIMIT}. Its contents last
 * until the next call into this module.
 */
export function scratch(n: number): Uint8Array<ArrayBuffer> | null {
  if (n > SCRATCH_LIMIT) return null;
  if (simd === undefined) simd = simdAllowed ? simdMasker() : null;
  if (simd !== null) return n + SIMD_OVERRUN <= simd.mem.length ? simd.mem : null;
  if (plainScratch.length < n)
    plainScratch = new Uint8Array(Math.min(SCRATCH_LIMIT, Math.max(n, 2 * plainScratch.length, 65536)));
  return plainScratch;
}

/**
 * Copies `src` into `mem` (what {@link scratch} returned) at `at`, masked
 * with `key`, where `src[0]` is payload byte number `offset`: a copy and the
 * kernel working on its own memory, with no copy back. Bytes up to 64 past
 * the copy may change.
 */
export function maskIntoScratch(src: Uint8Array, mem: Uint8Array, at: number, key: Uint8Array, offset: number): void {
  const n = src.length;
  const s = simd;
  if (s === null || s === undefined || n < SIMD_MIN) {
    maskInto(src, mem, at, key, offset);
    return;
  }
  mem.set(src, at);
  s.xor(at, at + n, keyLE(key, offset));
}

/** The key rotated so that its byte for payload index `offset` comes first, packed little-endian. */
function keyLE(key: Uint8Array, offset: number): number {
  const o = offset & 3;
  return (
    (key[o] as number) |
    ((key[(o + 1) & 3] as number) << 8) |
    ((key[(o + 2) & 3] as number) << 16) |
    ((key[(o + 3) & 3] as number) << 24)
  );
}

/** The same, packed in this platform's byte order (for Uint32Array views). */
function keyNative(key: Uint8Array, offset: number): number {
  if (littleEndian) return keyLE(key, offset);
  const o = offset & 3;
  return (
    ((key[o] as number) << 24) |
    ((key[(o + 1) & 3] as number) << 16) |
    ((key[(o + 2) & 3] as number) << 8) |
    (key[(o + 3) & 3] as number)
  );
}

/** Masks through the WebAssembly kernel, one block of at most 64 KiB at a time. */
function maskSimd(
  s: SimdMasker,
  src: Uint8Array,
  dst: Uint8Array,
  dstStart: number,
  key: Uint8Array,
  offset: number,
): void {
  // Blocks are a multiple of 4 bytes long, so one rotation of the key serves them all.
  const k = keyLE(key, offset);
  const mem = s.mem;
  const n = src.length;
  if (n <= SIMD_BLOCK) {
    mem.set(src);
    s.xor(0, n, k);
    // Making the view costs more than the copies for a frame of a hundred
    // bytes; frames of one size in a row (fixed-size records, fragments) reuse it.
    // (The memory never grows, so a view of it never goes stale.)
    let view = lastView;
    if (view.length !== n) lastView = view = mem.subarray(0, n);
    dst.set(view, dstStart);
    return;
  }
  for (let at = 0; at < n; at += SIMD_BLOCK) {
    const end = Math.min(at + SIMD_BLOCK, n);
    const len = end - at;
    mem.set(src.subarray(at, end));
    s.xor(0, len, k);
    dst.set(mem.subarray(0, len), dstStart + at);
  }
}

/** Masks with 32-bit words (the path without WebAssembly SIMD); `src.length` ≥ 8. */
function maskWords(src: Uint8Array, dst: Uint8Array, dstStart: number, key: Uint8Array, offset: number): void {
  const n = src.length;
  const dstAbs = dst.byteOffset + dstStart;
  let from = src;
  if (((src.byteOffset ^ dstAbs) & 3) !== 0) {
    // Alignments differ: copy (a memcpy), then XOR the copy in place.
    dst.set(src, dstStart);
    from = dst.subarray(dstStart, dstStart + n);
  }
  const lead = (4 - (dstAbs & 3)) & 3;
  maskBytes(from, dst, dstStart, key, offset, 0, lead);
  const words = (n - lead) >>> 2;
  const inPlace = from.buffer === dst.buffer && from.byteOffset === dstAbs;
  const d32 = new Uint32Array(dst.buffer, dstAbs + lead, words);
  const s32 = inPlace ? d32 : new Uint32Array(from.buffer, from.byteOffset + lead, words);
  const k = keyNative(key, offset + lead);
  for (let w = 0; w < words; w++) d32[w] = (s32[w] as number) ^ k;
  maskBytes(from, dst, dstStart, key, offset, lead + (words << 2), n);
}
