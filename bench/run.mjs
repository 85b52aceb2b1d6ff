#!/usr/bin/env node
// Benchmark runner: `node bench/run.mjs [suite] [filter]`.
// Suites are the files in bench/suites/ (default: codec); `filter` runs only
// the cases whose name contains it. Results are printed as a table and stored
// under the suite's name in bench/results/latest.json (other suites' entries
// in that file are kept).
//
// Each case runs in a fresh child process (`--case N`), so no case inherits
// another's JIT type feedback or heap: one process running every case in turn
// measured e.g. ws at 2.0 and this codec at 2.5 M masked 125 B frames/s, where
// a process of their own gives 3.4 and 5.5.
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatRate, printTable } from './lib/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const suitesDir = join(here, 'suites');
const available = readdirSync(suitesDir)
  .filter((f) => f.endsWith('.mjs'))
  .map((f) => f.slice(0, -4));

const args = process.argv.slice(2);
const caseFlag = args.indexOf('--case');
const childCase = caseFlag >= 0 ? Number(args.splice(caseFlag, 2)[1]) : -1;
const [suiteName = 'codec', filter = ''] = args;
if (!available.includes(suiteName)) {
  console.error(`unknown suite "${suiteName}"; available: ${available.join(', ')}`);
  process.exit(2);
}
const suite = await import(join(suitesDir, `${suiteName}.mjs`));

if (childCase >= 0) {
  // Child: run one case and hand its measurements to the parent.
  const c = suite.cases()[childCase];
  process.send({ measured: await c.run() });
  process.exit(0);
}

function runInChild(index) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [suiteName, '--case', String(index)], { stdio: 'inherit' });
    let result;
    child.on('message', (m) => {
      result = m.measured;
    });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`case ${index} exited with ${code}`))));
  });
}

const wasmSimd = (() => {
  try {
    // (module (func (result v128) v128.const i64x2 0 0))
    const bytes = [
      0,
      97,
      115,
      109,
      1,
      0,
      0,
      0,
      1,
      5,
      1,
      96,
      0,
      1,
      123,
      3,
      2,
      1,
      0,
      10,
      22,
      1,
      20,
      0,
      253,
      12,
      ...new Array(16).fill(0),
      11,
    ];
    return WebAssembly.validate(new Uint8Array(bytes));
  } catch {
    return false;
  }
})();

const env = {
  node: process.version,
  v8: process.versions.v8,
  cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
  wasmSimd,
  loadAverageAtStart: loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
  ...(suite.environment ? suite.environment() : {}),
};
console.log(`suite ${suiteName}: ${suite.description ?? ''}`);
for (const [k, v] of Object.entries(env)) console.log(`  ${k}: ${v}`);
console.log('');

const started = Date.now();
const rows = [['case', 'this', 'ws', 'this/ws', 'other']];
const results = [];
for (const [index, c] of suite.cases().entries()) {
  if (filter && !c.name.includes(filter)) continue;
  const measured = await runInChild(index);
  // Rates in ops/s; for GB/s cases convert with the payload size.
  const scale = c.unit === 'GB/s' ? c.size / 1e9 : 1;
  const rate = (name) => (measured[name] ? measured[name].median * scale : undefined);
  const ours = rate('this');
  const theirs = rate('ws');
  const extra = Object.keys(measured).filter((n) => n !== 'this' && n !== 'ws');
  const entry = {
    name: c.name,
    group: c.group,
    unit: c.unit,
    payloadBytes: c.size,
    this: ours,
    ws: theirs,
    ratio: ours / theirs,
    samples: Object.fromEntries(Object.entries(measured).map(([n, m]) => [n, m.samples.map((s) => s * scale)])),
  };
  for (const n of extra) entry[n] = rate(n);
  results.push(entry);
  const row = [
    c.name,
    formatRate(ours, c.unit),
    formatRate(theirs, c.unit),
    `${entry.ratio.toFixed(2)}×`,
    // A variant of this codec is compared with ws; one of ws (e.g. ws+toString) with this codec.
    extra
      .map((n) =>
        n.startsWith('this')
          ? `${n} ${formatRate(rate(n), c.unit)} (${n}/ws ${(rate(n) / theirs).toFixed(2)}×)`
          : `${n} ${formatRate(rate(n), c.unit)} (this/${n} ${(ours / rate(n)).toFixed(2)}×)`,
      )
      .join('; '),
  ];
  rows.push(row);
  console.log(row.filter(Boolean).join('  |  '));
}
const seconds = (Date.now() - started) / 1000;
console.log('');
printTable(rows);
console.log('');
for (const n of suite.notes ?? []) console.log(`note: ${n}`);
console.log(`(${seconds.toFixed(1)} s; medians of interleaved rounds; rates in frames/s unless GB/s)`);

const resultsDir = join(here, 'results');
const file = join(resultsDir, 'latest.json');
mkdirSync(resultsDir, { recursive: true });
const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
all[suiteName] = {
  date: new Date().toISOString(),
  command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  filter: filter || undefined,
  seconds,
  environment: env,
  notes: suite.notes,
  results,
};
writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
console.log(`results written to ${file}`);
