// The shared scenarios (every runtime runs them over HTTP/1.1) with the Node
// client over HTTP/2: node-server on a node:http2 server, every WebSocket an
// extended CONNECT stream of one pooled session ('require': no fallback).
import { afterAll, beforeAll, describe, test } from 'vitest';
import * as lib from '../src/node.js';
import { type H2ProjectServer, startProjectH2Server } from './fixtures/project-h2-server.js';
import { scenarioNames, scenarios } from './fixtures/scenarios.mjs';

let server: H2ProjectServer;
const pool = new lib.Http2SessionPool();
const extra = { transport: lib.nodeTransport({ http2: 'require', http2Pool: pool }) };
beforeAll(async () => {
  server = await startProjectH2Server();
});
afterAll(async () => {
  pool.close();
  await server.close();
});

describe("Node client over HTTP/2 against this project's node-server", () => {
  for (const name of scenarioNames) {
    test(name, async () => {
      await scenarios[name as keyof typeof scenarios]!(lib, server.url, extra);
    });
  }
});
