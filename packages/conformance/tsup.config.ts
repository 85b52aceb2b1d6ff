import { defineConfig } from 'tsup';

export default defineConfig([
  // The library: ESM and CJS with types, like the other packages.
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'node',
  },
  // The commands run as `node dist/x.js`: ESM only (they use top-level await).
  {
    entry: { cli: 'src/cli.ts', 'fuzzing-server-cli': 'src/fuzzing-server-cli.ts', fuzz: 'src/fuzz.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'es2022',
    platform: 'node',
  },
]);
