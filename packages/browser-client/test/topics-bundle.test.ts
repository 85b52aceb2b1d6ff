// The topics entry runs in browsers too: bundled for the browser platform
// with the main entry's WebSocket it pulls in no node: module, and the
// topics state machine comes along from @rfc6455/topics.
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { expect, test } from 'vitest';

const dist = (file: string) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));

test('the /topics entry bundles for platform browser with no node: imports', async () => {
  const result = await esbuild.build({
    stdin: {
      contents: `export * from ${JSON.stringify(dist('topics.js'))}; export { ReconnectingWebSocket } from ${JSON.stringify(dist('index.js'))};`,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      loader: 'js',
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.some((p) => p.includes('topics/dist'))).toBe(true);
  for (const output of Object.values(result.metafile.outputs)) {
    expect(output.imports.filter((i) => i.path.startsWith('node:') || i.external)).toEqual([]);
  }
  expect(result.outputFiles[0]?.text ?? '').not.toMatch(/["']node:/);
});
