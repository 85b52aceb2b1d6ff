/**
 * XOR masking (RFC 6455 §5.3). Both functions take the offset into the
 * payload at which `data` starts, so a payload that arrives in pieces can be
 * unmasked piece by piece with the same key.
 */

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The key rotated so that its byte for payload index `offset` comes first, as a native-endian uint32. */
function rotatedKey32(key: Uint8Array, offset: number): number {
  const o = offset & 3;
  const b0 = key[o] as number;
  const b1 = key[(o + 1) & 3] as number;
  const b2 = key[(o + 2) & 3] as number;
  const b3 = key[(o + 3) & 3] as number;
  return littleEndian
    ? (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0
    : ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

// Below this size a byte loop beats setting up word views.
const WORD_THRESHOLD = 32;

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
  let i = 0;
  if (n >= WORD_THRESHOLD) {
    // Advance byte by byte until the destination is 4-byte aligned, then XOR
    // whole words when the source is aligned the same way.
    const dstAbs = dst.byteOffset + dstStart;
    const lead = (4 - (dstAbs & 3)) & 3;
    for (; i < lead; i++) dst[dstStart + i] = (src[i] as number) ^ (key[(offset + i) & 3] as number);
    if (((src.byteOffset + i) & 3) === 0) {
      const words = (n - i) >>> 2;
      const s32 = new Uint32Array(src.buffer, src.byteOffset + i, words);
      const d32 = new Uint32Array(dst.buffer, dstAbs + i, words);
      const k = rotatedKey32(key, offset + i);
      for (let w = 0; w < words; w++) d32[w] = (s32[w] as number) ^ k;
      i += words << 2;
    }
  }
  for (; i < n; i++) dst[dstStart + i] = (src[i] as number) ^ (key[(offset + i) & 3] as number);
}
