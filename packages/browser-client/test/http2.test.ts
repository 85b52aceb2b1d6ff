/**
 * The Node client over HTTP/2 (RFC 8441) against plain `node:http2` servers
 * written in the test: an echo that enables extended CONNECT, servers that
 * reset the stream, refuse with 403, or never enable the setting, and an
 * HTTP/1.1-only server. Failures must look as a browser reports them: an
 * error event, then close 1006 with wasClean false — never a hang.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';
import {
  HandshakeError,
  Http2SessionPool,
  nodeTransport,
  WebSocket,
  type WebSocketCloseEvent,
  type WebSocketErrorEvent,
  WebSocketStream,
} from '../src/node.js';
import { type H2TestServer, startH2Server, startHttp1Server } from './fixtures/h2-server.js';

interface Outcome {
  readonly opened: boolean;
  readonly messages: unknown[];
  readonly error: unknown;
  readonly errorBeforeClose: boolean;
  readonly code: number;
  readonly wasClean: boolean;
}

/** Runs a WebSocket to its close event, sending `send` once open and closing after `expect` echoes. */
function run(ws: WebSocket, send: (string | Uint8Array)[] = [], close = true): Promise<Outcome> {
  ws.binaryType = 'arraybuffer';
  return new Promise((resolve) => {
    let opened = false;
    let error: unknown;
    let errored = false;
    const messages: unknown[] = [];
    ws.onopen = () => {
      opened = true;
      for (const m of send) ws.send(m);
      if (close && send.length === 0) ws.close(1000, 'done');
    };
    ws.onmessage = (ev) => {
      messages.push(ev.data instanceof ArrayBuffer ? Array.from(new Uint8Array(ev.data)) : ev.data);
      if (close && messages.length === send.length) ws.close(1000, 'done');
    };
    ws.onerror = (ev) => {
      errored = true;
      error = (ev as WebSocketErrorEvent).error;
    };
    ws.onclose = (ev) => {
      const c = ev as WebSocketCloseEvent;
      resolve({ opened, messages, error, errorBeforeClose: errored, code: c.code, wasClean: c.wasClean });
    };
  });
}

describe('h2c echo server that enables extended CONNECT', () => {
  let server: H2TestServer;
  beforeAll(async () => {
    server = await startH2Server();
  });
  afterAll(() => server.close());

  test('a WebSocket opens on an HTTP/2 stream, echoes, and closes cleanly', async () => {
    const pool = new Http2SessionPool();
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/echo`, ['chat'], {
      transport: nodeTransport({ http2: 'require', http2Pool: pool }),
    });
    const seen = { version: '', stream: null as number | null };
    ws.addEventListener('open', () => {
      seen.version = ws.httpVersion;
      seen.stream = ws.streamId;
    });
    const out = await run(ws, ['hello', new Uint8Array([1, 2, 3])]);
    expect(out).toMatchObject({ opened: true, messages: ['hello', [1, 2, 3]], code: 1000, wasClean: true });
    expect(seen.version).toBe('2');
    // Client-initiated HTTP/2 streams have odd identifiers (RFC 9113 §5.1.1).
    expect(seen.stream !== null && seen.stream % 2 === 1).toBe(true);
    expect(ws.protocol).toBe('chat');
    // permessage-deflate is offered by default and the codec's server agrees it.
    expect(ws.extensions).toContain('permessage-deflate');
    pool.close();
  });

  test('WebSocketStream opens on an HTTP/2 stream and says so', async () => {
    const pool = new Http2SessionPool();
    const wss = new WebSocketStream(`ws://127.0.0.1:${server.port}/stream`, {
      transport: nodeTransport({ http2: 'require', http2Pool: pool }),
    });
    const { readable, writable, httpVersion } = await wss.opened;
    expect(httpVersion).toBe('2');
    const writer = writable.getWriter();
    await writer.write('streamed');
    const reader = readable.getReader();
    expect((await reader.read()).value).toBe('streamed');
    wss.close({ closeCode: 1000 });
    expect(await wss.closed).toMatchObject({ closeCode: 1000 });
    pool.close();
  });

  test('several WebSockets share one HTTP/2 session', async () => {
    const pool = new Http2SessionPool();
    const before = { sessions: server.sessions, streams: server.streams };
    const transport = nodeTransport({ http2: 'require', http2Pool: pool });
    const sockets = Array.from(
      { length: 4 },
      (_, i) => new WebSocket(`ws://127.0.0.1:${server.port}/${i}`, [], { transport }),
    );
    const outcomes = await Promise.all(sockets.map((ws, i) => run(ws, [`m${i}`])));
    for (const [i, out] of outcomes.entries()) expect(out).toMatchObject({ messages: [`m${i}`], wasClean: true });
    expect(server.sessions - before.sessions).toBe(1);
    expect(server.streams - before.streams).toBe(4);
    expect(new Set(sockets.map((ws) => ws.streamId)).size).toBe(4);
    // A later WebSocket reuses the idle session rather than dialing again.
    await run(new WebSocket(`ws://127.0.0.1:${server.port}/later`, [], { transport }), ['again']);
    expect(server.sessions - before.sessions).toBe(1);
    pool.close();
  });

  test('an idle session is closed after idleTimeout, and the next WebSocket opens a new one', async () => {
    const pool = new Http2SessionPool({ idleTimeout: 1 });
    const transport = nodeTransport({ http2: 'require', http2Pool: pool });
    const before = server.sessions;
    await run(new WebSocket(`ws://127.0.0.1:${server.port}/`, [], { transport }), ['x']);
    await waitFor(() => pool.size === 0);
    await run(new WebSocket(`ws://127.0.0.1:${server.port}/`, [], { transport }), ['y']);
    expect(server.sessions - before).toBe(2);
    pool.close();
  });
});

describe('session lifecycle', () => {
  test('after GOAWAY on an idle session the pool forgets it and the next WebSocket opens a new one', async () => {
    const server = await startH2Server();
    const pool = new Http2SessionPool();
    const transport = nodeTransport({ http2: 'require', http2Pool: pool });
    try {
      await run(new WebSocket(`ws://127.0.0.1:${server.port}/`, [], { transport }), ['before']);
      expect(server.sessions).toBe(1);
      server.goaway();
      await waitFor(() => pool.size === 0);
      const out = await run(new WebSocket(`ws://127.0.0.1:${server.port}/`, [], { transport }), ['after']);
      expect(out).toMatchObject({ messages: ['after'], wasClean: true });
      expect(server.sessions).toBe(2);
    } finally {
      pool.close();
      await server.close();
    }
  });

  test('a stream the server never answers ends at handshakeTimeout: error (timeout), close 1006', async () => {
    const server = await startH2Server({ behaviour: 'silent' });
    const pool = new Http2SessionPool();
    try {
      const out = await run(
        new WebSocket(`ws://127.0.0.1:${server.port}/`, [], {
          transport: nodeTransport({ http2: 'require', http2Pool: pool }),
          handshakeTimeout: 300,
        }),
      );
      expect(out).toMatchObject({ opened: false, errorBeforeClose: true, code: 1006, wasClean: false });
      expect((out.error as HandshakeError).code).toBe('timeout');
      // The abandoned stream was reset with CANCEL (RFC 8441 §5: RST_STREAM plays TCP's RST).
      await waitFor(() => server.resets.length === 1);
      expect(server.resets).toEqual([8]);
    } finally {
      pool.close();
      await server.close();
    }
  });
});

/** Polls a condition on the event loop (for state the pool changes on a timer of its own). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('refusals over HTTP/2 end as a browser reports them', () => {
  const servers: H2TestServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  test('RST_STREAM instead of a response: error, then close 1006', async () => {
    const server = await startH2Server({ behaviour: 'reset' });
    servers.push(server);
    const pool = new Http2SessionPool();
    const out = await run(
      new WebSocket(`ws://127.0.0.1:${server.port}/`, [], {
        transport: nodeTransport({ http2: 'require', http2Pool: pool }),
      }),
    );
    expect(out).toMatchObject({ opened: false, errorBeforeClose: true, code: 1006, wasClean: false });
    expect(out.error).toBeInstanceOf(HandshakeError);
    expect((out.error as HandshakeError).code).toBe('transport');
    expect(String((out.error as Error).message)).toMatch(/RST_STREAM REFUSED_STREAM/);
    pool.close();
  });

  test(':status 403: error (rejected, with the body), then close 1006', async () => {
    const server = await startH2Server({ behaviour: 'forbidden' });
    servers.push(server);
    const pool = new Http2SessionPool();
    const out = await run(
      new WebSocket(`ws://127.0.0.1:${server.port}/`, [], {
        transport: nodeTransport({ http2: 'require', http2Pool: pool }),
      }),
    );
    expect(out).toMatchObject({ opened: false, errorBeforeClose: true, code: 1006, wasClean: false });
    const error = out.error as HandshakeError;
    expect(error.code).toBe('rejected');
    expect(error.status).toBe(403);
    expect(new TextDecoder().decode(error.body)).toBe('not here');
    pool.close();
  });

  test('the session failing after the open: error, then close 1006', async () => {
    const server = await startH2Server({ behaviour: 'goaway-after-open' });
    servers.push(server);
    const pool = new Http2SessionPool();
    const out = await run(
      new WebSocket(`ws://127.0.0.1:${server.port}/`, [], {
        transport: nodeTransport({ http2: 'require', http2Pool: pool }),
      }),
      [],
      false,
    );
    expect(out).toMatchObject({ errorBeforeClose: true, code: 1006, wasClean: false });
    pool.close();
  });
});

describe('servers without RFC 8441', () => {
  let tlsServer: H2TestServer;
  let http1: H2TestServer;
  let cert: string;
  beforeAll(async () => {
    const pair = selfSignedCertificate();
    cert = pair.cert;
    tlsServer = await startH2Server({ enableConnectProtocol: false, tls: pair });
    http1 = await startHttp1Server();
  });
  afterAll(() => Promise.all([tlsServer.close(), http1.close()]));

  test('TLS, h2 without SETTINGS_ENABLE_CONNECT_PROTOCOL: prefer falls back to HTTP/1.1', async () => {
    const pool = new Http2SessionPool();
    const ws = new WebSocket(`wss://127.0.0.1:${tlsServer.port}/`, [], {
      transport: nodeTransport({ http2: 'prefer', http2Pool: pool, tls: { ca: cert } }),
    });
    let version = '';
    ws.addEventListener('open', () => {
      version = ws.httpVersion;
    });
    const upgrades = tlsServer.upgrades;
    const out = await run(ws, ['over 1.1']);
    expect(out).toMatchObject({ messages: ['over 1.1'], wasClean: true });
    expect(version).toBe('1.1');
    expect(ws.streamId).toBe(null);
    expect(tlsServer.upgrades - upgrades).toBe(1);
    pool.close();
  });

  test('TLS, h2 without the setting: require fails clearly instead', async () => {
    const pool = new Http2SessionPool();
    const out = await run(
      new WebSocket(`wss://127.0.0.1:${tlsServer.port}/`, [], {
        transport: nodeTransport({ http2: 'require', http2Pool: pool, tls: { ca: cert } }),
      }),
    );
    expect(out).toMatchObject({ opened: false, errorBeforeClose: true, code: 1006, wasClean: false });
    expect((out.error as HandshakeError).code).toBe('transport');
    expect((out.error as Error).message).toMatch(/SETTINGS_ENABLE_CONNECT_PROTOCOL/);
    pool.close();
  });

  test('h2c at an HTTP/1.1-only server: prefer falls back, require fails', async () => {
    const pool = new Http2SessionPool();
    const url = `ws://127.0.0.1:${http1.port}/`;
    const preferred = await run(
      new WebSocket(url, [], { transport: nodeTransport({ http2: 'prefer', http2Pool: pool }) }),
      ['plain'],
    );
    expect(preferred).toMatchObject({ messages: ['plain'], wasClean: true });
    const required = await run(
      new WebSocket(url, [], { transport: nodeTransport({ http2: 'require', http2Pool: pool }) }),
    );
    expect(required).toMatchObject({ opened: false, errorBeforeClose: true, code: 1006, wasClean: false });
    pool.close();
  });

  test('the Node WebSocket takes http2 directly (the process-wide pool)', async () => {
    const out = await run(new WebSocket(`ws://127.0.0.1:${http1.port}/`, [], { http2: 'prefer' }), ['direct']);
    expect(out).toMatchObject({ messages: ['direct'], wasClean: true });
  });
});
