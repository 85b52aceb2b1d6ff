#!/usr/bin/env node
// Bundles the demo page (and the codec inside it) for the browser, next to the CLI
// that serves it: dist/demo/{index.html, app.css, app.js}.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/demo/`;
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [`${root}demo/app.ts`],
  outfile: `${out}app.js`,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css']) copyFileSync(`${root}demo/${file}`, `${out}${file}`);
