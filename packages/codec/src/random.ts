/**
 * Randomness for masking keys. The codec never reaches for randomness except
 * through a {@link RandomSource}, so a seeded source replays a whole session.
 */

/** Fills `bytes` with random bytes. */
export type RandomSource = (bytes: Uint8Array) => void;

/** The default source: `crypto.getRandomValues`, available in every target runtime. */
export const cryptoRandom: RandomSource = (bytes) => {
  crypto.getRandomValues(bytes);
};

const POOL_SIZE = 4096;

/**
 * Hands out 4-byte masking keys from a pool refilled in bulk, because one
 * `getRandomValues` call per frame would cost more than encoding the frame.
 */
export class MaskKeyPool {
  private readonly pool = new Uint8Array(POOL_SIZE);
  private pos = POOL_SIZE;

  constructor(private readonly random: RandomSource) {}

  /** Writes a fresh key into `dst` at `at`. */
  writeKey(dst: Uint8Array, at: number): void {
    if (this.pos === POOL_SIZE) {
      this.random(this.pool);
      this.pos = 0;
    }
    const p = this.pos;
    const pool = this.pool;
    dst[at] = pool[p] as number;
    dst[at + 1] = pool[p + 1] as number;
    dst[at + 2] = pool[p + 2] as number;
    dst[at + 3] = pool[p + 3] as number;
    this.pos = p + 4;
  }
}
