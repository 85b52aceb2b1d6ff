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

/**
 * Hands out 4-byte masking keys from a pool refilled in bulk, because one
 * `getRandomValues` call per frame would cost more than encoding the frame.
 */
export class MaskKeyPool {
  private readonly pool: Uint8Array;
  private pos: number;

  constructor(
    private readonly random: RandomSource,
    size = 256,
  ) {
    this.pool = new Uint8Array(size);
    this.pos = size;
  }

  /**
   * The pool for a connection: connections using the default source share
   * one (so an idle client holds no key buffer); a custom source gets its own,
   * so a seeded source replays the same keys for the same connection.
   */
  static for(random: RandomSource | undefined): MaskKeyPool {
    if (random === undefined || random === cryptoRandom) return (sharedPool ??= new MaskKeyPool(cryptoRandom, 4096));
    return new MaskKeyPool(random);
  }

  /** Writes a fresh key into `dst` at `at`. */
  writeKey(dst: Uint8Array, at: number): void {
    if (this.pos === this.pool.length) {
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

let sharedPool: MaskKeyPool | undefined;
