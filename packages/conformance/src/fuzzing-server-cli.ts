#!/usr/bin/env node
/**
 * pnpm run fuzzing-server --port 9001 [--host H] [--cases N] [--seed S] [--family F,…]
 *   [--skip VARIANT,…] [--strict] [--report-dir DIR] [--case-timeout MS]
 *   [--max-message-size N] [--max-frame-size N] [--client-handshake-timeout MS]
 *   [--flood-bytes N] [--flood-pings N] [--flood-timeout MS] [--close-after-replies] [--http2-port P]
 * --http2-port: also serve the cases over HTTP/2 (h2c, extended CONNECT enabled, RFC 8441) on port P.
 * Serves until SIGINT/SIGTERM; each /updateReports prints that agent's summary
 * (and writes DIR/<agent>.json with --report-dir).
 */
import { parseArgs } from 'node:util';
import { FAMILIES, type Family } from './case.js';
import { FuzzingServer } from './fuzzing-server.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    port: { type: 'string', default: '9001' },
    host: { type: 'string', default: '127.0.0.1' },
    cases: { type: 'string' },
    seed: { type: 'string' },
    family: { type: 'string' },
    skip: { type: 'string' },
    strict: { type: 'boolean', default: false },
    'report-dir': { type: 'string', default: '.' },
    'case-timeout': { type: 'string' },
    'max-message-size': { type: 'string' },
    'max-frame-size': { type: 'string' },
    'client-handshake-timeout': { type: 'string' },
    'flood-bytes': { type: 'string' },
    'flood-pings': { type: 'string' },
    'flood-timeout': { type: 'string' },
    'close-after-replies': { type: 'boolean', default: false },
    'http2-port': { type: 'string' },
  },
});
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const families = values.family?.split(',') as Family[] | undefined;
for (const f of families ?? []) {
  if (!FAMILIES.includes(f)) {
    console.error(`unknown family ${f}`);
    process.exit(2);
  }
}
const server = new FuzzingServer({
  port: Number(values.port),
  host: values.host,
  cases: values.cases === undefined ? undefined : Number(values.cases),
  seed: values.seed === undefined ? undefined : Number(values.seed),
  families,
  skip: values.skip?.split(','),
  strict: values.strict,
  reportDir: values['report-dir'],
  caseTimeout: num(values['case-timeout']),
  maxMessageSize: num(values['max-message-size']),
  maxFrameSize: num(values['max-frame-size']),
  clientHandshakeTimeout: num(values['client-handshake-timeout']),
  flood: {
    bytes: num(values['flood-bytes']),
    pings: num(values['flood-pings']),
    timeout: num(values['flood-timeout']),
  },
  closeAfterReplies: values['close-after-replies'],
  http2Port: num(values['http2-port']),
});
const addr = await server.listen();
console.log(`fuzzing server on ws://${addr.address}:${addr.port}: ${server.caseCount} cases, seed ${server.seed}`);
const h2 = server.http2Address;
if (h2 !== undefined) console.log(`  and over HTTP/2 (h2c, RFC 8441) on ws://${h2.address}:${h2.port}`);
const timer = setInterval(() => {
  for (const agent of server.agents()) {
    const r = server.report(agent);
    console.log(`${agent}: ${r.passed} passed, ${r.failed} failed, ${r.notApplicable} n/a of ${r.cases.length} run`);
  }
}, 10_000);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(timer);
    for (const agent of server.agents()) {
      const r = server.report(agent);
      console.log(`${agent}: ${r.passed} passed, ${r.failed} failed, ${r.notApplicable} n/a`);
      for (const [family, n] of Object.entries(r.families))
        console.log(`  ${family.padEnd(14)} ${n.passed} passed, ${n.failed} failed, ${n.notApplicable} n/a`);
      for (const c of r.cases)
        if (c.verdict.status === 'fail')
          console.log(`  case ${c.case} ${c.variant}: ${c.description}: ${c.verdict.reason}\n    replay: ${c.replay}`);
    }
    void server.close().then(() => process.exit(0));
  });
}
