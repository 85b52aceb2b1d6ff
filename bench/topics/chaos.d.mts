import type { JudgeResult } from './oracle.mjs';

export interface ChaosOptions {
  /** Topics clients (default 24). */
  readonly clients?: number;
  /** Topics, one publisher each (default alpha, beta, gamma); each client takes all but one. */
  readonly topics?: readonly string[];
  /** How long faults are injected, in ms (default 16 000). */
  readonly durationMs?: number;
  /** Pause between one publisher's publishes, in ms (default 40). */
  readonly publishIntervalMs?: number;
  /** How long clients may take to catch up once faults stop, in ms (default 20 000). */
  readonly settleTimeoutMs?: number;
  /** Seed of the random choices (lifetimes, backoff jitter, repeats). */
  readonly seed?: number;
  readonly faults?: { readonly clientLifetimeMs?: readonly [number, number] };
  readonly log?: (line: string) => void;
}

export interface ChaosCounts {
  readonly pubsubKills: number;
  readonly redisCuts: number;
  readonly serverKills: number;
  readonly redisRestarts: number;
  readonly publishAttempts: number;
  readonly publishFailures: number;
  readonly idempotentRepeats: number;
  readonly idempotencyViolations: number;
  readonly clientConnectionsCut: number;
  readonly clientConnections: number;
  /** CPU time of every server process (the killed one up to its last report), µs. */
  readonly serverCpuMicros: number;
  /** From the first fault timer to the end of the settle wait, s. */
  readonly runSeconds: number;
}

export interface ChaosResult extends JudgeResult {
  readonly settled: boolean;
  readonly counts: ChaosCounts;
}

export function runChaos(options?: ChaosOptions): Promise<ChaosResult>;
