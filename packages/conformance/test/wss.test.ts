/**
 * The server suite against wss:// URLs: this project's node-server behind
 * TLS, over HTTP/1.1 (its own TLS listener, agreeing ALPN http/1.1) and over
 * HTTP/2 (`http2.createSecureServer` with extended CONNECT). Every family
 * must pass as it does in plaintext, every connection must really be TLS
 * with the ALPN and SNI the suite promises, and each way TLS can refuse us
 * must fail the cases with a reason that names it.
 */
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { UsageError } from '@rfc6455/codec';
import { WebSocketServer } from '@rfc6455/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Family, formatServerReport, parseTarget, runServerSuite } from '../src/index.js';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';

const LIMIT = 70_000;
const RUNS = Number(process.env.CONFORMANCE_RUNS ?? 25);
const certificate = selfSignedCertificate();

/** The limits family's variants but those that send a message of exactly the limit, which must be echoed. */
const NOT_AT_LIMIT = [
  'limits/message-over',
  'limits/many-fragments-over',
  'limits/over-declared',
  'limits/ping-flood',
  'limits/slow-reader',
];

/** What the server side of each TLS connection saw: the client's SNI and ALPN offer, or the protocol chosen. */
interface Seen {
  readonly servername: string | false;
  readonly alpn: string | false | readonly string[];
}

interface Started {
  readonly port: number;
  readonly seen: Seen[];
  close(): Promise<void>;
}

/**
 * node-server's own TLS listener, echoing. Its ALPN callback records what
 * each client offered (and its SNI) and agrees http/1.1 only, refusing
 * anything else with a no_application_protocol alert as Node does.
 */
async function startHttps(): Promise<Started> {
  const seen: Seen[] = [];
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    ...certificate,
    tls: {
      ALPNCallback: ({ servername, protocols }) => {
        seen.push({ servername: servername ?? false, alpn: protocols });
        return protocols.includes('http/1.1') ? 'http/1.1' : undefined;
      },
    },
    maxMessageSize: LIMIT,
    perMessageDeflate: true,
  });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  return {
    port: (wss.address() as AddressInfo).port,
    seen,
    close: () => wss.close({ timeout: 1000 }),
  };
}

/** node-server on an HTTP/2 TLS server with extended CONNECT (h2 only: no HTTP/1.1 fallback), echoing. */
async function startHttp2(): Promise<Started & { streams: () => number }> {
  const server = http2.createSecureServer({ ...certificate, settings: { enableConnectProtocol: true } });
  const seen: Seen[] = [];
  server.on('secureConnection', (socket: tls.TLSSocket) =>
    seen.push({ servername: false, alpn: socket.alpnProtocol ?? false }),
  );
  let streams = 0;
  server.on('stream', () => streams++);
  const wss = new WebSocketServer({ server, maxMessageSize: LIMIT, perMessageDeflate: true, heartbeatInterval: 0 });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    streams: () => streams,
    close: async () => {
      await wss.close({ timeout: 1000 });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const cases = (report: { families: readonly { runs: number }[] }) => report.families.reduce((n, f) => n + f.runs, 0);

describe('over HTTP/1.1', () => {
  let server: Started;
  beforeAll(async () => {
    server = await startHttps();
  });
  afterAll(() => server.close());

  it('passes every family, strict, with the CA given; every connection offers ALPN http/1.1 alone, no SNI for an IP', async () => {
    const report = await runServerSuite({
      url: `wss://127.0.0.1:${server.port}`,
      ca: certificate.cert,
      runs: RUNS,
      maxMessageSize: LIMIT,
      deflate: true,
      strict: true,
    });
    const text = formatServerReport(report);
    expect(report.ok, text).toBe(true);
    for (const f of report.families) expect(f.status, text).toBe('passed');
    expect(report.insecure).toBe(false);
    expect(text).not.toContain('NOT verified');
    // A TLS connection for every case, each offering ALPN http/1.1 and, for an IP literal, no SNI (RFC 6066 §3).
    expect(server.seen.length).toBeGreaterThanOrEqual(cases(report));
    expect(new Set(server.seen.map((s) => `${String(s.alpn)} ${s.servername}`))).toEqual(new Set(['http/1.1 false']));
  });

  it('sends the host name as SNI', async () => {
    const before = server.seen.length;
    const report = await runServerSuite({
      url: `wss://localhost:${server.port}/`,
      ca: certificate.cert,
      runs: 3,
      families: ['framing'],
      maxMessageSize: LIMIT,
    });
    expect(report.ok, formatServerReport(report)).toBe(true);
    expect(server.seen.slice(before).map((s) => s.servername)).toEqual(['localhost', 'localhost', 'localhost']);
  });

  it('fails every kind of case with the verification reason when no CA is given', async () => {
    const families: Family[] = ['handshake', 'framing', 'limits'];
    const report = await runServerSuite({
      url: `wss://127.0.0.1:${server.port}`,
      runs: 2,
      families,
      timeLimit: 10_000,
    });
    const text = formatServerReport(report);
    expect(report.ok).toBe(false);
    // handshake-cases.ts, session.ts and raw-client.ts (limits without a size: floods only) each dialled.
    for (const f of report.families) {
      expect(f.status, text).toBe('failed');
      expect(f.failure?.reason, text).toMatch(
        /the server's certificate did not verify: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\); trust its CA with --ca FILE, or skip verification with --insecure/,
      );
    }
  });

  it('connects with insecure and says so in the report and the replay line', async () => {
    const report = await runServerSuite({
      url: `wss://127.0.0.1:${server.port}`,
      insecure: true,
      runs: 5,
      families: ['framing', 'close'],
      maxMessageSize: LIMIT,
    });
    const text = formatServerReport(report);
    expect(report.ok, text).toBe(true);
    expect(report.insecure).toBe(true);
    expect(text.split('\n')[0]).toMatch(
      /^conformance of wss:\/\/127\.0\.0\.1:\d+ \(seed \d+, TLS certificate NOT verified: --insecure\)$/,
    );
    // A failure found without verification replays without it: told a limit above the server's, every
    // message at that limit fails (the variants that would pass are skipped).
    const failed = await runServerSuite({
      url: `wss://127.0.0.1:${server.port}`,
      insecure: true,
      runs: 3,
      families: ['limits'],
      maxMessageSize: LIMIT + 10_000,
      skip: NOT_AT_LIMIT,
    });
    expect(failed.families[0]?.failure?.reproduce).toMatch(/ --insecure( |$)/);
  });

  it('fails --http2 cases with the ALPN reason: the server refuses h2', async () => {
    const report = await runServerSuite({
      url: `wss://127.0.0.1:${server.port}`,
      ca: certificate.cert,
      http2: true,
      runs: 2,
      families: ['framing', 'limits'],
      timeLimit: 10_000,
    });
    expect(report.ok).toBe(false);
    for (const f of report.families)
      expect(f.failure?.reason).toMatch(
        /the server refused ALPN h2 \(a no_application_protocol alert\), which HTTP\/2 over TLS needs/,
      );
  });
});

describe('over HTTP/2', () => {
  let server: Started & { streams: () => number };
  beforeAll(async () => {
    server = await startHttp2();
  });
  afterAll(() => server.close());

  it('passes every frame family with the CA given, each case on a stream of a session that chose h2 by ALPN', async () => {
    const report = await runServerSuite({
      url: `wss://127.0.0.1:${server.port}`,
      ca: certificate.cert,
      http2: true,
      runs: RUNS,
      maxMessageSize: LIMIT,
      deflate: true,
    });
    const text = formatServerReport(report);
    expect(report.ok, text).toBe(true);
    for (const f of report.families)
      expect(f.status, text).toBe(f.family === 'handshake' ? 'not applicable' : 'passed');
    expect(server.streams()).toBeGreaterThanOrEqual(cases(report));
    expect(server.seen.length).toBeGreaterThanOrEqual(cases(report));
    expect(new Set(server.seen.map((s) => String(s.alpn)))).toEqual(new Set(['h2']));
  });

  it('fails without the CA, naming verification, before any stream is opened', async () => {
    const streams = server.streams();
    const report = await runServerSuite({
      url: `wss://127.0.0.1:${server.port}`,
      http2: true,
      runs: 2,
      families: ['framing'],
    });
    expect(report.ok).toBe(false);
    expect(report.families[0]?.failure?.reason).toMatch(/certificate did not verify: self-signed certificate/);
    expect(server.streams()).toBe(streams);
  });
});

it('fails --http2 cases against a TLS server that selects no ALPN protocol', async () => {
  // A bare TLS server: no ALPN configured, so it agrees none and the client is left to decide.
  const server = tls.createServer(certificate, (socket) => socket.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const report = await runServerSuite({
      url: `wss://127.0.0.1:${(server.address() as AddressInfo).port}`,
      ca: certificate.cert,
      http2: true,
      runs: 2,
      families: ['ping-pong'],
    });
    expect(report.ok).toBe(false);
    expect(report.families[0]?.failure?.reason).toMatch(
      /the server selected no ALPN protocol instead of h2, which HTTP\/2 over TLS needs \(RFC 9113 §3\.2\)/,
    );
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

it("strict mode's 'TCP closed after the close frame' means the TLS connection: kept open after the closing handshake, it fails", async () => {
  // node-server on an https server, each upgraded socket's end() made a no-op: its closing handshake
  // completes but TLS stays open until node-server's close timer destroys the socket.
  const server = https.createServer(certificate);
  server.on('upgrade', (_request, socket: Duplex) => {
    socket.end = () => socket;
  });
  const wss = new WebSocketServer({ server, maxMessageSize: 1000, closeTimeout: 1000, heartbeatInterval: 0 });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    // Only cases that end in a closing handshake, where strict checks TCP: messages of exactly the limit.
    const options = {
      url,
      ca: certificate.cert,
      runs: 3,
      families: ['limits'] as Family[],
      maxMessageSize: 1000,
      skip: NOT_AT_LIMIT,
      timing: { tcpCloseTimeout: 300 },
    };
    const lenient = await runServerSuite(options);
    expect(lenient.ok, formatServerReport(lenient)).toBe(true);
    const strict = await runServerSuite({ ...options, strict: true, seed: lenient.seed });
    expect(strict.ok).toBe(false);
    expect(strict.families[0]?.failure?.reason).toBe('strict: TCP not closed after the closing handshake');
  } finally {
    await wss.close({ timeout: 1000 });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('parseTarget', () => {
  it('reads wss:// as TLS on port 443 by default, ws:// as TCP on 80', () => {
    expect(parseTarget('wss://example.com/chat?x=1')).toEqual({
      host: 'example.com',
      port: 443,
      path: '/chat?x=1',
      secure: true,
    });
    expect(parseTarget('ws://[::1]/')).toEqual({ host: '::1', port: 80, path: '/' });
    expect(parseTarget('wss://[::1]:8443', { http2: true, insecure: true })).toEqual({
      host: '::1',
      port: 8443,
      path: '/',
      http2: true,
      secure: true,
      insecure: true,
    });
  });

  it('throws a UsageError for another scheme, TLS options on ws://, or a ca without a certificate', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof UsageError ? e.code : `not a UsageError: ${String(e)}`;
      }
      return 'no error';
    };
    expect(code(() => parseTarget('https://example.com'))).toBe('ERR_INVALID_URL');
    expect(code(() => parseTarget('ws://example.com', { insecure: true }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => parseTarget('ws://example.com', { ca: certificate.cert }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => parseTarget('wss://example.com', { ca: 'not a certificate' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => parseTarget('wss://example.com', { ca: certificate.key }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => parseTarget('wss://example.com', { ca: certificate.cert }))).toBe('no error');
  });
});
