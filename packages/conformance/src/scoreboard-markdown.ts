/**
 * The scoreboard as Markdown: docs/conformance.md (tables, the run's
 * settings and versions, every failing cell's first failure with its replay
 * command) and the summary for the root README, which replaces whatever lies
 * between its scoreboard markers.
 */
import type { Family } from './case.js';
import type { Cell, Column, Scoreboard } from './scoreboard.js';

export const README_START = '<!-- conformance-scoreboard:start -->';
export const README_END = '<!-- conformance-scoreboard:end -->';

function anchor(column: Column, family: Family): string {
  return `${column.role}-${column.id}-${family}`;
}

/** Text in a table cell: no pipes or line breaks. */
function cellText(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function cellMarkdown(column: Column, family: Family, cell: Cell | undefined, docs: string): string {
  if (cell === undefined) return column.skipped !== undefined ? 'not run' : '—';
  if (cell.status === 'n/a') return cellText(`n/a: ${cell.reason ?? ''}`);
  const lines = [cell.status === 'passed' ? `✓ ${cell.passed}/${cell.total}` : `**✗ ${cell.passed}/${cell.total}**`];
  const failed = Object.entries(cell.failedVariants).sort((a, b) => b[1] - a[1]);
  if (failed.length > 0)
    lines.push(
      `[${failed.map(([v, n]) => `${v}${n > 1 ? ` ×${n}` : ''}`).join(', ')}](${docs}#${anchor(column, family)})`,
    );
  if (cell.note !== undefined) lines.push(cell.note.startsWith('floods only') ? 'floods only' : cell.note);
  if (cell.notApplicable > 0) lines.push(`+${cell.notApplicable} n/a`);
  if (cell.dropped > 0) lines.push(`${cell.dropped} dropped TCP without close`);
  if (cell.exited !== undefined) lines.push('process exited');
  if (cell.noCloseEvent !== undefined) lines.push(`API: no close event ×${cell.noCloseEvent}`);
  return cellText(lines.join('<br>'));
}

function table(board: Scoreboard, role: 'server' | 'client', docs: string): string[] {
  const columns = board.columns.filter((c) => c.role === role);
  const families = role === 'server' ? board.serverFamilies : board.clientFamilies;
  if (columns.length === 0 || families.length === 0) return [];
  const header = `| family | ${columns.map((c) => (c.ours ? `**${c.label}**` : c.label)).join(' | ')} |`;
  const rule = `| --- | ${columns.map(() => '---').join(' | ')} |`;
  const rows = families.map(
    (f) => `| \`${f}\` | ${columns.map((c) => cellMarkdown(c, f, c.cells[f], docs)).join(' | ')} |`,
  );
  return [header, rule, ...rows];
}

function versions(board: Scoreboard): string {
  return Object.entries(board.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** The command that runs the whole scoreboard. */
const FULL_COMMAND = 'npx --yes pnpm@10.34.9 conformance --scoreboard';

export function scoreboardMarkdown(board: Scoreboard): string {
  const command = board.command ?? FULL_COMMAND;
  const out: string[] = [
    '# Conformance scoreboard',
    '',
    "This project's server and client beside other WebSocket implementations, judged by [`@rfc6455/conformance`](../packages/conformance) with the same generated cases for everyone: the server suite over TCP against each echo server, and the fuzzing server against each echo client. Each cell counts the cases that passed out of those judged; a failing cell links to its first failure, with a command that replays that case alone. This page is written by the command below; do not edit it by hand.",
    '',
    `- **Run**: ${board.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}, seed ${board.seed}, ${board.runs} server cases and ${board.cases} client cases per family, ${Math.round(board.seconds / 60)} min on the project's 2-core machine.`,
    `- **Command**: \`${command}\`${/--seed\b/.test(command) ? '' : ` (add \`--seed=${board.seed}\` for these exact cases)`}.`,
    `- **Versions**: ${versions(board)}${board.commit !== undefined ? `; this project at commit ${board.commit}` : ''}.`,
    '- **Mode**: lenient (the default; see [what counts as a pass](../packages/conformance/README.md#what-counts-as-a-pass)). Server families run every case (census), then shrink the first failure; client families run every case.',
    '',
    '## Servers',
    '',
    ...table(board, 'server', ''),
    '',
    '## Clients',
    '',
    ...table(board, 'client', ''),
    '',
    "✓ every judged case passed; **✗** some failed (linked: the failing variants, most frequent first, and how often); *n/a*: the family could not apply (permessage-deflate not agreed); *floods only*: the limits family without a known message size limit runs its floods only; *dropped TCP without close*: invalid cases where the peer closed TCP without a close frame, which RFC 6455 §7.1.7 allows and the lenient judge passes (strict mode would not); *+k n/a*: cases that could not apply, not counted; *API: no close event ×k*: cases where the client's WebSocket fired no close event (WHATWG WebSockets fire one after every error) and the echo script moved on after 2 s (30 s without an error) — what an application sees, which the wire does not show.",
    '',
    '## The implementations',
    '',
    ...board.columns.map(
      (c) => `- ${c.role} **${c.label}**: ${c.setup}${c.skipped !== undefined ? ` — not run: ${c.skipped}` : ''}`,
    ),
    '',
    '## First failures',
    '',
  ];
  const failing = board.columns.flatMap((c) =>
    (Object.entries(c.cells) as [Family, Cell][])
      .filter(([, cell]) => cell.firstFailure !== undefined || cell.exited !== undefined)
      .map(([f, cell]) => ({ c, f, cell })),
  );
  if (failing.length === 0) out.push('None.', '');
  for (const { c, f, cell } of failing) {
    out.push(`### <a id="${anchor(c, f)}"></a>${c.role} ${c.label} · \`${f}\`: ${cell.passed}/${cell.total}`, '');
    if (cell.exited !== undefined) out.push(`- ${c.role === 'server' ? '' : 'crashed: '}${cell.exited.split('\n')[0]}`);
    // The first failure of all, then the first of each other failing variant.
    for (const [i, x] of cell.failures.entries()) {
      const count = cell.failedVariants[x.variant] ?? 0;
      out.push(
        `- ${i === 0 ? 'first failure' : 'also'}: \`${x.variant}\`${count > 1 ? ` (×${count})` : ''}: ${x.description}`,
      );
      out.push(`  - why: ${x.reason.split('\n')[0]}`);
      if (x.detail !== undefined) out.push(`  - case: \`${x.detail.replace(/`/g, "'")}\``);
      out.push(`  - replay: \`${x.replay}\``);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** The README's section: the summary tables, linking into docs/conformance.md. */
export function readmeSection(board: Scoreboard): string {
  const docs = 'docs/conformance.md';
  return [
    README_START,
    `${board.runs} generated cases per family for servers and ${board.cases} for clients, the same for every implementation (seed ${board.seed}, ${board.date.slice(0, 10)}; ${versions(board)}). Passed / judged cases; a failing cell links to its failures and their replay commands in [${docs}](${docs}). \`${FULL_COMMAND}\` runs it again (several minutes).`,
    '',
    '**Servers** (the server suite over TCP):',
    '',
    ...table(board, 'server', docs),
    '',
    '**Clients** (the fuzzing server):',
    '',
    ...table(board, 'client', docs),
    README_END,
  ].join('\n');
}

/** `readme` with its scoreboard section replaced; undefined when the markers are not there. */
export function replaceReadmeSection(readme: string, board: Scoreboard): string | undefined {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) return undefined;
  return `${readme.slice(0, start)}${readmeSection(board)}${readme.slice(end + README_END.length)}`;
}
