/** Report shapes shared by the server suite and the fuzzing server, and their text form. */
import type { Family } from './case.js';

export interface Failure {
  readonly family: Family;
  readonly variant: string;
  readonly description: string;
  readonly reason: string;
  /** fast-check's seed and path: together they replay the shrunk case. */
  readonly seed: number;
  readonly path: string;
  /** The shrunk case: its bytes in hex, how they were split, the pauses. */
  readonly shrunk: string;
  readonly reproduce: string;
}

/** A variant's first failure in census mode; `path` (with the run's seed) replays it and shrinks it. */
export interface VariantFailure {
  readonly variant: string;
  readonly description: string;
  readonly reason: string;
  readonly path: string;
}

export interface FamilyResult {
  readonly family: Family;
  readonly status: 'passed' | 'failed' | 'not applicable';
  readonly runs: number;
  readonly passed: number;
  /** Why the family could not run (deflate declined or not requested). */
  readonly reason?: string;
  /** What part of a family ran when not all of it could (limits without a limit: floods only). */
  readonly note?: string;
  readonly failure?: Failure;
  /** Census mode (`census: true`): how many runs failed, and how many of each variant. Without it the family stops at its first failure. */
  readonly failed?: number;
  readonly failedVariants?: Readonly<Record<string, number>>;
  /** Census mode: the first failed run of each failing variant, unshrunk (`failure` is the first of all, shrunk). */
  readonly variantFailures?: readonly VariantFailure[];
  /** How often each policy choice was seen, e.g. `close/registry-code: accepted`. */
  readonly policies: Readonly<Record<string, number>>;
  /** Invalid cases passed by closing TCP without a close frame. */
  readonly droppedWithoutClose: number;
  readonly ms: number;
}

export interface ServerReport {
  readonly url: string;
  readonly seed: number;
  readonly strict: boolean;
  /** For a `wss://` URL: true when the server's certificate was not verified (`insecure`). */
  readonly insecure?: boolean;
  readonly families: readonly FamilyResult[];
  readonly ok: boolean;
}

export function formatServerReport(r: ServerReport): string {
  const lines = [
    `conformance of ${r.url} (seed ${r.seed}${r.strict ? ', strict' : ''}${r.insecure ? ', TLS certificate NOT verified: --insecure' : ''})`,
  ];
  for (const f of r.families) {
    const head =
      f.status === 'not applicable'
        ? `n/a (${f.reason})`
        : `${f.status} ${f.passed}/${f.runs}${f.note !== undefined ? ` (${f.note})` : ''}`;
    const extra = [
      ...Object.entries(f.failedVariants ?? {}).map(([k, n]) => `failed ${k}×${n}`),
      ...Object.entries(f.policies).map(([k, n]) => `${k}×${n}`),
      ...(f.droppedWithoutClose > 0 ? [`${f.droppedWithoutClose} dropped TCP without close`] : []),
    ];
    lines.push(`  ${f.family.padEnd(14)} ${head}${extra.length > 0 ? `  [${extra.join(', ')}]` : ''}  ${f.ms} ms`);
  }
  for (const f of r.families) {
    if (!f.failure) continue;
    const x = f.failure;
    lines.push(
      '',
      `FAIL ${x.family} (${x.variant}): ${x.description}`,
      `  why:     ${x.reason}`,
      `  seed:    ${x.seed}  path: ${x.path}`,
      `  case:    ${x.shrunk}`,
      `  replay:  ${x.reproduce}`,
    );
  }
  const counts = { passed: 0, failed: 0, na: 0 };
  for (const f of r.families) {
    if (f.status === 'passed') counts.passed++;
    else if (f.status === 'failed') counts.failed++;
    else counts.na++;
  }
  lines.push('', `${counts.passed} families passed, ${counts.failed} failed, ${counts.na} not applicable`);
  return lines.join('\n');
}
