// The guides' examples are real programs: every ```js block after a
// `<!-- test: run -->` marker is extracted, run with Node, and its output
// compared with the block the guide says it prints. And docs/api.md must be
// what scripts/api-docs.mjs generates from the current sources.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// Inside this package's node_modules so the examples resolve @rfc6455/* like an application would.
const SCRATCH = fileURLToPath(new URL('../node_modules/.docs-examples/', import.meta.url));

function examples(markdown: string): Array<{ code: string; prints: string | null }> {
  const found: Array<{ code: string; prints: string | null }> = [];
  const pattern = /<!-- test: run -->\s*```js\n([\s\S]*?)```(?:\s*It prints:\s*```\n([\s\S]*?)```)?/g;
  for (let m = pattern.exec(markdown); m !== null; m = pattern.exec(markdown))
    found.push({ code: m[1] as string, prints: m[2] ?? null });
  return found;
}

describe.each(['embedding.md', 'alternate-transport.md'])('docs/%s', (file) => {
  const blocks = examples(readFileSync(`${ROOT}docs/${file}`, 'utf8'));

  test('has a runnable example', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  test.each(blocks.map((b, i) => [i, b] as const))('example %i runs and prints what the guide says', (i, block) => {
    mkdirSync(SCRATCH, { recursive: true });
    const path = `${SCRATCH}${file.replace('.md', '')}-${i}.mjs`;
    writeFileSync(path, block.code);
    const stdout = execFileSync(process.execPath, [path], { encoding: 'utf8', timeout: 20_000 });
    if (block.prints !== null) expect(stdout).toBe(block.prints);
  });
});

test('docs/api.md matches the sources (regenerate with node scripts/api-docs.mjs)', () => {
  const output = execFileSync(process.execPath, [`${ROOT}scripts/api-docs.mjs`, '--check'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(output).toContain('up to date');
}, 120_000);
