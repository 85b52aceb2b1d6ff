// The shared scenarios on Node against a real `ws` server, one test each.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as lib from '../src/node.js';
import { scenarioNames, scenarios } from './fixtures/scenarios.mjs';
import { startProjectServer } from './fixtures/project-server.js';
import { startTestServer, type TestServer } from './fixtures/server.js';

let server: TestServer;
let projectServer: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  projectServer = await startProjectServer();
});
afterAll(() => Promise.all([server.close(), projectServer.close()]));

describe("Node client against this project's node-server", () => {
  for (const name of scenarioNames) {
    test(name, async () => {
      await scenarios[name as keyof typeof scenarios]!(lib, projectServer.url, {});
    });
  }
});

describe('Node client against ws', () => {
  for (const name of scenarioNames) {
    test(name, async () => {
      await scenarios[name as keyof typeof scenarios]!(lib, server.url, {});
    });
  }

  test('handshake timeout', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const ws = new lib.WebSocket(`ws://127.0.0.1:${port}/`, undefined, { handshakeTimeout: 200 });
    const closed = await new Promise<{ code: number; error: unknown }>((resolve) => {
      let error: unknown;
      ws.onerror = (ev) => {
        error = (ev as lib.WebSocketErrorEvent).error;
      };
      ws.onclose = (ev) => resolve({ code: (ev as lib.WebSocketCloseEvent).code, error });
    });
    expect(closed.code).toBe(1006);
    expect((closed.error as lib.HandshakeError).code).toBe('timeout');
    silent.close();
  });

  test('connection refused reaches onerror/onclose', async () => {
    const ws = new lib.WebSocket('ws://127.0.0.1:1/');
    const error = await new Promise<unknown>((resolve) => {
      ws.onerror = (ev) => resolve((ev as lib.WebSocketErrorEvent).error);
    });
    expect((error as lib.HandshakeError).code).toBe('transport');
  });
});
