import { defineConfig } from 'tsup';

export default defineConfig({
  // One file per runtime: the main entry stays free of node:/Deno code.
  entry: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    deno: 'src/deno.ts',
    bun: 'src/bun.ts',
    topics: 'src/topics.ts',
    'echo-client': 'src/echo-client.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: [/^node:/],
  removeNodeProtocol: false,
});
