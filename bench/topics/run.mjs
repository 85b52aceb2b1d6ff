#!/usr/bin/env node
/**
 * The topics benchmark: `node bench/topics/run.mjs [fanout|chaos]` (both by
 * default; needs the packages built). Not a test: figures move with the
 * machine's load.
 *
 * - fanout: 1 publisher, 1 000 subscribers, 64 B and 16 KiB, node-server's
 *   `wss.publish` (MemoryTopics) against Bun's `server.publish`, each server
 *   in its own process; ROUNDS (3) interleaved rounds, medians.
 * - chaos: the chaos harness (two node-server processes on Redis, faults;
 *   see chaos.mjs) with its delivered %, fan-out msg/s and server CPU per
 *   delivery, and, as a labelled baseline, the same scenario with Socket.IO
 *   and its Redis adapter when installed (socketio.mjs).
 *
 * Results go to bench/results/latest.json under "topics".
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runChaos } from './chaos.mjs';
import { bunAvailable, runFanout } from './fanout.mjs';
import { reportRows } from './oracle.mjs';

const which = process.argv[2] ?? 'all';
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = {
  date: new Date().toISOString(),
  environment: {
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    loadAverageAtStart: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  },
};
console.log(`topics benchmark (${results.environment.cpu}, load ${results.environment.loadAverageAtStart})`);

if (which === 'all' || which === 'fanout') {
  const runtimes = bunAvailable() ? ['node', 'bun'] : ['node'];
  if (runtimes.length === 1)
    console.log('bun is not installed (packages/browser-client devDependency): node-server only');
  const cases = [
    { size: 64, messages: 300 },
    { size: 16 * 1024, messages: 40 },
  ];
  const fanout = [];
  for (const { size, messages } of cases) {
    const samples = Object.fromEntries(runtimes.map((r) => [r, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? runtimes : [...runtimes].reverse();
      for (const runtime of order) samples[runtime].push(await runFanout({ runtime, size, messages }));
    }
    for (const runtime of runtimes) {
      const rows = samples[runtime];
      const entry = {
        case: `publish ${size} B to 1 000 subscribers`,
        server: runtime === 'node' ? 'node-server wss.publish' : 'Bun server.publish',
        frameBytes: rows[0].frameBytes,
        deliveriesPerSecond: median(rows.map((r) => r.deliveriesPerSecond)),
        cpuMicrosPerDelivery: median(rows.map((r) => r.cpuMicrosPerDelivery)),
      };
      fanout.push(entry);
      console.log(
        `${entry.case.padEnd(36)} ${entry.server.padEnd(24)} ${(entry.deliveriesPerSecond / 1000).toFixed(0).padStart(5)} k deliveries/s  ` +
          `${entry.cpuMicrosPerDelivery.toFixed(2).padStart(6)} µs server CPU/delivery  (${entry.frameBytes} B frames)`,
      );
    }
  }
  results.fanout = fanout;
}

if (which === 'all' || which === 'chaos') {
  const contenders = [['rfc6455 topics on Redis', runChaos, reportRows]];
  const { runSocketIoChaos, socketIoAvailable, socketIoRows } = await import('./socketio.mjs');
  if (await socketIoAvailable()) {
    contenders.push(['Socket.IO 4 + @socket.io/redis-adapter (baseline)', runSocketIoChaos, socketIoRows]);
  } else console.log('socket.io is not installed (root devDependencies): no baseline');
  results.chaos = [];
  for (const [name, run, rows] of contenders) {
    const result = await run({ seed: 7, durationMs: 20_000 });
    const deliveries = result.totals.deliveries;
    const summary = {
      name,
      deliveredPercent: result.deliveredPercent,
      deliveries,
      duplicates: result.totals.duplicates,
      missing: result.totals.missing,
      fanoutPerSecond: deliveries / result.counts.runSeconds,
      serverCpuMicrosPerDelivery: result.counts.serverCpuMicros / deliveries,
      latency: result.latency,
      settled: result.settled,
    };
    results.chaos.push(summary);
    console.log(`\n${name}`);
    for (const [what, value] of rows(result)) console.log(`  ${what.padEnd(62)} ${value}`);
    console.log(`  ${'fan-out msg/s (deliveries / run time)'.padEnd(62)} ${summary.fanoutPerSecond.toFixed(0)}`);
    console.log(`  ${'server CPU per delivery'.padEnd(62)} ${summary.serverCpuMicrosPerDelivery.toFixed(1)} µs`);
  }
}

const file = fileURLToPath(new URL('../results/latest.json', import.meta.url));
mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
all.topics = results;
writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
console.log(`\nresults written to ${file}`);
