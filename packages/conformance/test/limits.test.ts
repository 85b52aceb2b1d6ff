/**
 * The limits family in both roles. Servers: this project's node-server
 * (message limit, and a frame limit below it) passes, strict included.
 * Clients (the fuzzing server): this project's client passes, in this process
 * at a 70 000-byte limit and as the built echo client at its 64 MiB limit.
 * ws 8.23 passes everything in both roles but the ping flood, where it
 * terminates the connection without a close frame once 60 automatic pongs
 * wait to be written (`maxPendingAutoPongs`): asserted, and shown to be the
 * cause by turning the option off.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '@rfc6455/node-server';
import { describe, expect, it } from 'vitest';
import {
  type ClientOptions as WsClientOptions,
  WebSocketServer as WsServer,
  type ServerOptions as WsOptions,
} from 'ws';
import {
  type CaseVerdict,
  type FamilyResult,
  formatServerReport,
  FuzzingServer,
  type FuzzingServerOptions,
  runServerSuite,
} from '../src/index.js';
import { browserClient, type EchoClient, runCases, runEchoClient, verdicts, wsClient } from './echo-clients.js';

const LIMIT = 70_000;
const RUNS = Number(process.env.CONFORMANCE_RUNS ?? 40);

async function nodeServer(options: {
  maxMessageSize: number;
  maxFramePayload?: number;
}): Promise<{ url: string; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  wss.on('connection', (ws) => ws.on('message', (data: string | Buffer) => ws.send(data)));
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, close: () => wss.close({ timeout: 500 }) };
}

async function wsServer(options: WsOptions = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const wss = new WsServer({ port: 0, host: '127.0.0.1', maxPayload: LIMIT, ...options });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
}

function only(report: { families: readonly FamilyResult[] }): FamilyResult {
  expect(report.families.length).toBe(1);
  return report.families[0] as FamilyResult;
}

describe('server suite, limits family', () => {
  it('node-server passes, strict: 1009 over the limit, the message at the limit delivered, floods answered', async () => {
    const server = await nodeServer({ maxMessageSize: LIMIT });
    try {
      const report = await runServerSuite({
        url: server.url,
        runs: RUNS,
        maxMessageSize: LIMIT,
        families: ['limits'],
        strict: true,
      });
      const limits = only(report);
      expect(limits.status, formatServerReport(report)).toBe('passed');
      // node-server stops reading a slow reader's flood (it pauses the socket while 1 MiB waits to be written).
      for (const key of Object.keys(limits.policies))
        expect(key).toBe('limits/slow-reader: pushed back while we did not read');
    } finally {
      await server.close();
    }
  });

  it('node-server with a frame limit below its message limit passes the frame cases', async () => {
    const server = await nodeServer({ maxMessageSize: LIMIT, maxFramePayload: 16_384 });
    try {
      const report = await runServerSuite({
        url: server.url,
        runs: RUNS,
        seed: 3,
        maxMessageSize: LIMIT,
        maxFrameSize: 16_384,
        families: ['limits'],
        skip: ['limits/ping-flood', 'limits/slow-reader'],
      });
      expect(only(report).status, formatServerReport(report)).toBe('passed');
      // Told the wrong frame limit, the suite sees node-server refuse a frame it thought allowed.
      const wrong = await runServerSuite({
        url: server.url,
        runs: RUNS,
        seed: 3,
        maxMessageSize: LIMIT,
        maxFrameSize: 20_000,
        families: ['limits'],
        skip: ['limits/ping-flood', 'limits/slow-reader', 'limits/over-declared'],
      });
      expect(only(wrong).failure?.reason).toMatch(/^only 0 of 1 messages echoed; missing /);
    } finally {
      await server.close();
    }
  });

  it('without a limit, only the floods run, and the report says so', async () => {
    const server = await nodeServer({ maxMessageSize: LIMIT });
    try {
      const report = await runServerSuite({
        url: server.url,
        runs: 4,
        seed: 9,
        families: ['limits'],
        flood: { bytes: 4 * 1024 * 1024, pings: 500 },
      });
      expect(only(report)).toMatchObject({
        status: 'passed',
        runs: 4,
        note: 'floods only: no --max-message-size given',
      });
      expect(formatServerReport(report)).toContain('passed 4/4 (floods only: no --max-message-size given)');
    } finally {
      await server.close();
    }
  });

  it('ws passes everything but the ping flood', async () => {
    const server = await wsServer();
    try {
      const report = await runServerSuite({
        url: server.url,
        runs: RUNS,
        maxMessageSize: LIMIT,
        families: ['limits'],
        skip: ['limits/ping-flood'],
      });
      expect(only(report).status, formatServerReport(report)).toBe('passed');
    } finally {
      await server.close();
    }
  });

  it('deviation: ws terminates a ping flood without a close frame (maxPendingAutoPongs, default 60)', async () => {
    const server = await wsServer();
    try {
      const report = await runServerSuite({
        url: server.url,
        runs: 3,
        seed: 1,
        maxMessageSize: LIMIT,
        families: ['limits'],
        skip: [
          'limits/message-at',
          'limits/message-over',
          'limits/many-fragments',
          'limits/many-fragments-over',
          'limits/over-declared',
          'limits/slow-reader',
        ],
      });
      const limits = only(report);
      expect(limits.status).toBe('failed');
      expect(limits.failure?.variant).toBe('limits/ping-flood');
      // The shrunk flood: 100 pings in one write; ws answers the first 60, then destroys the socket.
      expect(limits.failure?.description).toBe('100 pings of 0–125 bytes at once, then a text message and a close');
      expect(limits.failure?.reason).toBe(
        'closed TCP without a close frame (60 replies received): on the wire that is a crash',
      );
    } finally {
      await server.close();
    }
    // The same ws with the limit off answers every flood.
    const unlimited = await wsServer({ maxPendingAutoPongs: 0 } as WsOptions);
    try {
      const report = await runServerSuite({
        url: unlimited.url,
        runs: 5,
        seed: 1,
        maxMessageSize: LIMIT,
        families: ['limits'],
        skip: [
          'limits/message-at',
          'limits/message-over',
          'limits/many-fragments',
          'limits/many-fragments-over',
          'limits/over-declared',
          'limits/slow-reader',
        ],
      });
      expect(only(report).status, formatServerReport(report)).toBe('passed');
    } finally {
      await unlimited.close();
    }
  });
});

/** Runs every case of a fuzzing server with `client` and returns the verdicts. */
async function fuzz(options: FuzzingServerOptions, client: EchoClient | 'echo-client'): Promise<CaseVerdict[]> {
  const collected = verdicts();
  const server = new FuzzingServer({ port: 0, families: ['limits'], ...options, onVerdict: collected.onVerdict });
  const { port } = await server.listen();
  try {
    const cases = Array.from({ length: server.caseCount }, (_, i) => i + 1);
    if (client === 'echo-client') {
      for (const n of cases) await runEchoClient(port, 'agent', ['--cases', String(n)]);
    } else await runCases(client, port, 'agent', cases);
    return await collected.settled('agent', cases.length);
  } finally {
    await server.close();
  }
}

const floods = ['limits/ping-flood', 'limits/slow-reader'];
const atTheLimit = ['limits/message-at', 'limits/many-fragments'];

describe('fuzzing server, limits family', () => {
  it("this project's client passes at a 70 000-byte limit: 1009 over it, the message at it echoed, floods answered", async () => {
    const results = await fuzz(
      { seed: 1, cases: RUNS, maxMessageSize: LIMIT },
      browserClient({ maxMessageSize: LIMIT }),
    );
    for (const r of results) {
      expect(
        r.verdict.status,
        `${r.case} ${r.description}: ${r.verdict.status === 'fail' ? r.verdict.reason : ''}`,
      ).toBe('pass');
      if (r.verdict.status === 'pass' && r.verdict.note !== undefined) expect(r.variant).toBe('limits/slow-reader');
    }
    expect(new Set(results.map((r) => r.variant))).toEqual(
      new Set([...floods, ...atTheLimit, 'limits/message-over', 'limits/many-fragments-over', 'limits/over-declared']),
    );
  });

  it('the built echo client passes at its own limit (64 MiB): over-limit messages and headers are failed with 1009', async () => {
    const results = await fuzz(
      { seed: 2, cases: 3, maxMessageSize: 64 * 1024 * 1024, skip: [...floods, ...atTheLimit] },
      'echo-client',
    );
    for (const r of results) expect(r.verdict, `${r.case} ${r.description}`).toEqual({ status: 'pass' });
  });

  it('the built echo client answers floods at full size', async () => {
    const results = await fuzz({ seed: 3, cases: 4 }, 'echo-client');
    for (const r of results) {
      expect(floods).toContain(r.variant);
      expect(
        r.verdict.status,
        `${r.case} ${r.description}: ${r.verdict.status === 'fail' ? r.verdict.reason : ''}`,
      ).toBe('pass');
    }
  });

  it('ws passes everything but the ping flood', async () => {
    const results = await fuzz(
      { seed: 4, cases: RUNS, maxMessageSize: LIMIT, skip: ['limits/ping-flood'] },
      wsClient({ maxPayload: LIMIT }),
    );
    for (const r of results)
      expect(
        r.verdict.status,
        `${r.case} ${r.description}: ${r.verdict.status === 'fail' ? r.verdict.reason : ''}`,
      ).toBe('pass');
  });

  it('deviation: the ws client terminates a ping flood without a close frame too (maxPendingAutoPongs, default 60)', async () => {
    const only = {
      seed: 5,
      cases: 3,
      maxMessageSize: LIMIT,
      skip: [
        ...atTheLimit,
        'limits/message-over',
        'limits/many-fragments-over',
        'limits/over-declared',
        'limits/slow-reader',
      ],
    };
    for (const r of await fuzz(only, wsClient({ maxPayload: LIMIT }))) {
      expect(r.variant).toBe('limits/ping-flood');
      expect(r.verdict.status).toBe('fail');
      // Pings arrive in several reads, and ws counts pongs not yet written: how many got out before it gave up varies.
      expect(r.verdict.status === 'fail' && r.verdict.reason).toMatch(
        /^closed TCP without a close frame \(\d+ replies received\): on the wire that is a crash$/,
      );
    }
    for (const r of await fuzz(only, wsClient({ maxPayload: LIMIT, maxPendingAutoPongs: 0 } as WsClientOptions)))
      expect(r.verdict).toEqual({ status: 'pass' });
  });
});
