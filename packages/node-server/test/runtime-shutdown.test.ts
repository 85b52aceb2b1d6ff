/**
 * Graceful shutdown on the Bun and Deno listeners (the real binaries):
 * `close()` stops the listener, sends 1001 to every connection, and
 * resolves once they are closed; new connections are then refused.
 */
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { missingPeers } from '../../../scripts/test-peers.js';
import { BUN, DENO, type Runtime, type RuntimeServer, startRuntimeServer } from './runtime-server.js';

const missing = missingPeers({ deno: DENO, bun: BUN });
const started: RuntimeServer[] = [];
afterAll(() => Promise.all(started.map((s) => s.stop())));

describe.skipIf(missing !== null).each(['deno', 'bun'] as const)('the %s listener', (runtime: Runtime) => {
  it('closes gracefully: 1001 to every connection, then no new ones', async () => {
    const server = await startRuntimeServer(runtime);
    started.push(server);
    const clients = [new WebSocketClient(server.url), new WebSocketClient(server.url)];
    await Promise.all(clients.map((c) => once(c, 'open')));
    for (const c of clients) {
      c.send('still here');
      expect(String(((await once(c, 'message')) as [Buffer])[0])).toBe('still here');
    }
    const closes = clients.map((c) => once(c, 'close'));
    server.tell('close');
    for (const closed of closes) {
      const [code, reason] = (await closed) as [number, Buffer];
      expect(code).toBe(1001);
      expect(reason.toString()).toBe('server shutting down');
    }
    await server.until(1);
    expect(JSON.parse(server.later[0] as string)).toEqual({ closed: true });
    const late = new WebSocketClient(server.url);
    const [error] = (await once(late, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });
});
