/**
 * The cross-runtime scoreboard: the server suite against several echo
 * servers and the fuzzing server against several echo clients
 * (scoreboard-peers.ts), every family with the same seed, so every
 * implementation meets the same cases. Each cell counts passed / judged cases
 * and keeps the first failure with a replay command that reruns just that
 * case through the scoreboard (it starts the implementation again).
 *
 * Server families run in census mode: every case runs (fast-check would stop
 * at the first failure), then the first failure is replayed and shrunk.
 */
import { execFileSync } from 'node:child_process';
import { FAMILIES, type Family } from './case.js';
import type { FloodOptions } from './flood-cases.js';
import { CLIENT_FAMILIES, type CaseVerdict, FuzzingServer } from './fuzzing-server.js';
import type { FamilyResult } from './report.js';
import {
  type ClientPeer,
  type ClientPeerId,
  type ClientRun,
  type ClientRunner,
  clientPeers,
  CLIENT_PEERS,
  peerVersions,
  SERVER_PEERS,
  type ServerPeer,
  type ServerPeerId,
  serverPeers,
  WORKSPACE,
} from './scoreboard-peers.js';
import { runServerSuite } from './server-suite.js';
import type { Timing } from './session.js';

const DEFAULT_SERVER_RUNS = 40;
const DEFAULT_CLIENT_CASES = 30;
/** How the scoreboard is invoked, for replay lines. */
export const SCOREBOARD_COMMAND = 'pnpm conformance --scoreboard';

export interface ScoreboardOptions {
  /** One seed for every family and implementation (default random). */
  readonly seed?: number;
  /** Default all (SERVER_PEERS / CLIENT_PEERS); an empty list runs none of that role. */
  readonly servers?: readonly ServerPeerId[];
  readonly clients?: readonly ClientPeerId[];
  /** Default every family; client columns run those of CLIENT_FAMILIES among them. */
  readonly families?: readonly Family[];
  /** Server suite runs per family (default 40). */
  readonly runs?: number;
  /** Fuzzing-server cases per family and client (default 30). */
  readonly cases?: number;
  readonly flood?: FloodOptions;
  /** Replays one server failure (with `seed`, one family and one server). */
  readonly path?: string;
  /** Runs only this client case (with `seed`, one family and one client). */
  readonly case?: number;
  /** The server suite's deadlines (its defaults when not given). */
  readonly timing?: Partial<Timing>;
  /** Shrink each server family's first failure (default true; each shrinking step is a connection, which takes time). */
  readonly shrink?: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

interface CellFailure {
  readonly variant: string;
  readonly description: string;
  readonly reason: string;
  /** The case itself, when the report has it (server suite: the shrunk case's bytes or request). */
  readonly detail?: string;
  readonly replay: string;
}

export interface Cell {
  readonly status: 'passed' | 'failed' | 'n/a';
  readonly passed: number;
  /** Cases judged: not-applicable ones are not counted. */
  readonly total: number;
  readonly notApplicable: number;
  /** Why the family did not apply. */
  readonly reason?: string;
  /** What part of the family ran, when not all of it could (limits without a known limit: floods only). */
  readonly note?: string;
  /** Invalid cases passed by closing TCP without a close frame (RFC 6455 §7.1.7 allows it; strict mode would not). */
  readonly dropped: number;
  readonly failedVariants: Readonly<Record<string, number>>;
  /** The first failure of all (for servers shrunk, with the case's bytes). */
  readonly firstFailure?: CellFailure;
  /** The first failure of each failing variant, in the order they were first seen (`firstFailure` first). */
  readonly failures: readonly CellFailure[];
  /** The implementation's process exited during the family. */
  readonly exited?: string;
  /**
   * Cases where the client's API fired no close event (after an error, or at
   * all) and the echo script moved on: what an application would see, not
   * something the wire shows (WHATWG WebSockets fire close after error).
   */
  readonly noCloseEvent?: number;
}

export interface Column {
  readonly role: 'server' | 'client';
  readonly id: string;
  readonly label: string;
  readonly ours: boolean;
  readonly setup: string;
  /** Why it did not run (its runtime is missing); its cells are then empty. */
  readonly skipped?: string;
  readonly cells: Partial<Readonly<Record<Family, Cell>>>;
}

export interface Scoreboard {
  /** ISO date and time the run started. */
  readonly date: string;
  readonly seed: number;
  readonly runs: number;
  readonly cases: number;
  readonly flood: FloodOptions;
  readonly serverFamilies: readonly Family[];
  readonly clientFamilies: readonly Family[];
  readonly versions: Readonly<Record<string, string>>;
  /** The workspace's commit (short), when git can tell. */
  readonly commit?: string;
  readonly columns: readonly Column[];
  readonly seconds: number;
  /** How it was invoked, as a reader would type it (the CLI sets it; output flags left out). */
  readonly command?: string;
}

/** The flags that reproduce the run's settings in a replay line (defaults left out). */
function settingFlags(o: ScoreboardOptions): string[] {
  return [
    ...(o.flood?.bytes !== undefined ? [`--flood-bytes ${o.flood.bytes}`] : []),
    ...(o.flood?.pings !== undefined ? [`--flood-pings ${o.flood.pings}`] : []),
    ...(o.flood?.timeout !== undefined ? [`--flood-timeout ${o.flood.timeout}`] : []),
  ];
}

function serverReplay(o: ScoreboardOptions, server: ServerPeerId, family: Family, seed: number, path: string): string {
  const runs = o.runs !== undefined ? [`--runs ${o.runs}`] : [];
  return [
    SCOREBOARD_COMMAND,
    `--servers ${server}`,
    '--clients none',
    `--family ${family}`,
    `--seed=${seed}`,
    `--path ${path}`,
    ...runs,
    ...settingFlags(o),
  ].join(' ');
}

function clientReplay(o: ScoreboardOptions, client: ClientPeerId, family: Family, seed: number, n: number): string {
  return [
    SCOREBOARD_COMMAND,
    '--servers none',
    `--clients ${client}`,
    `--family ${family}`,
    `--seed=${seed}`,
    `--case ${n}`,
    ...settingFlags(o),
  ].join(' ');
}

function gitCommit(): string | undefined {
  try {
    return (
      execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
        cwd: WORKSPACE,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

export async function runScoreboard(options: ScoreboardOptions = {}): Promise<Scoreboard> {
  const started = Date.now();
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x1_0000_0000)) >>> 0;
  const o: ScoreboardOptions = { ...options, seed };
  const log = (line: string) => options.log?.(`[${Math.round((Date.now() - started) / 1000)} s] ${line}`);
  const families = options.families ?? FAMILIES;
  const clientFamilies = families.filter((f) => CLIENT_FAMILIES.includes(f));
  const columns: Column[] = [];
  for (const id of options.servers ?? SERVER_PEERS)
    columns.push(await runServerColumn(serverPeers[id], o, seed, families, log));
  for (const id of options.clients ?? CLIENT_PEERS)
    columns.push(await runClientColumn(clientPeers[id], o, seed, clientFamilies, log));
  const commit = gitCommit();
  return {
    date: new Date(started).toISOString(),
    seed,
    runs: options.runs ?? DEFAULT_SERVER_RUNS,
    cases: options.cases ?? DEFAULT_CLIENT_CASES,
    flood: options.flood ?? {},
    serverFamilies: (options.servers ?? SERVER_PEERS).length > 0 ? families : [],
    clientFamilies: (options.clients ?? CLIENT_PEERS).length > 0 ? clientFamilies : [],
    versions: peerVersions(),
    ...(commit !== undefined ? { commit } : {}),
    columns,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

/** The server suite, one family at a time against a freshly started server (a crash then costs one family, and shows). */
async function runServerColumn(
  peer: ServerPeer,
  o: ScoreboardOptions,
  seed: number,
  families: readonly Family[],
  log: (line: string) => void,
): Promise<Column> {
  const column = { role: 'server' as const, id: peer.id, label: peer.label, ours: peer.ours, setup: peer.setup };
  const missing = peer.missing();
  if (missing !== undefined) {
    log(`server ${peer.id}: not run: ${missing}`);
    return { ...column, skipped: missing, cells: {} };
  }
  const cells: Partial<Record<Family, Cell>> = {};
  for (const family of families) {
    const server = await peer.start();
    let result: FamilyResult | undefined;
    let exited: string | undefined;
    try {
      const report = await runServerSuite({
        url: server.url,
        seed,
        runs: o.runs ?? DEFAULT_SERVER_RUNS,
        families: [family],
        maxMessageSize: peer.maxMessageSize,
        deflate: true,
        flood: o.flood,
        census: o.path === undefined,
        shrink: o.shrink ?? true,
        ...(o.timing !== undefined ? { timing: o.timing } : {}),
        ...(o.path !== undefined ? { path: o.path } : {}),
      });
      result = report.families[0];
    } finally {
      // Read before stopping it: stopping sets the exit code too.
      const code = server.exitCode();
      if (code !== undefined)
        exited = `the server exited (${code}) during the family: ${server.output().trim().split('\n').slice(-3).join(' | ').slice(-600)}`;
      await server.stop();
    }
    if (result === undefined) throw new Error(`the server suite returned no result for ${family}`);
    const cell = serverCell(result, o, peer.id, seed, exited);
    cells[family] = cell;
    log(`server ${peer.id} / ${family}: ${cellLine(cell)}`);
  }
  return { ...column, cells };
}

function serverCell(
  r: FamilyResult,
  o: ScoreboardOptions,
  id: ServerPeerId,
  seed: number,
  exited: string | undefined,
): Cell {
  const common = {
    dropped: r.droppedWithoutClose,
    ...(r.note !== undefined ? { note: r.note } : {}),
    ...(exited !== undefined ? { exited } : {}),
  };
  if (r.status === 'not applicable')
    return {
      status: 'n/a',
      passed: 0,
      total: 0,
      notApplicable: 0,
      failedVariants: {},
      failures: [],
      reason: r.reason ?? '',
      ...common,
    };
  const f = r.failure;
  // The run's seed in replays: fast-check reports it as a signed 32-bit number.
  const first: CellFailure | undefined = f
    ? {
        variant: f.variant,
        description: f.description,
        reason: f.reason,
        detail: f.shrunk,
        replay: serverReplay(o, id, r.family, seed, f.path),
      }
    : undefined;
  const others = (r.variantFailures ?? [])
    .filter((v) => v.variant !== first?.variant)
    .map(
      (v): CellFailure => ({
        variant: v.variant,
        description: v.description,
        reason: v.reason,
        replay: serverReplay(o, id, r.family, seed, v.path),
      }),
    );
  return {
    status: r.status,
    passed: r.passed,
    total: r.runs,
    notApplicable: 0,
    failedVariants: r.failedVariants ?? (f ? { [f.variant]: 1 } : {}),
    failures: first ? [first, ...others] : others,
    ...(first ? { firstFailure: first } : {}),
    ...common,
  };
}

/** Grace after a client is done for the fuzzing server's verdicts still in progress (a flood's deadline is 15 s). */
const VERDICT_GRACE_MS = 25_000;

/** The fuzzing server, one family at a time (its own server, so each family has the same cases for every client). */
async function runClientColumn(
  peer: ClientPeer,
  o: ScoreboardOptions,
  seed: number,
  families: readonly Family[],
  log: (line: string) => void,
): Promise<Column> {
  const column = { role: 'client' as const, id: peer.id, label: peer.label, ours: peer.ours, setup: peer.setup };
  const missing = peer.missing();
  if (missing !== undefined) {
    log(`client ${peer.id}: not run: ${missing}`);
    return { ...column, skipped: missing, cells: {} };
  }
  const runner = await peer.open();
  const cells: Partial<Record<Family, Cell>> = {};
  try {
    for (const family of families) {
      const cell = await runClientFamily(peer, runner, o, seed, family);
      cells[family] = cell;
      log(`client ${peer.id} / ${family}: ${cellLine(cell)}`);
    }
  } finally {
    await runner.close();
  }
  return { ...column, cells };
}

async function runClientFamily(
  peer: ClientPeer,
  runner: ClientRunner,
  o: ScoreboardOptions,
  seed: number,
  family: Family,
): Promise<Cell> {
  const verdicts = new Map<number, CaseVerdict>();
  let wake: (() => void) | undefined;
  const server = new FuzzingServer({
    port: 0,
    seed,
    cases: o.case ?? o.cases ?? DEFAULT_CLIENT_CASES,
    families: [family],
    flood: o.flood,
    maxMessageSize: peer.maxMessageSize,
    // The same for every client: Chromium answers our close in its network process before the page has echoed.
    closeAfterReplies: true,
    onVerdict: (_agent, v) => {
      verdicts.set(v.case, v);
      wake?.();
    },
  });
  const { port } = await server.listen();
  const url = `ws://127.0.0.1:${port}`;
  const cases = o.case !== undefined ? [o.case] : Array.from({ length: server.caseCount }, (_, i) => i + 1);
  // A safety net only: the web echo script gives a case up after 30 s itself, this project's echo client closes within 5 s.
  const deadline = (n: number) => 60_000 + n * 65_000;
  /** Runs that ended other than as they should: the client crashed, or was stopped at the deadline. */
  const crashes: string[] = [];
  let noCloseEvent = 0;
  const waitForVerdicts = async (wanted: readonly number[], ms: number) => {
    const until = Date.now() + ms;
    while (wanted.some((n) => !verdicts.has(n)) && Date.now() < until) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.max(1, until - Date.now()));
      });
      clearTimeout(timer);
    }
  };
  const describe = (n: number) => server.describeCase(n)?.variant ?? '?';
  try {
    // One case per invocation where exiting is how the client refuses a handshake (exit code 1).
    const oneByOne = peer.stopsAtFailedHandshake && family === 'handshake';
    let pending = cases;
    while (pending.length > 0) {
      const batch = oneByOne ? pending.slice(0, 1) : pending;
      const run = await runner.run(url, peer.id, batch, deadline(batch.length));
      // The web echo clients (scoreboard/web-echo.mjs) print a line per case; this marks a missing close event.
      noCloseEvent += run.output.split('"noCloseEvent":true').length - 1;
      const failed = run.exitCode !== 0 && !(oneByOne && run.exitCode === 1);
      if (oneByOne) {
        if (failed) crashes.push(crashLine(run, batch, describe));
        pending = pending.slice(1);
        continue;
      }
      if (!failed) break;
      // It died (or hung) part way: the case it was on is judged by the server; the rest get a new process.
      await waitForVerdicts(batch, 2_000);
      const reached = batch.filter((n) => verdicts.has(n)).at(-1);
      const rest = reached === undefined ? [] : batch.filter((n) => n > reached);
      crashes.push(crashLine(run, batch, describe, reached));
      pending = rest;
    }
    await waitForVerdicts(cases, VERDICT_GRACE_MS);
  } finally {
    wake = undefined;
    await server.close();
  }
  const judged = cases.map((n): CaseVerdict => {
    const known = server.describeCase(n);
    return (
      verdicts.get(n) ?? {
        case: n,
        family,
        variant: known?.variant ?? `${family}/?`,
        description: known?.description ?? `case ${n}`,
        verdict: {
          status: 'fail',
          reason: `the client never ran this case${crashes.length > 0 ? ` (${crashes.join('; ')})` : ''}`,
        },
        seed,
        replay: '',
        extensions: { offered: undefined, response: undefined },
        ms: 0,
      }
    );
  });
  const cell = clientCell(judged, o, peer, family, seed);
  return {
    ...cell,
    ...(noCloseEvent > 0 ? { noCloseEvent } : {}),
    ...(crashes.length > 0 ? { exited: crashes.join('; ') } : {}),
  };
}

/** What a run that did not end with exit code 0 left behind: its code and its last lines. */
function crashLine(
  run: ClientRun,
  batch: readonly number[],
  describe: (n: number) => string,
  reached?: number,
): string {
  const on = reached ?? (batch.length === 1 ? batch[0] : undefined);
  const where =
    on !== undefined ? `on case ${on} (${describe(on)})` : `before any of cases ${batch[0]}–${batch.at(-1)} was judged`;
  const how = run.exitCode === null ? 'was stopped at the deadline' : `exited with code ${run.exitCode}`;
  const lines = run.output
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^case \d+/.test(l));
  // An uncaught exception's own line says more than the stack under it.
  const tail = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.slice(-3).join(' | ');
  return `the client ${how} ${where}${tail !== '' ? `: ${tail.slice(0, 400)}` : ''}`;
}

function clientCell(
  verdicts: readonly CaseVerdict[],
  o: ScoreboardOptions,
  peer: ClientPeer,
  family: Family,
  seed: number,
): Cell {
  const passed = verdicts.filter((v) => v.verdict.status === 'pass');
  const failed = verdicts.filter((v) => v.verdict.status === 'fail');
  const na = verdicts.filter((v) => v.verdict.status === 'n/a');
  const failedVariants: Record<string, number> = {};
  for (const v of failed) failedVariants[v.variant] = (failedVariants[v.variant] ?? 0) + 1;
  const dropped = passed.filter(
    (v) => v.verdict.status === 'pass' && v.verdict.note === 'closed TCP without a close frame',
  ).length;
  const note =
    family === 'limits' && peer.maxMessageSize === undefined ? 'floods only: no known message size limit' : undefined;
  const firstNa = na[0];
  if (passed.length + failed.length === 0 && firstNa !== undefined) {
    return {
      status: 'n/a',
      passed: 0,
      total: 0,
      notApplicable: na.length,
      reason: firstNa.verdict.status === 'n/a' ? firstNa.verdict.reason : '',
      dropped: 0,
      failedVariants: {},
      failures: [],
    };
  }
  const failures: CellFailure[] = [];
  for (const v of failed) {
    if (failures.some((f) => f.variant === v.variant)) continue;
    failures.push({
      variant: v.variant,
      description: `case ${v.case}: ${v.description}`,
      reason: v.verdict.status === 'fail' ? v.verdict.reason : '',
      replay: clientReplay(o, peer.id, family, seed, v.case),
    });
  }
  return {
    status: failed.length > 0 ? 'failed' : 'passed',
    passed: passed.length,
    total: passed.length + failed.length,
    notApplicable: na.length,
    dropped,
    failedVariants,
    failures,
    ...(note !== undefined ? { note } : {}),
    ...(failures[0] !== undefined ? { firstFailure: failures[0] } : {}),
  };
}

/** One line per cell for progress output. */
function cellLine(c: Cell): string {
  if (c.status === 'n/a') return `n/a (${c.reason ?? ''})`;
  const failed = Object.entries(c.failedVariants).map(([k, n]) => `${k}×${n}`);
  return `${c.status} ${c.passed}/${c.total}${c.notApplicable > 0 ? ` (+${c.notApplicable} n/a)` : ''}${failed.length > 0 ? ` [${failed.join(', ')}]` : ''}${c.exited !== undefined ? ' (the process exited)' : ''}${c.noCloseEvent !== undefined ? ` (no close event ×${c.noCloseEvent})` : ''}`;
}
