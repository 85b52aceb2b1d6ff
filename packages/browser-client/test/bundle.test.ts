// The main entry runs in browsers: bundling it for the browser platform
// must succeed and pull in no node: module; the runtime entries are separate.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { expect, test } from 'vitest';

const dist = (file: string) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));

test('the main entry bundles for platform browser with no node: imports', async () => {
  const result = await esbuild.build({
    entryPoints: [dist('index.js')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.some((p) => p.includes('codec'))).toBe(true);
  for (const output of Object.values(result.metafile.outputs)) {
    expect(output.imports.filter((i) => i.path.startsWith('node:') || i.external)).toEqual([]);
  }
  const code = result.outputFiles[0]?.text ?? '';
  expect(code).not.toMatch(/["']node:/);
  expect(code).not.toMatch(/\bDeno\./);
});

async function externalImports(entry: string): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [dist(entry)],
    bundle: true,
    platform: 'browser',
    external: ['node:*'],
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
}

test('the runtime entries are separate: /node and /bun use node:net, node:tls and node:http2, /deno none', async () => {
  expect(readFileSync(dist('index.js'), 'utf8')).not.toMatch(/node:/);
  expect(await externalImports('deno.js')).toEqual([]);
  for (const entry of ['node.js', 'bun.js']) {
    // node:http2 for WebSocket over HTTP/2 (RFC 8441), only when a WebSocket asks for it.
    expect(new Set(await externalImports(entry))).toEqual(new Set(['node:net', 'node:tls', 'node:http2']));
  }
});
