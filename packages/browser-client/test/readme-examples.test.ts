// The README's TypeScript examples, compiled as a user's project compiles them
// (against the built .d.ts, after the build): an example that stops
// type-checking fails here, so the README cannot drift from the API.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { typeCheck, typeScriptBlocks } from './type-check.js';

test('every TypeScript example in the README type-checks against the built types', () => {
  const blocks = typeScriptBlocks(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
  expect(blocks.length).toBeGreaterThanOrEqual(5);
  expect(typeCheck(blocks)).toEqual([]);
});
