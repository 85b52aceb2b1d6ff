/**
 * The Bun and Deno listeners, each run by the real `bun` or `deno` binary,
 * must pass every family of the conformance server suite in strict mode,
 * the handshake and permessage-deflate included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPeers } from '../../../scripts/test-peers.js';
import { formatServerReport, runServerSuite } from '../../conformance/src/index.js';
import { BUN, DENO, type RuntimeServer, startRuntimeServer } from './runtime-server.js';

describe.each([
  ['bun', 'Bun', missingPeers({ bun: BUN })],
  ['deno', 'Deno', missingPeers({ deno: DENO })],
] as const)('the %s listener', (runtime, name, missing) => {
  let server: RuntimeServer | undefined;

  beforeAll(async () => {
    if (missing === null) server = await startRuntimeServer(runtime);
  });
  afterAll(() => server?.stop());

  it.skipIf(missing !== null)(`passes every family, strict, against the ${name} listener`, async () => {
    const s = server as RuntimeServer;
    expect(s.runtime).toMatch(new RegExp(`^${runtime} `));
    const report = await runServerSuite({
      url: s.url,
      runs: Number(process.env.CONFORMANCE_RUNS ?? 25),
      maxMessageSize: 70_000,
      deflate: true,
      strict: true,
    });
    const text = formatServerReport(report);
    console.log(`${s.runtime}\n${text}`);
    expect(report.ok, text).toBe(true);
    expect(report.families.map((f) => f.family)).toContain('handshake');
    for (const f of report.families) expect(f.status, `${f.family}\n${text}`).toBe('passed');
  });
});
