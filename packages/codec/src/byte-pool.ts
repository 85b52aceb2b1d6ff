/**
 * Small byte arrays carved out of a shared ArrayBuffer, the way Node pools
 * small Buffers, for results that must be a Uint8Array of their own. V8 gives
 * a typed array over 64 bytes its own off-heap backing store, which costs
 * about half a microsecond per array (and, when a host reads `.buffer` of a
 * smaller on-heap one, as Node's stream write does, it is moved off-heap
 * then); a view of a shared buffer costs a few tens of nanoseconds.
 *
 * The consequence for whoever gets such an array: its `.buffer` holds other
 * arrays too, so the array must be used through its own offset and length,
 * and its buffer never transferred (that would detach every array carved
 * from the same pool). A region once handed out is never handed out again,
 * so arrays never alias one another.
 */

const POOL_SIZE = 0x1_0000; // 64 KiB

/**
 * Arrays up to this size come from the pool; larger ones get a buffer of
 * their own. A pool is replaced once a request does not fit in what is left,
 * so at most this much of each pool goes unused.
 */
export const POOLED_MAX = 0x1000; // 4 KiB

// Made on first use: a process that never asks for pooled bytes holds none.
let pool = new ArrayBuffer(0);
let poolPos = 0;

/** `n` bytes (at most {@link POOLED_MAX}), zeroed or not, that no other array shares. */
export function pooledBytes(n: number): Uint8Array<ArrayBuffer> {
  // byteLength reads 0 once the pool was detached (its buffer transferred
  // against advice): a fresh pool, rather than a TypeError on every call after.
  if (n > pool.byteLength - poolPos) {
    pool = new ArrayBuffer(POOL_SIZE);
    poolPos = 0;
  }
  poolPos += n;
  return new Uint8Array(pool, poolPos - n, n);
}
