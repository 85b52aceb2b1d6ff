/**
 * The scoreboard machinery on a small budget: every implementation whose
 * runtime is installed (node-server, ws, this project's client and undici
 * always; Bun, Deno and Chromium where present, as in CI) is started, judged
 * family by family and stopped; the Markdown table has a row per family and
 * a well-formed cell per implementation; this project's cells all pass. And a
 * failing cell's replay command, parsed as the CLI parses it, reproduces its
 * first failure (ws's missing fail-fast UTF-8 check, a documented deviation).
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_FAMILIES, FAMILIES } from '../src/index.js';
import { parseScoreboardArgs } from '../src/scoreboard-cli.js';
import {
  README_END,
  README_START,
  readmeSection,
  replaceReadmeSection,
  scoreboardMarkdown,
} from '../src/scoreboard-markdown.js';
import { CLIENT_PEERS, clientPeers, SERVER_PEERS, serverPeers } from '../src/scoreboard-peers.js';
import { type Cell, type Column, runScoreboard, SCOREBOARD_COMMAND, type Scoreboard } from '../src/scoreboard.js';

// Small floods, and no shrinking (each step is a connection): the replay test below shrinks.
const SMALL = { runs: 2, cases: 2, flood: { bytes: 256 * 1024, pings: 200, timeout: 5_000 }, shrink: false };

/** Every process under this one (but the `ps` that lists them), to show that the implementations were stopped. */
function descendants(): string[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] as string }));
  const out: string[] = [];
  const walk = (parent: number) => {
    for (const p of table) {
      if (p.ppid !== parent || p.args.startsWith('ps -eo')) continue;
      out.push(`${p.pid} ${p.args}`);
      walk(p.pid);
    }
  };
  walk(process.pid);
  return out;
}

describe('a small scoreboard of every installed implementation', () => {
  let board: Scoreboard;
  let before: string[];
  const lines: string[] = [];

  beforeAll(async () => {
    before = descendants();
    board = await runScoreboard({ ...SMALL, log: (line) => lines.push(line) });
  }, 240_000);

  const columns = (role: 'server' | 'client') => board.columns.filter((c) => c.role === role);

  it('has a column per implementation, skipped only with a reason; node-server, ws, our client and undici always run', () => {
    expect(columns('server').map((c) => c.id)).toEqual([...SERVER_PEERS]);
    expect(columns('client').map((c) => c.id)).toEqual([...CLIENT_PEERS]);
    for (const c of board.columns) {
      const peer =
        c.role === 'server'
          ? serverPeers[c.id as keyof typeof serverPeers]
          : clientPeers[c.id as keyof typeof clientPeers];
      expect(c.skipped, c.id).toBe(peer.missing());
    }
    for (const id of ['server/node-server', 'server/ws', 'client/rfc6455', 'client/undici']) {
      expect(board.columns.find((c) => `${c.role}/${c.id}` === id)?.skipped, id).toBeUndefined();
    }
  });

  it('fills a cell for every family of every column that ran, counts within the budget', () => {
    for (const c of board.columns) {
      if (c.skipped !== undefined) continue;
      const families = c.role === 'server' ? FAMILIES : CLIENT_FAMILIES;
      expect(Object.keys(c.cells).sort(), c.id).toEqual([...families].sort());
      for (const [family, cell] of Object.entries(c.cells) as [string, Cell][]) {
        const where = `${c.role} ${c.id} ${family}: ${JSON.stringify(cell)}`;
        expect(cell.total + cell.notApplicable, where).toBeLessThanOrEqual(
          c.role === 'server' ? SMALL.runs : SMALL.cases,
        );
        expect(cell.passed, where).toBeLessThanOrEqual(cell.total);
        if (cell.status === 'passed') expect(cell.passed, where).toBe(cell.total);
        if (cell.status === 'failed') {
          expect(cell.passed, where).toBeLessThan(cell.total);
          expect(
            Object.values(cell.failedVariants).reduce((a, b) => a + b, 0),
            where,
          ).toBe(cell.total - cell.passed);
          // The replay names this implementation, the family and the seed, and the way to the case.
          const flag = c.role === 'server' ? `--servers ${c.id} --clients none` : `--servers none --clients ${c.id}`;
          // Every failing variant has its first failure listed (shrinking may add the variant it shrank to).
          const listed = cell.failures.map((x) => x.variant);
          expect(new Set(listed).size, where).toBe(listed.length);
          for (const variant of Object.keys(cell.failedVariants)) expect(listed, where).toContain(variant);
          expect(cell.firstFailure, where).toBe(cell.failures[0]);
          for (const x of cell.failures)
            expect(x.replay, where).toMatch(
              new RegExp(
                `^${SCOREBOARD_COMMAND} ${flag} --family ${family} --seed=${board.seed} --(path [0-9:]+|case \\d+)`,
              ),
            );
        }
        if (cell.status === 'n/a') expect(cell.reason, where).toMatch(/permessage-deflate/);
      }
    }
  });

  it("passes every family of this project's server and client", () => {
    const ours = board.columns.filter((c) => c.ours);
    expect(ours.map((c) => c.id)).toEqual(['node-server', 'rfc6455']);
    for (const c of ours) {
      for (const [family, cell] of Object.entries(c.cells) as [string, Cell][]) {
        expect(
          cell.status,
          `${c.label} ${family}: ${cell.firstFailure?.reason ?? ''} ${cell.firstFailure?.replay ?? ''}`,
        ).toBe('passed');
        expect(cell.total, `${c.label} ${family}`).toBeGreaterThan(0);
      }
    }
  });

  it('writes a table with a row per family and a cell per implementation', () => {
    const md = scoreboardMarkdown(board);
    for (const [heading, role, families] of [
      ['## Servers', 'server', FAMILIES],
      ['## Clients', 'client', CLIENT_FAMILIES],
    ] as const) {
      const rows = tableAfter(md, heading);
      const cols: Column[] = columns(role);
      expect(rows[0]).toEqual(['family', ...cols.map((c) => (c.ours ? `**${c.label}**` : c.label))]);
      expect(rows[1]?.every((cell) => cell === '---')).toBe(true);
      expect(rows.slice(2).map((r) => r[0])).toEqual(families.map((f) => `\`${f}\``));
      for (const row of rows.slice(2)) {
        expect(row.length).toBe(cols.length + 1);
        row.slice(1).forEach((text, i) => {
          const c = cols[i] as Column;
          const cell = c.cells[(row[0] as string).replace(/`/g, '') as keyof Column['cells']];
          if (cell === undefined) expect(text).toBe('not run');
          else if (cell.status === 'n/a') expect(text).toMatch(/^n\/a: /);
          else if (cell.status === 'passed') expect(text).toMatch(new RegExp(`^✓ ${cell.passed}/${cell.total}`));
          // A failing cell links to its first failure, which the page has.
          else {
            const link = /^\*\*✗ (\d+)\/(\d+)\*\*<br>\[[^\]]+\]\(#([a-z0-9-]+)\)/.exec(text);
            expect(link, text).not.toBeNull();
            expect(md).toContain(`<a id="${link?.[3]}"></a>`);
            for (const x of cell.failures) expect(md).toContain(`  - replay: \`${x.replay}\``);
          }
        });
      }
    }
    expect(md).toContain(`seed ${board.seed}`);
    for (const name of ['Node', 'ws']) expect(md).toContain(`${name} ${board.versions[name]}`);
  });

  it('replaces only the README section between its markers', () => {
    const readme = `# x\n\nbefore\n\n${README_START}\nold table\n${README_END}\n\nafter\n`;
    const updated = replaceReadmeSection(readme, board);
    expect(updated).toBe(`# x\n\nbefore\n\n${readmeSection(board)}\n\nafter\n`);
    expect(updated).not.toContain('old table');
    expect(readmeSection(board)).toContain('[docs/conformance.md](docs/conformance.md)');
    // Failing cells link into the page.
    if (board.columns.some((c) => Object.values(c.cells).some((cell) => cell.status === 'failed')))
      expect(readmeSection(board)).toContain('](docs/conformance.md#');
    expect(replaceReadmeSection('# no markers\n', board)).toBeUndefined();
  });

  it('stopped every implementation it started (by PID) before it returned', () => {
    const left = descendants().filter((p) => !before.includes(p));
    expect(left, lines.join('\n')).toEqual([]);
  });
});

/** The rows of the first Markdown table after `heading`, cells trimmed. */
function tableAfter(md: string, heading: string): string[][] {
  const lines = md.slice(md.indexOf(`${heading}\n`)).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe('the command line', () => {
  it('writes the page and the README on a full run only, and records what decides the results', () => {
    const full = parseScoreboardArgs(['--scoreboard', '--json', '/tmp/board.json', '--seed=7']);
    expect(full.full).toBe(true);
    expect(full.out).toMatch(/docs\/conformance\.md$/);
    expect(full.readme).toMatch(/README\.md$/);
    expect(full.json).toBe('/tmp/board.json');
    expect(full.options.seed).toBe(7);
    expect(full.command).toBe('npx --yes pnpm@10.34.9 conformance --scoreboard --seed=7');
    // Written elsewhere: that file only.
    const elsewhere = parseScoreboardArgs(['--scoreboard', '--out=/tmp/x.md', '--runs', '3']);
    expect([elsewhere.out, elsewhere.readme, elsewhere.command]).toEqual([
      '/tmp/x.md',
      undefined,
      'npx --yes pnpm@10.34.9 conformance --scoreboard --runs 3',
    ]);
    // A filtered run prints only.
    const filtered = parseScoreboardArgs(['--scoreboard', '--servers', 'ws', '--clients', 'none']);
    expect([filtered.full, filtered.out, filtered.readme]).toEqual([false, undefined, undefined]);
    expect(filtered.options.clients).toEqual([]);
    expect(() => parseScoreboardArgs(['--scoreboard', '--servers', 'nginx'])).toThrow(/--servers: unknown nginx/);
    expect(() => parseScoreboardArgs(['--scoreboard', '--servers', 'ws', '--family', 'utf8', '--path', '1'])).toThrow(
      /--seed/,
    );
  });
});

describe('replaying a failing cell', () => {
  it("reproduces ws's first failure from the replay command the cell gives", async () => {
    // ws validates a fragmented text message only when it is complete: the utf8 family's fail-fast cases fail.
    // A short fail-fast deadline: shrinking waits it out once per step.
    const first = await runScoreboard({
      seed: 1,
      runs: 6,
      servers: ['ws'],
      clients: [],
      families: ['utf8'],
      timing: { failTimeout: 300 },
    });
    const cell = first.columns[0]?.cells.utf8;
    expect(cell?.status).toBe('failed');
    expect(Object.keys(cell?.failedVariants ?? {})).toEqual(['utf8/fail-fast']);
    const replay = cell?.firstFailure?.replay ?? '';
    const { options, full, out } = parseScoreboardArgs(replay.slice(SCOREBOARD_COMMAND.length).trim().split(/\s+/));
    expect(full).toBe(false);
    expect(out).toBeUndefined();
    const again = await runScoreboard(options);
    const replayed = again.columns[0]?.cells.utf8;
    expect(again.columns.map((c) => c.id)).toEqual(['ws']);
    // The same shrunk case fails the same way (the replay waits the default second for the close).
    expect(replayed?.status).toBe('failed');
    expect(replayed?.firstFailure?.variant).toBe('utf8/fail-fast');
    expect(cell?.firstFailure?.reason).toBe('did not fail the connection within 300 ms (expected 1007)');
    expect(replayed?.firstFailure?.reason).toBe('did not fail the connection within 1000 ms (expected 1007)');
    expect(replayed?.firstFailure?.detail).toBe(cell?.firstFailure?.detail);
  }, 120_000);
});
