/**
 * The server suite: for each family, a fast-check async property that runs a
 * generated case against the server and judges it. fast-check shrinks a
 * failure to a minimal case, and its seed and path replay exactly that case.
 */
import { chunking } from '@rfc6455/codec/testing';
import fc from 'fast-check';
import { type Case, FAMILIES, type Family } from './case.js';
import { familyCases } from './cases.js';
import { type FloodCase, type FloodOptions, floodCases } from './flood-cases.js';
import { runFlood } from './flood-run.js';
import { judge, readFrames, type Verdict } from './judge.js';
import { openRaw } from './raw-client.js';
import type { FamilyResult, Failure, ServerReport, VariantFailure } from './report.js';
import { type HandshakeCase, handshakeCases, runHandshakeCase } from './handshake-cases.js';
import { parseTarget, runAgainstServer, type Target, type Timing } from './session.js';
import { hex, splitBounded } from './wire.js';

export interface ServerSuiteOptions {
  /** A ws:// or wss:// URL of an echo server: text back as text, binary as binary. */
  readonly url: string;
  /**
   * PEM certificates to trust besides Node's bundled CAs when verifying a
   * `wss://` server (the CLI's `--ca FILE`). The replay line does not carry
   * it: put `--ca FILE` in `command`.
   */
  readonly ca?: string;
  /** Do not verify a `wss://` server's certificate (`--insecure`); the report says so. */
  readonly insecure?: boolean;
  /** Cases per family (default 100). */
  readonly runs?: number;
  /** Seed; default random. Each family runs with this seed. */
  readonly seed?: number;
  /** fast-check path of a failure, to replay one shrunk case (with `seed` and one family). */
  readonly path?: string;
  readonly families?: readonly Family[];
  /** Variants (e.g. `utf8/fail-fast`) not to generate. */
  readonly skip?: readonly string[];
  /** The server's message size limit: enables the limits family's size cases (floods run without it). */
  readonly maxMessageSize?: number;
  /** The server's frame payload limit, when smaller than `maxMessageSize`: adds frames at and over it. */
  readonly maxFrameSize?: number;
  /** Sizes and deadline of the limits family's floods. */
  readonly flood?: FloodOptions;
  /** Offer permessage-deflate in the deflate family (it is n/a without). */
  readonly deflate?: boolean;
  /** Strict mode: close frames on every failure, exact close echoes, every ping answered, TCP closed by the server. */
  readonly strict?: boolean;
  /** Longest pause between two chunks, in ms (default 3). */
  readonly maxDelay?: number;
  readonly timing?: Partial<Timing>;
  /**
   * Run each case on an HTTP/2 stream (RFC 8441): an extended CONNECT on an
   * h2c session to a `ws://` URL's host and port, or on an h2 session over
   * TLS to a `wss://` one (the server must select h2 by ALPN), which must
   * enable SETTINGS_ENABLE_CONNECT_PROTOCOL. The handshake family (HTTP/1.1
   * requests) does not apply; every other family runs as over TCP.
   */
  readonly http2?: boolean;
  /** How this suite is invoked, for the replay line (default `pnpm run conformance`). */
  readonly command?: string;
  /** Called after each family. */
  readonly onFamily?: (result: FamilyResult) => void;
  /**
   * Run every case of a family instead of stopping at the first failure, so
   * the report counts all failures (`failed`, `failedVariants`); the first
   * failing run is then replayed from its index and shrunk as usual. Ignored
   * with `path`, which replays one case.
   */
  readonly census?: boolean;
  /** Census mode: replay and shrink the first failure (default true); without, it is reported as it was seen, its run's index as the path. */
  readonly shrink?: boolean;
  /** Longest a family's runs may take, and separately its shrinking in census mode (ms, default 120 000). */
  readonly timeLimit?: number;
}

const defaultTiming: Timing = { replyTimeout: 5_000, failTimeout: 1_000, tcpCloseTimeout: 2_000 };

interface Outcome {
  readonly verdict: Verdict;
  readonly variant: string;
}

/** A frame case (written by session.ts) or a flood (which drives its socket itself, flood-run.ts). */
type Planned = { readonly type: 'frames'; readonly c: Case } | { readonly type: 'flood'; readonly c: FloodCase };

class CaseFailure extends Error {
  constructor(readonly verdict: Verdict & { status: 'fail' }) {
    super(verdict.reason);
  }
}

/** A failed run seen in census mode: its index in fast-check's stream of runs replays it (`path`). */
interface CensusFailure<Args extends unknown[]> {
  readonly index: number;
  readonly variant: string;
  readonly description: string;
  readonly args: Args;
  readonly error: unknown;
}

function reasonOf(err: unknown): string {
  return err instanceof CaseFailure
    ? err.verdict.reason
    : err instanceof Error
      ? `the suite threw: ${err.stack ?? err.message}`
      : String(err);
}

/**
 * Census mode: the predicate's failures are recorded instead of thrown, so
 * fast-check runs every case. Afterwards `shrinking` is set and the same
 * predicate throws again, for the pass that replays the first failure.
 */
class Census<Args extends unknown[]> {
  readonly failures: CensusFailure<Args>[] = [];
  shrinking = false;
  private runs = 0;

  constructor(private readonly caseOf: (...args: Args) => { readonly variant: string; readonly description: string }) {}

  wrap(predicate: (...args: Args) => Promise<void>): (...args: Args) => Promise<void> {
    return async (...args: Args) => {
      if (this.shrinking) return predicate(...args);
      const index = this.runs++;
      try {
        await predicate(...args);
      } catch (error) {
        this.failures.push({ index, ...this.caseOf(...args), args, error });
      }
    };
  }

  /** How many runs failed, per variant. */
  variants(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.failures) out[f.variant] = (out[f.variant] ?? 0) + 1;
    return out;
  }

  /** The first failed run of each variant, unshrunk: its index is the path that replays it. */
  firstOfEach(): VariantFailure[] {
    const seen = new Set<string>();
    const out: VariantFailure[] = [];
    for (const f of this.failures) {
      if (seen.has(f.variant)) continue;
      seen.add(f.variant);
      out.push({ variant: f.variant, description: f.description, reason: reasonOf(f.error), path: String(f.index) });
    }
    return out;
  }
}

/** What fast-check reports about a failure, or what the census saw when replaying it did not fail again. */
interface FailedRun<Args extends unknown[]> {
  readonly args: Args | undefined;
  readonly error: unknown;
  readonly seed: number;
  readonly path: string;
}

interface Checked<Args extends unknown[]> {
  readonly numRuns: number;
  readonly failure: FailedRun<Args> | undefined;
  /** Census mode only: every failed run, per variant. */
  readonly census?: {
    readonly failed: number;
    readonly variants: Readonly<Record<string, number>>;
    readonly firstOfEach: readonly VariantFailure[];
  };
}

/**
 * fast-check's check of a family's property: stops at the first failure and
 * shrinks it; in census mode runs everything first (see `Census`).
 */
async function checkFamily<Args extends unknown[]>(
  build: (predicate: (...args: Args) => Promise<void>) => fc.IAsyncProperty<Args>,
  predicate: (...args: Args) => Promise<void>,
  census: Census<Args> | undefined,
  o: {
    readonly seed: number;
    readonly runs: number;
    readonly path: string | undefined;
    readonly timeLimit: number;
    readonly shrink: boolean;
  },
): Promise<Checked<Args>> {
  // Each run is a real connection: time is bounded so one slow peer cannot stall the suite.
  const limits = { interruptAfterTimeLimit: o.timeLimit, markInterruptAsFailure: false };
  const failedRun = (d: fc.RunDetails<Args>): FailedRun<Args> | undefined =>
    d.failed
      ? { args: d.counterexample ?? undefined, error: d.errorInstance, seed: d.seed, path: d.counterexamplePath ?? '' }
      : undefined;
  if (census === undefined || o.path !== undefined) {
    const details = await fc.check(build(predicate), {
      numRuns: o.runs,
      seed: o.seed,
      ...(o.path !== undefined ? { path: o.path } : {}),
      ...limits,
    });
    return { numRuns: details.numRuns, failure: failedRun(details) };
  }
  const details = await fc.check(build(census.wrap(predicate)), { numRuns: o.runs, seed: o.seed, ...limits });
  const first = census.failures[0];
  const counts = { failed: census.failures.length, variants: census.variants(), firstOfEach: census.firstOfEach() };
  if (first === undefined) return { numRuns: details.numRuns, failure: undefined, census: counts };
  const seen = { args: first.args, error: first.error, seed: o.seed, path: String(first.index) };
  if (!o.shrink) return { numRuns: details.numRuns, failure: seen, census: counts };
  census.shrinking = true;
  // The runs from the first failure's index on, the first of them that fails shrunk.
  const replay = await fc.check(build(census.wrap(predicate)), {
    numRuns: o.runs,
    seed: o.seed,
    path: String(first.index),
    ...limits,
  });
  // A failure that did not happen again (timing) is reported as it was first seen, unshrunk.
  const failure = failedRun(replay) ?? seen;
  return { numRuns: details.numRuns, failure, census: counts };
}

function describeCase(c: Case, bytes: Uint8Array | undefined, split: unknown, delays: readonly number[]): string {
  return `${c.variant}: ${c.description}; bytes ${bytes ? hex(bytes, 96) : '(built after the handshake)'}; split ${String(split)}; pauses [${delays.join(',')}] ms`;
}

export async function runServerSuite(options: ServerSuiteOptions): Promise<ServerReport> {
  const target = parseTarget(options.url, { http2: options.http2, ca: options.ca, insecure: options.insecure });
  const timing: Timing = { ...defaultTiming, ...options.timing };
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x1_0000_0000)) >>> 0;
  const runs = options.runs ?? 100;
  const strict = options.strict ?? false;
  const skip = new Set(options.skip ?? []);
  const results: FamilyResult[] = [];

  for (const family of options.families ?? FAMILIES) {
    const started = Date.now();
    if (family === 'handshake' && target.http2) {
      results.push({
        family,
        status: 'not applicable',
        runs: 0,
        passed: 0,
        reason: 'its cases are HTTP/1.1 upgrade requests; over HTTP/2 the request is the stream’s headers',
        policies: {},
        droppedWithoutClose: 0,
        ms: 0,
      });
      options.onFamily?.(results.at(-1) as FamilyResult);
      continue;
    }
    if (family === 'handshake') {
      results.push(await runHandshakeFamily(options, target, seed, runs, skip, timing));
      options.onFamily?.(results.at(-1) as FamilyResult);
      continue;
    }
    const frameCases = familyCases(family, {
      receiver: 'server',
      maxMessageSize: options.maxMessageSize,
      maxFrameSize: options.maxFrameSize,
    })?.map((c): Planned => ({ type: 'frames', c }));
    const na = (reason: string): FamilyResult => ({
      family,
      status: 'not applicable',
      runs: 0,
      passed: 0,
      reason,
      policies: {},
      droppedWithoutClose: 0,
      ms: 0,
    });
    let base: fc.Arbitrary<Planned> | undefined = frameCases;
    let note: string | undefined;
    if (family === 'limits') {
      const floods = floodCases({ maxMessageSize: options.maxMessageSize, flood: options.flood }).map(
        (c): Planned => ({ type: 'flood', c }),
      );
      base =
        frameCases === undefined
          ? floods
          : fc.oneof({ weight: 3, arbitrary: frameCases }, { weight: 1, arbitrary: floods });
      if (frameCases === undefined) note = 'floods only: no --max-message-size given';
    }
    if (base === undefined) {
      results.push(na('not defined for this role'));
      options.onFamily?.(results.at(-1) as FamilyResult);
      continue;
    }
    if (family === 'deflate' && !options.deflate) {
      results.push(na('--deflate not given'));
      options.onFamily?.(results.at(-1) as FamilyResult);
      continue;
    }
    const arb = skip.size > 0 ? base.filter((p) => !skip.has(p.c.variant)) : base;
    const policies: Record<string, number> = {};
    let dropped = 0;
    let passed = 0;
    let declined = 0;
    let last: { outcome: Outcome } | undefined;
    type Split = (bytes: Uint8Array) => Uint8Array[];
    type Args = [Planned, Split, number[]];
    const census = options.census ? new Census<Args>((planned) => planned.c) : undefined;
    // The replay of a census failure is not counted again.
    const counting = () => census?.shrinking !== true;
    const tally = (variant: string, verdict: Verdict) => {
      if (!counting()) return;
      passed++;
      if (verdict.status === 'pass' && verdict.note !== undefined) {
        if (verdict.note === 'closed TCP without a close frame') dropped++;
        else policies[`${variant}: ${verdict.note}`] = (policies[`${variant}: ${verdict.note}`] ?? 0) + 1;
      }
    };
    const predicate = async (planned: Planned, split: Split, delays: number[]): Promise<void> => {
      if (planned.type === 'flood') {
        const verdict = await runFloodCase(target, planned.c, timing, strict, options.flood);
        last = { outcome: { verdict, variant: planned.c.variant } };
        if (verdict.status === 'fail') throw new CaseFailure(verdict);
        tally(planned.c.variant, verdict);
        return;
      }
      const c = planned.c;
      const obs = await runAgainstServer(target, c, (bytes) => splitBounded(split, bytes), delays, timing, strict);
      if (obs.handshake.type === 'declined') {
        if (counting()) declined++;
        return; // judged as not applicable below
      }
      const verdict: Verdict =
        obs.handshake.type === 'failed'
          ? { status: 'fail', reason: `handshake: ${obs.handshake.reason}` }
          : judge({
              expect: c.expect,
              received: readFrames(obs.frames, 'server', obs.handshake.deflate),
              tcpClosed: obs.tcpClosed,
              tcpClosedAfterClose: obs.tcpClosedAfterClose,
              framingError: obs.framingError,
              strict,
              waited: c.expect.kind === 'echo' ? timing.replyTimeout : timing.failTimeout,
            });
      last = { outcome: { verdict, variant: c.variant } };
      if (verdict.status === 'fail') throw new CaseFailure(verdict);
      tally(c.variant, verdict);
    };
    const checked = await checkFamily<Args>(
      (p) =>
        fc.asyncProperty(
          arb,
          chunking({ maxCuts: 12 }),
          fc.array(fc.integer({ min: 0, max: options.maxDelay ?? 3 }), { maxLength: 6 }),
          p,
        ),
      predicate,
      census,
      { seed, runs, path: options.path, timeLimit: options.timeLimit ?? 120_000, shrink: options.shrink ?? true },
    );
    const ms = Date.now() - started;
    if (declined > 0 && passed === 0 && checked.failure === undefined) {
      results.push({ ...na('the server declined permessage-deflate'), ms });
      options.onFamily?.(results.at(-1) as FamilyResult);
      continue;
    }
    let failure: Failure | undefined;
    if (checked.failure !== undefined) {
      const { args, error: err, seed: failedSeed, path } = checked.failure;
      const [planned, split, delays] = args ?? [];
      const c = planned?.c;
      const reason = reasonOf(err);
      const flags = replayFlags(options, family, failedSeed, path, skip);
      failure = {
        family,
        variant: c?.variant ?? last?.outcome.variant ?? '?',
        description: c?.description ?? '?',
        reason,
        seed: failedSeed,
        path,
        shrunk:
          planned === undefined
            ? '?'
            : planned.type === 'flood'
              ? `${planned.c.variant}: ${planned.c.description} (seed ${planned.c.seed})`
              : describeCase(
                  planned.c,
                  planned.c.deflate === undefined ? safeBuild(planned.c) : undefined,
                  split,
                  delays ?? [],
                ),
        reproduce: `${options.command ?? 'pnpm run conformance'} ${flags.join(' ')}`,
      };
    }
    const result: FamilyResult = {
      family,
      status: failure ? 'failed' : 'passed',
      runs: checked.numRuns,
      passed: checked.numRuns - (checked.census?.failed ?? (failure ? 1 : 0)),
      ...(failure ? { failure } : {}),
      ...(checked.census
        ? {
            failed: checked.census.failed,
            failedVariants: checked.census.variants,
            variantFailures: checked.census.firstOfEach,
          }
        : {}),
      ...(note !== undefined ? { note } : {}),
      policies,
      droppedWithoutClose: dropped,
      ms,
    };
    results.push(result);
    options.onFamily?.(result);
  }
  return {
    url: options.url,
    seed,
    strict,
    ...(target.secure && { insecure: target.insecure === true }),
    families: results,
    ok: results.every((r) => r.status !== 'failed'),
  };
}

/** One flood over a connection of its own: our handshake (raw-client.ts), then flood-run.ts. */
async function runFloodCase(
  target: Target,
  c: FloodCase,
  timing: Timing,
  strict: boolean,
  flood: FloodOptions | undefined,
): Promise<Verdict> {
  const opened = await openRaw(target, timing.replyTimeout);
  if (opened.type === 'failed') return { status: 'fail', reason: `handshake: ${opened.reason}` };
  try {
    return await runFlood(c, { socket: opened.socket, early: opened.early, us: 'client', options: flood, strict });
  } finally {
    opened.socket.destroy();
  }
}

function replayFlags(
  options: ServerSuiteOptions,
  family: Family,
  seed: number,
  path: string,
  skip: ReadonlySet<string>,
): string[] {
  return [
    `--url ${options.url}`,
    `--family ${family}`,
    `--seed=${seed}`,
    `--path ${path}`,
    ...(options.strict ? ['--strict'] : []),
    ...(options.maxMessageSize !== undefined && family !== 'handshake'
      ? [`--max-message-size ${options.maxMessageSize}`]
      : []),
    ...(options.maxFrameSize !== undefined && family === 'limits' ? [`--max-frame-size ${options.maxFrameSize}`] : []),
    ...(options.flood?.bytes !== undefined && family === 'limits' ? [`--flood-bytes ${options.flood.bytes}`] : []),
    ...(options.flood?.pings !== undefined && family === 'limits' ? [`--flood-pings ${options.flood.pings}`] : []),
    ...(options.deflate && family !== 'handshake' ? ['--deflate'] : []),
    ...(options.http2 ? ['--http2'] : []),
    ...(options.insecure ? ['--insecure'] : []),
    ...(skip.size > 0 ? [`--skip ${[...skip].join(',')}`] : []),
  ];
}

/** The handshake family: one TCP connection per generated request, judged on the response (handshake-cases.ts). */
async function runHandshakeFamily(
  options: ServerSuiteOptions,
  target: Target,
  seed: number,
  runs: number,
  skip: ReadonlySet<string>,
  timing: Timing,
): Promise<FamilyResult> {
  const started = Date.now();
  const arb = skip.size > 0 ? handshakeCases().filter((c) => !skip.has(c.variant)) : handshakeCases();
  const policies: Record<string, number> = {};
  let dropped = 0;
  type Split = (bytes: Uint8Array) => Uint8Array[];
  type Args = [HandshakeCase, Split];
  const census = options.census ? new Census<Args>((c) => c) : undefined;
  const predicate = async (c: HandshakeCase, split: Split): Promise<void> => {
    const verdict = await runHandshakeCase(target, c, split, timing.replyTimeout, options.strict ?? false);
    if (verdict.status === 'fail') throw new CaseFailure(verdict);
    // The replay of a census failure is not counted again.
    if (verdict.status === 'pass' && verdict.note !== undefined && census?.shrinking !== true) {
      if (verdict.note === 'closed without a response') dropped++;
      const key = `${c.variant}: ${verdict.note}`;
      policies[key] = (policies[key] ?? 0) + 1;
    }
  };
  const checked = await checkFamily<Args>(
    (p) => fc.asyncProperty(arb, chunking({ maxCuts: 12 }), p),
    predicate,
    census,
    {
      seed,
      runs,
      path: options.path,
      timeLimit: options.timeLimit ?? 120_000,
      shrink: options.shrink ?? true,
    },
  );
  let failure: Failure | undefined;
  if (checked.failure !== undefined) {
    const { args, error: err, seed: failedSeed, path } = checked.failure;
    const [c, split] = args ?? [];
    const request = c ? c.request(target) : undefined;
    failure = {
      family: 'handshake',
      variant: c?.variant ?? '?',
      description: c?.description ?? '?',
      reason: reasonOf(err),
      seed: failedSeed,
      path,
      shrunk: request
        ? `${c?.variant}: ${c?.description}; request ${JSON.stringify(new TextDecoder('latin1').decode(request.subarray(0, 600)))}${request.length > 600 ? `…(${request.length} B)` : ''}; split ${String(split)}`
        : '?',
      reproduce: `${options.command ?? 'pnpm run conformance'} ${replayFlags(options, 'handshake', failedSeed, path, skip).join(' ')}`,
    };
  }
  return {
    family: 'handshake',
    status: failure ? 'failed' : 'passed',
    runs: checked.numRuns,
    passed: checked.numRuns - (checked.census?.failed ?? (failure ? 1 : 0)),
    ...(failure ? { failure } : {}),
    ...(checked.census
      ? {
          failed: checked.census.failed,
          failedVariants: checked.census.variants,
          variantFailures: checked.census.firstOfEach,
        }
      : {}),
    policies,
    droppedWithoutClose: dropped,
    ms: Date.now() - started,
  };
}

function safeBuild(c: Case): Uint8Array | undefined {
  try {
    return c.build({ deflate: undefined }).send;
  } catch {
    return undefined;
  }
}
