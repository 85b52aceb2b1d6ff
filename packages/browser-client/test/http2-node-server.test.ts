/**
 * The Node client over HTTP/2 against this project's node-server on a real
 * `node:http2` TLS server (h2 and HTTP/1.1 upgrades on one port): echo with
 * permessage-deflate, sockets sharing one session, both close directions,
 * a refusal from the server's hook, and the fallback to HTTP/1.1 when the
 * server does not enable extended CONNECT.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type Transport as ServerTransport, WebSocketServer } from '@rfc6455/node-server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';
import {
  type HandshakeError,
  Http2SessionPool,
  nodeTransport,
  WebSocket,
  type WebSocketCloseEvent,
  type WebSocketErrorEvent,
} from '../src/node.js';

interface Served {
  readonly url: string;
  readonly transports: ServerTransport[];
  close(): Promise<void>;
}

async function serve(cert: { key: string; cert: string }, enableConnectProtocol: boolean): Promise<Served> {
  const server = http2.createSecureServer({ ...cert, allowHTTP1: true, settings: { enableConnectProtocol } });
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: true,
    heartbeatInterval: 0,
    handleUpgrade: (info) =>
      info.path === '/forbidden'
        ? { accept: false, status: 403, body: 'no entry' }
        : { accept: true, protocol: info.protocols[0] ?? null },
  });
  const transports: ServerTransport[] = [];
  wss.on('connection', (ws, info) => {
    transports.push(info.transport);
    ws.on('message', (data, isBinary) => {
      if (!isBinary && String(data) === 'close please') ws.close(4001, 'as asked');
      else ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `wss://127.0.0.1:${(server.address() as AddressInfo).port}`,
    transports,
    close: async () => {
      await wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Outcome {
  readonly messages: unknown[];
  readonly error: unknown;
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  readonly httpVersion: string;
}

function run(ws: WebSocket, send: (string | Uint8Array)[], closeAfter = send.length): Promise<Outcome> {
  ws.binaryType = 'arraybuffer';
  return new Promise((resolve) => {
    const messages: unknown[] = [];
    let error: unknown;
    let httpVersion = '';
    ws.onopen = () => {
      httpVersion = ws.httpVersion;
      for (const m of send) ws.send(m);
    };
    ws.onmessage = (ev) => {
      messages.push(ev.data instanceof ArrayBuffer ? Array.from(new Uint8Array(ev.data)) : ev.data);
      if (messages.length === closeAfter) ws.close(1000);
    };
    ws.onerror = (ev) => {
      error = (ev as WebSocketErrorEvent).error;
    };
    ws.onclose = (ev) => {
      const c = ev as WebSocketCloseEvent;
      resolve({ messages, error, code: c.code, reason: c.reason, wasClean: c.wasClean, httpVersion });
    };
  });
}

describe("against node-server's HTTP/2 server", () => {
  let cert: { key: string; cert: string };
  let h2: Served;
  let without: Served;
  beforeAll(async () => {
    cert = selfSignedCertificate();
    h2 = await serve(cert, true);
    without = await serve(cert, false);
  });
  afterAll(() => Promise.all([h2.close(), without.close()]));

  test('echoes text and binary over one shared session with permessage-deflate, closing cleanly', async () => {
    const pool = new Http2SessionPool();
    const transport = nodeTransport({ http2: 'require', http2Pool: pool, tls: { ca: cert.cert } });
    const before = h2.transports.length;
    const sockets = Array.from({ length: 3 }, () => new WebSocket(`${h2.url}/echo`, ['chat'], { transport }));
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const outcomes = await Promise.all(sockets.map((ws, i) => run(ws, [`hello ${i}`, big])));
    for (const [i, out] of outcomes.entries()) {
      expect(out).toMatchObject({ httpVersion: '2', code: 1000, wasClean: true, error: undefined });
      expect(out.messages[0]).toBe(`hello ${i}`);
      expect(out.messages[1]).toEqual(Array.from(big));
    }
    for (const ws of sockets) {
      expect(ws.protocol).toBe('chat');
      expect(ws.extensions).toMatch(/^permessage-deflate/);
    }
    const seen = h2.transports.slice(before);
    expect(seen.map((t) => t.type)).toEqual(['http2', 'http2', 'http2']);
    // One HTTP/2 connection on the server's side carried all three.
    expect(new Set(seen.map((t) => (t.type === 'http2' ? t.session : undefined))).size).toBe(1);
    expect(new Set(seen.map((t) => (t.type === 'http2' ? t.streamId : 0)))).toEqual(
      new Set(sockets.map((ws) => ws.streamId)),
    );
    pool.close();
  });

  test("the server's close reaches the client cleanly with its code and reason", async () => {
    const pool = new Http2SessionPool();
    const ws = new WebSocket(`${h2.url}/`, [], {
      transport: nodeTransport({ http2: 'require', http2Pool: pool, tls: { ca: cert.cert } }),
    });
    const out = await run(ws, ['close please'], Number.POSITIVE_INFINITY);
    expect(out).toMatchObject({ httpVersion: '2', code: 4001, reason: 'as asked', wasClean: true });
    pool.close();
  });

  test("a refusal by the server's hook: error (rejected 403 with the body), then close 1006", async () => {
    const pool = new Http2SessionPool();
    const ws = new WebSocket(`${h2.url}/forbidden`, [], {
      transport: nodeTransport({ http2: 'require', http2Pool: pool, tls: { ca: cert.cert } }),
    });
    const out = await run(ws, []);
    expect(out).toMatchObject({ code: 1006, wasClean: false });
    const error = out.error as HandshakeError;
    expect(error.code).toBe('rejected');
    expect(error.status).toBe(403);
    expect(new TextDecoder().decode(error.body)).toBe('no entry');
    pool.close();
  });

  test('without SETTINGS_ENABLE_CONNECT_PROTOCOL: prefer opens over HTTP/1.1 on the same port', async () => {
    const pool = new Http2SessionPool();
    const before = without.transports.length;
    const ws = new WebSocket(`${without.url}/`, [], {
      transport: nodeTransport({ http2: 'prefer', http2Pool: pool, tls: { ca: cert.cert } }),
    });
    const out = await run(ws, ['via 1.1']);
    expect(out).toMatchObject({ httpVersion: '1.1', messages: ['via 1.1'], code: 1000, wasClean: true });
    expect(without.transports.slice(before).map((t) => t.type)).toEqual(['http1']);
    pool.close();
  });
});
