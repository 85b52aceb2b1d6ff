/**
 * wss:// on the Bun and Deno listeners (`cert` and `key` as PEM), run by the
 * real binaries, with `ws` as the client: the TLS handshake, the upgrade,
 * permessage-deflate, an echo and a clean close.
 */
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { missingPeers } from '../../../scripts/test-peers.js';
import { BUN, DENO, type Runtime, type RuntimeServer, startRuntimeServer } from './runtime-server.js';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';

const missing = missingPeers({ deno: DENO, bun: BUN });
const started: RuntimeServer[] = [];
afterAll(() => Promise.all(started.map((s) => s.stop())));

describe.skipIf(missing !== null).each(['deno', 'bun'] as const)('the %s listener over TLS', (runtime: Runtime) => {
  it('serves wss:// with cert and key', async () => {
    const { key, cert } = selfSignedCertificate();
    const server = await startRuntimeServer(runtime, { cert, key });
    started.push(server);
    const c = new WebSocketClient(`wss://127.0.0.1:${server.port}/`, { ca: cert });
    await once(c, 'open');
    expect(c.extensions).toBe('permessage-deflate');
    const text = 'over tls ✓ '.repeat(200); // over the 1 KiB threshold: compressed both ways
    c.send(text);
    const [data, isBinary] = (await once(c, 'message')) as [Buffer, boolean];
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe(text);
    const closed = once(c, 'close');
    c.close(4000, 'bye');
    expect((await closed) as [number, Buffer]).toEqual([4000, Buffer.from('bye')]);
  });
});
