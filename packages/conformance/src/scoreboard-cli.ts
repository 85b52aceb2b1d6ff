/**
 * pnpm conformance --scoreboard [--seed S] [--runs N] [--cases N] [--family F,…]
 *   [--servers node-server,ws,bun,deno|none] [--clients rfc6455,undici,deno,bun,chromium|none]
 *   [--path P (replays a server failure)] [--case N (runs one client case)]
 *   [--flood-bytes N] [--flood-pings N] [--flood-timeout MS] [--no-shrink] [--out FILE] [--readme FILE] [--json FILE]
 * pnpm conformance --scoreboard --from-json FILE [--out FILE] [--readme FILE]
 *   writes the page and the README table again from a board saved with --json, without running anything
 *
 * A full run (no --servers, --clients, --family, --path or --case) writes
 * docs/conformance.md and the root README's scoreboard section (with --out
 * FILE: that file only); otherwise the result is printed, and written only
 * where --out / --readme say.
 * Exit code 1 when a cell of this project's implementations failed (other
 * implementations' failures are findings, not errors), 2 for bad arguments.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FAMILIES, type Family } from './case.js';
import { replaceReadmeSection, scoreboardMarkdown } from './scoreboard-markdown.js';
import { CLIENT_PEERS, type ClientPeerId, SERVER_PEERS, type ServerPeerId, WORKSPACE } from './scoreboard-peers.js';
import { runScoreboard, type Scoreboard, type ScoreboardOptions } from './scoreboard.js';

function list<T extends string>(value: string | undefined, known: readonly T[], flag: string): T[] | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return [];
  const out = value.split(',').map((v) => v.trim());
  for (const v of out)
    if (!(known as readonly string[]).includes(v))
      throw new Error(`${flag}: unknown ${v}; one of ${known.join(', ')} (or none)`);
  return out as T[];
}

function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer`);
  return n;
}

export interface ScoreboardArgs {
  readonly options: ScoreboardOptions;
  /** No filter and no replay: the run that writes docs/conformance.md and the README section. */
  readonly full: boolean;
  readonly out: string | undefined;
  readonly readme: string | undefined;
  readonly json: string | undefined;
  /** A board saved with --json, to write out again instead of running. */
  readonly fromJson: string | undefined;
  /** The arguments that decide what runs (output flags left out), for the page. */
  readonly command: string;
}

/** The command line (after `conformance`) as scoreboard options; throws on bad arguments. */
export function parseScoreboardArgs(argv: readonly string[]): ScoreboardArgs {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      scoreboard: { type: 'boolean' },
      seed: { type: 'string' },
      runs: { type: 'string' },
      cases: { type: 'string' },
      family: { type: 'string' },
      servers: { type: 'string' },
      clients: { type: 'string' },
      path: { type: 'string' },
      case: { type: 'string' },
      'flood-bytes': { type: 'string' },
      'flood-pings': { type: 'string' },
      'flood-timeout': { type: 'string' },
      'no-shrink': { type: 'boolean' },
      out: { type: 'string' },
      readme: { type: 'string' },
      json: { type: 'string' },
      'from-json': { type: 'string' },
    },
  });
  const servers = list<ServerPeerId>(values.servers, SERVER_PEERS, '--servers');
  const clients = list<ClientPeerId>(values.clients, CLIENT_PEERS, '--clients');
  const families = list<Family>(values.family, FAMILIES, '--family');
  const replay = values.path !== undefined || values.case !== undefined;
  if (replay && (families?.length !== 1 || values.seed === undefined))
    throw new Error('--path and --case replay one family: give --family F and --seed S');
  if (values.path !== undefined && servers?.length !== 1)
    throw new Error('--path replays a server failure: give --servers with one server');
  if (values.case !== undefined && clients?.length !== 1)
    throw new Error('--case runs one client case: give --clients with one client');
  const flood = {
    bytes: int(values['flood-bytes'], '--flood-bytes'),
    pings: int(values['flood-pings'], '--flood-pings'),
    timeout: int(values['flood-timeout'], '--flood-timeout'),
  };
  const options: ScoreboardOptions = {
    ...(values.seed !== undefined ? { seed: int(values.seed, '--seed') } : {}),
    ...(values.runs !== undefined ? { runs: int(values.runs, '--runs') } : {}),
    ...(values.cases !== undefined ? { cases: int(values.cases, '--cases') } : {}),
    ...(servers !== undefined ? { servers } : {}),
    ...(clients !== undefined ? { clients } : {}),
    ...(families !== undefined ? { families } : {}),
    ...(values.path !== undefined ? { path: values.path } : {}),
    ...(values.case !== undefined ? { case: int(values.case, '--case') } : {}),
    ...(values['no-shrink'] === true ? { shrink: false } : {}),
    ...(Object.values(flood).some((v) => v !== undefined)
      ? { flood: Object.fromEntries(Object.entries(flood).filter(([, v]) => v !== undefined)) }
      : {}),
  };
  const full = servers === undefined && clients === undefined && families === undefined && !replay;
  // Where the results are written does not change them: the page shows the rest.
  const output = new Set(['--out', '--readme', '--json', '--from-json']);
  const kept = argv.filter(
    (a, i) =>
      a !== '--' &&
      !output.has(a.split('=')[0] as string) &&
      !(output.has(argv[i - 1] as string) && !(argv[i - 1] as string).includes('=')),
  );
  return {
    options,
    full,
    out: values.out ?? (full ? join(WORKSPACE, 'docs', 'conformance.md') : undefined),
    // The README's table goes with the page at its usual place; a run written elsewhere leaves it alone.
    readme: values.readme ?? (full && values.out === undefined ? join(WORKSPACE, 'README.md') : undefined),
    json: values.json,
    fromJson: values['from-json'],
    command: `npx --yes pnpm@10.34.9 conformance ${kept.join(' ')}`,
  };
}

export async function scoreboardMain(argv: readonly string[]): Promise<number> {
  const { options: parsed, out, readme, json, fromJson, command } = parseScoreboardArgs(argv);
  const options: ScoreboardOptions = { ...parsed, log: (line) => console.log(line) };
  const board: Scoreboard =
    fromJson !== undefined
      ? (JSON.parse(readFileSync(fromJson, 'utf8')) as Scoreboard)
      : { ...(await runScoreboard(options)), command };
  const markdown = scoreboardMarkdown(board);
  console.log(`\n${markdown}`);
  if (out !== undefined) {
    writeFileSync(out, markdown);
    console.log(`wrote ${out}`);
  }
  if (readme !== undefined) {
    const updated = replaceReadmeSection(readFileSync(readme, 'utf8'), board);
    if (updated === undefined) console.log(`${readme} has no scoreboard markers: not updated`);
    else {
      writeFileSync(readme, updated);
      console.log(`updated the scoreboard section of ${readme}`);
    }
  }
  if (json !== undefined) writeFileSync(json, `${JSON.stringify(board, null, 2)}\n`);
  const ours = board.columns.filter((c) => c.ours && Object.values(c.cells).some((cell) => cell.status === 'failed'));
  for (const c of ours)
    console.log(`FAIL: this project's ${c.role} (${c.label}) failed a family; see the replay lines above`);
  return ours.length > 0 ? 1 : 0;
}
