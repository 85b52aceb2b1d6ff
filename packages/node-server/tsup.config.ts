import { defineConfig } from 'tsup';

export default defineConfig({
  // One file per runtime's listener; the server core is shared by all three.
  entry: { index: 'src/index.ts', deno: 'src/deno.ts', bun: 'src/bun.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
