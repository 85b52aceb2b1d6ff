/**
 * A compression backend whose async deflater completes only when the test
 * says so: pako's deflater underneath, its calls queued as jobs. Each
 * deflater has its own queue (as a thread pool keeps one connection's calls
 * in order but not the order across connections).
 */
import { type AsyncDeflater, type CompressionBackend, type DeflaterOptions, pakoBackend } from '../src/index.js';

export class DeferredBackend implements CompressionBackend {
  readonly name = 'deferred pako';
  /** One queue of jobs per async deflater made, in creation order. */
  readonly queues: (() => void)[][] = [];
  /** Makes every compression fail from now on (a backend error, e.g. out of memory). */
  failing = false;
  /** Compressions completed (with output or an error). */
  compressions = 0;

  createInflater(windowBits: number) {
    return pakoBackend.createInflater(windowBits);
  }

  createDeflater(options: DeflaterOptions) {
    return pakoBackend.createDeflater(options);
  }

  createAsyncDeflater(options: DeflaterOptions): AsyncDeflater {
    const deflater = pakoBackend.createDeflater(options);
    const jobs: (() => void)[] = [];
    this.queues.push(jobs);
    return {
      compress: (bytes, done) => {
        jobs.push(() => {
          this.compressions++;
          done(this.failing ? new Error('deflate engine failed') : deflater.compress(bytes).slice());
        });
      },
      reset: () => {
        jobs.push(() => deflater.reset());
      },
    };
  }

  /** Jobs waiting in every queue. */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues) n += q.length;
    return n;
  }

  /** Runs up to `n` jobs, oldest first, taking queue `q` first (then any). Returns how many ran. */
  run(n = Number.POSITIVE_INFINITY, q = 0): number {
    let ran = 0;
    const order = [...this.queues.slice(q), ...this.queues.slice(0, q)];
    for (const jobs of order) {
      while (ran < n && jobs.length > 0) {
        (jobs.shift() as () => void)();
        ran++;
      }
    }
    return ran;
  }
}
