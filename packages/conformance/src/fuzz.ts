#!/usr/bin/env node
/**
 * Long runs for nights and users, within a budget of time (--minutes) and/or
 * runs (--runs, per family and per round):
 *
 *   pnpm fuzz [--minutes M] [--runs N]               the codec's own properties, FC_RUNS=N, round after round
 *   pnpm fuzz --url ws://… [--minutes M] [--runs N]  the conformance suite against a server, a fresh seed each round
 *
 * Other flags after --url go to the suite (--deflate, --strict, --max-message-size, --max-frame-size,
 * --flood-bytes, --flood-pings, --family, --skip, and for a wss:// URL --ca FILE and --insecure).
 * Stops at the first failing round and exits 1; its output has the seed and replay line.
 * The last line is a summary; --json FILE writes every round's report (per-family counts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FAMILIES, type Family } from './case.js';
import { formatServerReport, type ServerReport } from './report.js';
import { runServerSuite } from './server-suite.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    minutes: { type: 'string' },
    runs: { type: 'string' },
    url: { type: 'string' },
    deflate: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    'max-message-size': { type: 'string' },
    'max-frame-size': { type: 'string' },
    'flood-bytes': { type: 'string' },
    'flood-pings': { type: 'string' },
    family: { type: 'string' },
    skip: { type: 'string' },
    ca: { type: 'string' },
    insecure: { type: 'boolean' },
    json: { type: 'string' },
  },
});
const ca = values.ca === undefined ? undefined : readFileSync(values.ca, 'utf8');
const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
const runs = Number(values.runs ?? (values.url ? 1000 : 20_000));
// With neither budget given, one round.
const deadline = minutes === undefined ? 0 : Date.now() + minutes * 60_000;
const more = (round: number) => round === 0 || Date.now() < deadline;

let failed = false;
let rounds = 0;
const started = Date.now();
const reports: ServerReport[] = [];
for (let round = 0; more(round) && !failed; round++) {
  rounds++;
  if (values.url !== undefined) {
    const report = await runServerSuite({
      url: values.url,
      runs,
      deflate: values.deflate,
      strict: values.strict,
      maxMessageSize: values['max-message-size'] === undefined ? undefined : Number(values['max-message-size']),
      maxFrameSize: values['max-frame-size'] === undefined ? undefined : Number(values['max-frame-size']),
      flood: {
        bytes: values['flood-bytes'] === undefined ? undefined : Number(values['flood-bytes']),
        pings: values['flood-pings'] === undefined ? undefined : Number(values['flood-pings']),
      },
      families: values.family?.split(',').filter((f): f is Family => (FAMILIES as readonly string[]).includes(f)),
      skip: values.skip?.split(','),
      ...(ca !== undefined && { ca }),
      insecure: values.insecure,
      command: `pnpm run conformance${values.ca === undefined ? '' : ` --ca ${/[\s'"]/.test(values.ca) ? JSON.stringify(values.ca) : values.ca}`}`,
    });
    console.log(`round ${round + 1}\n${formatServerReport(report)}\n`);
    reports.push(report);
    failed = !report.ok;
  } else {
    // The codec's properties read FC_RUNS; vitest is the root's.
    const res = spawnSync('npx', ['vitest', 'run', '--project', 'codec'], {
      stdio: 'inherit',
      env: { ...process.env, FC_RUNS: String(runs) },
    });
    console.log(`round ${round + 1}: codec properties with FC_RUNS=${runs}: ${res.status === 0 ? 'passed' : 'FAILED'}`);
    failed = res.status !== 0;
  }
}
const cases = reports.reduce((n, r) => n + r.families.reduce((m, f) => m + f.runs, 0), 0);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  values.url === undefined
    ? `fuzz: ${rounds} round(s) of the codec's properties in ${seconds} s: ${failed ? 'FAILED' : 'all passed'}`
    : `fuzz: ${rounds} round(s), ${cases} cases against ${values.url} in ${seconds} s: ${failed ? 'FAILED' : 'all passed'}`,
);
if (values.json !== undefined)
  writeFileSync(
    values.json,
    `${JSON.stringify({ url: values.url ?? null, rounds, ok: !failed, seconds: Number(seconds), reports }, null, 2)}\n`,
  );
process.exitCode = failed ? 1 : 0;
