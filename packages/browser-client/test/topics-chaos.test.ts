/**
 * Topics under faults, with real parts: two node-server processes on one
 * redis-server, TCP fault proxies in front of Redis and of each server, two
 * dozen TopicsClients on ReconnectingWebSockets that reconnect to the other
 * process every 1–3 s, publishers retrying with idempotency keys, a
 * `CLIENT KILL TYPE pubsub`, a cut of every Redis connection, a `kill -9` of
 * one server and its restart, and a Redis restart (a new epoch). The harness
 * (bench/topics/chaos.mjs, shared with the benchmark) logs what publishers
 * were given and what each client's application saw; the oracle is checked
 * first on logs made by hand, so that the run's zeros mean something.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChaos } from '../../../bench/topics/chaos.mjs';
import { type ClientEvent, judge, type PublishedRecord, reportRows } from '../../../bench/topics/oracle.mjs';

const BUILT = ['node-server', 'browser-client', 'topics-redis'].every((name) =>
  existsSync(fileURLToPath(new URL(`../../${name}/dist/index.js`, import.meta.url))),
);

function published(records: Array<[string, number]>): Map<string, PublishedRecord[]> {
  return new Map([['t', records.map(([epoch, offset]) => ({ key: `${epoch}${offset}`, epoch, offset, sentAt: 0 }))]]);
}
const sub = (epoch: string, offset: number, recovered = false): ClientEvent => ({
  type: 'subscribed',
  topic: 't',
  recovered,
  epoch,
  offset,
  t: 1,
});
const pub = (epoch: string, offset: number, data = `${epoch}${offset}`): ClientEvent => ({
  type: 'publication',
  topic: 't',
  epoch,
  offset,
  data,
  replay: false,
  t: 1,
});
function judged(records: Array<[string, number]>, events: ClientEvent[]) {
  const log = published(records);
  const sentAt = new Map([...(log.get('t') ?? [])].map((r) => [r.key, 0]));
  return judge({ published: log, sentAt, clientLogs: [{ topics: ['t'], events }] }).totals;
}

describe('the chaos oracle', () => {
  const records: Array<[string, number]> = [
    ['e', 1],
    ['e', 2],
    ['e', 3],
  ];

  it('finds nothing wrong in a clean stream', () => {
    expect(judged(records, [sub('e', 0), pub('e', 1), pub('e', 2), pub('e', 3)])).toMatchObject({
      duplicates: 0,
      silentGaps: 0,
      missing: 0,
      wrongPayloads: 0,
    });
  });

  it('counts a duplicate, a silent gap, a missing publication and a wrong payload', () => {
    expect(judged(records, [sub('e', 0), pub('e', 1), pub('e', 1), pub('e', 3)])).toMatchObject({
      duplicates: 1,
      silentGaps: 1,
      missing: 1,
    });
    expect(judged(records, [sub('e', 0), pub('e', 1), pub('e', 2, 'forged'), pub('e', 3)]).wrongPayloads).toBe(1);
    // An epoch change without recovered: false is a silent gap too.
    expect(
      judged([...records, ['f', 1]], [sub('e', 0), pub('e', 1), pub('e', 2), pub('e', 3), pub('f', 1)]),
    ).toMatchObject({ silentGaps: 1, missing: 0 });
  });

  it('accepts a loss announced by recovered: false, and not a recovered answer that skips', () => {
    const restart: Array<[string, number]> = [...records, ['f', 1], ['f', 2]];
    expect(judged(restart, [sub('e', 0), pub('e', 1), sub('f', 1), pub('f', 2)])).toMatchObject({
      silentGaps: 0,
      missing: 0,
      lostWithNotice: 3,
      laterResyncs: 1,
      epochChangesSeen: 1,
    });
    expect(judged(records, [sub('e', 0), pub('e', 1), sub('e', 3, true), pub('e', 3)])).toMatchObject({
      silentGaps: 1,
      missing: 1,
    });
  });
});

describe('topics under faults', () => {
  it('delivers every publication once, in order, or announces the loss', { timeout: 90_000 }, async () => {
    if (!BUILT) throw new Error('build the packages first: pnpm build');
    const result = await runChaos({ seed: 13 });
    console.log(
      reportRows(result)
        .map(([what, value]) => `${what.padEnd(62)} ${value}`)
        .join('\n'),
    );
    expect(result.settled).toBe(true);
    expect(result.totals.duplicates).toBe(0);
    expect(result.totals.silentGaps).toBe(0);
    expect(result.totals.wrongPayloads).toBe(0);
    expect(result.totals.missing).toBe(0);
    expect(result.deliveredPercent).toBe(100);
    expect(result.counts.idempotencyViolations).toBe(0);
    // The faults happened, and the client-side machinery was exercised.
    expect(result.counts.serverKills).toBe(1);
    expect(result.counts.redisRestarts).toBe(1);
    expect(result.counts.clientConnectionsCut).toBeGreaterThan(24);
    expect(result.totals.recoveredAnswers).toBeGreaterThan(0);
    // The Redis restart is a new epoch, seen by every client on every topic, never silently.
    expect(result.totals.epochChangesSeen).toBeGreaterThan(0);
    expect(result.totals.laterResyncs).toBeGreaterThanOrEqual(result.totals.epochChangesSeen);
  });
});
