/**
 * How an operation's cost grows with its input, for tests that guard against
 * super-linear parsing of crafted peer input. A ratio of two costs measured on
 * the same machine does not depend on how fast that machine is, unlike a
 * bound in milliseconds. Cost is the process's CPU time, not elapsed time, so
 * time spent waiting for a core on a loaded machine is not counted; the two
 * sizes are timed in batches of equal total input (the small input `factor`
 * times as often), so any disturbance hits both alike; and the cheapest of
 * several interleaved rounds counts, since disturbances only ever add.
 *
 * Linear work gives a ratio near `factor`, quadratic near `factor²`, work
 * that stops at a fixed limit near 1.
 */
import { isMainThread } from 'node:worker_threads';

export interface GrowthOptions {
  /** The smaller input's size; the larger one is `size * factor`. */
  readonly size: number;
  readonly factor?: number;
  /** Measured rounds at each size; the cheapest counts. */
  readonly rounds?: number;
}

/** A batch shorter than this is repeated more, so clock granularity does not dominate. */
const MIN_BATCH_MICROS = 5_000;

export function growthRatio<T>(make: (size: number) => T, work: (input: T) => unknown, options: GrowthOptions): number {
  // Process CPU time only measures this test when no other test runs in the same process.
  if (!isMainThread) throw new Error('growthRatio needs a process of its own (vitest pool "forks")');
  const { size, factor = 4, rounds = 7 } = options;
  const small = make(size);
  const large = make(size * factor);
  // Compile and warm both paths before anything is measured.
  work(small);
  work(large);
  let repeat = 1;
  while (cpuMicros(() => work(large), repeat) < MIN_BATCH_MICROS && repeat < 1 << 16) repeat *= 2;
  let bestSmall = Number.POSITIVE_INFINITY;
  let bestLarge = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    bestSmall = Math.min(
      bestSmall,
      cpuMicros(() => work(small), repeat * factor),
    );
    bestLarge = Math.min(
      bestLarge,
      cpuMicros(() => work(large), repeat),
    );
  }
  return (bestLarge / bestSmall) * factor;
}

function cpuMicros(run: () => unknown, repeat: number): number {
  const before = process.cpuUsage();
  for (let i = 0; i < repeat; i++) run();
  const { user, system } = process.cpuUsage(before);
  return user + system;
}
