#!/usr/bin/env node
/**
 * pnpm run conformance --url ws://127.0.0.1:9001 [--runs N] [--seed S] [--path P]
 *   [--family F[,F]] [--skip VARIANT[,…]] [--max-message-size N] [--max-frame-size N] [--deflate] [--strict]
 *   [--flood-bytes N] [--flood-pings N] [--flood-stall MS] [--flood-timeout MS] [--max-delay MS] [--json report.json]
 *   [--census] [--http2] [--ca FILE] [--insecure]
 * --url wss://…: every connection over TLS (ALPN http/1.1, or h2 with --http2), the certificate verified;
 *   --ca FILE trusts the PEM certificates in FILE besides Node's bundled CAs, --insecure skips verification
 *   (the report's first line says so).
 * --http2: each case on an HTTP/2 stream (RFC 8441): h2c to a ws:// URL's host and port, h2 over TLS to a wss:// one.
 * Exit code: 0 when no family failed, 1 otherwise, 2 for bad arguments.
 *
 * pnpm run conformance --scoreboard […]: the cross-runtime scoreboard (scoreboard-cli.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FAMILIES, type Family } from './case.js';
import { formatServerReport } from './report.js';
import { scoreboardMain } from './scoreboard-cli.js';
import { runServerSuite } from './server-suite.js';

function families(value: string | undefined): Family[] | undefined {
  if (value === undefined) return undefined;
  const out = value.split(',').map((f) => f.trim());
  for (const f of out)
    if (!(FAMILIES as readonly string[]).includes(f))
      throw new Error(`unknown family ${f}; families: ${FAMILIES.join(', ')}`);
  return out as Family[];
}

function int(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<number> {
  if (process.argv.includes('--scoreboard')) return scoreboardMain(process.argv.slice(2));
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      url: { type: 'string', default: 'ws://127.0.0.1:9001' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      path: { type: 'string' },
      family: { type: 'string' },
      skip: { type: 'string' },
      'max-message-size': { type: 'string' },
      'max-frame-size': { type: 'string' },
      'flood-bytes': { type: 'string' },
      'flood-pings': { type: 'string' },
      'flood-stall': { type: 'string' },
      'flood-timeout': { type: 'string' },
      'max-delay': { type: 'string' },
      deflate: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      census: { type: 'boolean', default: false },
      http2: { type: 'boolean', default: false },
      ca: { type: 'string' },
      insecure: { type: 'boolean' },
      json: { type: 'string' },
    },
  });
  const report = await runServerSuite({
    url: values.url,
    ...(values.ca !== undefined && {
      ca: readFileSync(values.ca, 'utf8'),
      // The replay line needs the file as much as the flags runServerSuite knows of.
      command: `pnpm run conformance --ca ${/[\s'"]/.test(values.ca) ? JSON.stringify(values.ca) : values.ca}`,
    }),
    insecure: values.insecure,
    runs: int(values.runs, '--runs'),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    path: values.path,
    families: families(values.family),
    skip: values.skip?.split(','),
    maxMessageSize: int(values['max-message-size'], '--max-message-size'),
    maxFrameSize: int(values['max-frame-size'], '--max-frame-size'),
    flood: {
      bytes: int(values['flood-bytes'], '--flood-bytes'),
      pings: int(values['flood-pings'], '--flood-pings'),
      stall: int(values['flood-stall'], '--flood-stall'),
      timeout: int(values['flood-timeout'], '--flood-timeout'),
    },
    maxDelay: int(values['max-delay'], '--max-delay'),
    deflate: values.deflate,
    strict: values.strict,
    census: values.census,
    http2: values.http2,
    onFamily: (f) =>
      console.log(
        `${f.family}: ${f.status}${f.status === 'not applicable' ? ` (${f.reason})` : ` ${f.passed}/${f.runs}`}`,
      ),
  });
  console.log(`\n${formatServerReport(report)}`);
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  },
);
