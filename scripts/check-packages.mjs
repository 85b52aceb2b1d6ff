#!/usr/bin/env node
// Checks every publishable package as a consumer would receive it: packs
// it with pnpm (which rewrites workspace: ranges, as a publish does), then
// runs publint and @arethetypeswrong/cli on the tarball, and checks the
// tarball carries the licence, a README and a changelog.
//
// `node scripts/check-packages.mjs [package-dir...]`: all packages under
// packages/ that are not private, or the named ones. Exits 1 on any finding.
// Run after `pnpm run build`: the tarballs hold dist/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const pnpm = ['--yes', 'pnpm@10.34.9'];

const dirs =
  process.argv.length > 2
    ? process.argv.slice(2).map((d) => resolve(d))
    : readdirSync(join(root, 'packages'), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join(root, 'packages', e.name))
        .filter((dir) => {
          try {
            return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private !== true;
          } catch {
            return false;
          }
        });

const out = mkdtempSync(join(tmpdir(), 'rfc6455-packs-'));
const failures = [];

function run(command, args, cwd) {
  try {
    return { ok: true, output: execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    return { ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}` };
  }
}

try {
  for (const dir of dirs) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const { name } = manifest;
    // An ESM-only package (the CLI) is checked as one: CommonJS consumers must import() it.
    const esmOnly = !JSON.stringify(manifest.exports ?? {}).includes('"require"');
    const packed = run('npx', [...pnpm, 'pack', '--pack-destination', out], dir);
    const tarball = readdirSync(out).find((f) => f.startsWith(name.replace('@', '').replace('/', '-')));
    if (!packed.ok || tarball === undefined) {
      failures.push(`${name}: pnpm pack failed\n${packed.output}`);
      continue;
    }
    const path = join(out, tarball);
    const list = run('tar', ['-tzf', path], out);
    for (const required of ['package/LICENSE', 'package/README.md', 'package/CHANGELOG.md', 'package/package.json']) {
      if (!list.output.split('\n').includes(required))
        failures.push(`${name}: the tarball has no ${required.slice(8)}`);
    }
    const publint = run('npx', ['publint', 'run', path, '--strict'], root);
    if (!publint.ok) failures.push(`${name}: publint\n${publint.output}`);
    // node10 resolution cannot see subpath exports; every package requires Node ≥ 20.19.
    const profile = esmOnly ? 'esm-only' : 'node16';
    const attw = run('npx', ['attw', path, '--profile', profile, '--format', 'table-flipped'], root);
    if (!attw.ok) failures.push(`${name}: @arethetypeswrong/cli\n${attw.output}`);
    console.log(`check-packages: ${name} ${publint.ok && attw.ok ? 'ok' : 'FAILED'}`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(failures.join('\n\n'));
  process.exit(1);
}
