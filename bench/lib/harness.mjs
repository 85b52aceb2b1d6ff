// Timing harness shared by every bench suite: plain performance.now() loops,
// warm-up, interleaved rounds (implementations alternate, order reversed every
// other round), median of the rounds.
import { performance } from 'node:perf_hooks';

/**
 * A contender in one case. `pass()` does one unit of timed work and returns
 * how many operations it performed; `refill()` (optional, untimed) restores
 * the input a pass consumes, e.g. fresh copies of received chunks.
 * @typedef {{ name: string, pass: () => number, refill?: () => void }} Contender
 */

/**
 * Yields to the event loop so nextTick/immediate work queued by a pass runs
 * outside the timed region. (No forced GC here: calling gc() between samples
 * was tried and slowed ws's Sender ~8× for the rest of the run, presumably by
 * leaving the young generation shrunk.)
 */
export const idle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * What a sample's time is: 'wall' (default) is performance.now(); 'cpu'
 * (BENCH_CLOCK=cpu) is the process's user + system CPU time, which on a
 * machine shared with other work leaves out the time this process spent
 * waiting for a core (it still counts GC helper threads and page faults,
 * which are part of the work).
 */
export const clock = process.env.BENCH_CLOCK === 'cpu' ? 'cpu' : 'wall';

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const now = clock === 'cpu' ? cpuMs : () => performance.now();

/** Runs passes of `c` until `ms` of timed work has accumulated; returns operations per second. */
function sample(c, ms) {
  let ops = 0;
  let spent = 0;
  while (spent < ms) {
    if (c.refill) c.refill();
    const t0 = now();
    ops += c.pass();
    spent += now() - t0;
  }
  return (ops * 1000) / spent;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Measures every contender: `warmupMs` each first, then `rounds` interleaved
 * samples of `sampleMs` each. Returns { [name]: { median, samples } } in ops/s.
 */
export async function compare(contenders, { warmupMs = 150, sampleMs = 100, rounds = 7 } = {}) {
  for (const c of contenders) {
    sample(c, warmupMs);
    await idle();
  }
  const samples = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = contenders.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      samples[i].push(sample(contenders[i], sampleMs));
      await idle();
    }
  }
  const out = {};
  contenders.forEach((c, i) => {
    out[c.name] = { median: median(samples[i]), samples: samples[i] };
  });
  return out;
}

export function formatRate(opsPerSec, unit) {
  if (unit === 'GB/s') return `${opsPerSec.toFixed(2)} GB/s`;
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)} M/s`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)} k/s`;
  return `${opsPerSec.toFixed(0)} /s`;
}

/** Prints rows as an aligned text table. `rows` are arrays of strings; the first is the header. */
export function printTable(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => String(r[col] ?? '').length)));
  const line = (r) =>
    r
      .map((cell, col) => (col === 0 ? String(cell).padEnd(widths[col]) : String(cell).padStart(widths[col])))
      .join('  ');
  console.log(line(rows[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
}

/** A small deterministic PRNG (xorshift32), so every run benches the same bytes and keys. */
export function prng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Receive buffers owned by one contender, refilled from the pristine chunks before each pass (untimed). */
export function receiveBuffers(chunks, alloc) {
  const bufs = chunks.map((c) => alloc(c.length));
  return {
    bufs,
    refill() {
      for (let i = 0; i < bufs.length; i++) bufs[i].set(chunks[i]);
    },
  };
}
