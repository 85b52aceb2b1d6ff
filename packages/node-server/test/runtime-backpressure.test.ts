/**
 * Writes on the Bun and Deno listeners (the real binaries) under
 * backpressure: small frames are joined into one write and large ones go
 * out in pieces, and a write the kernel takes only in part leaves its rest
 * for the next. Whatever the mix of sizes, every echo must arrive whole and
 * in order, over TCP and over TLS (where the runtime's TLS layer takes the
 * partial writes).
 */
import { once } from 'node:events';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { missingPeers } from '../../../scripts/test-peers.js';
import { BUN, DENO, type Runtime, type RuntimeServer, startRuntimeServer } from './runtime-server.js';
import { selfSignedCertificate } from '../../../scripts/test-certificate.js';

const missing = missingPeers({ deno: DENO, bun: BUN });

/** Enough bytes to fill the kernel's buffers on both sides of a loopback connection. */
const VOLUME = 12 * 1024 * 1024;

/** Message `i` of `size` bytes: its bytes tell which message it is and where in it they sit. */
function message(i: number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) bytes[j] = (i * 37 + j * 11 + (j >> 8)) & 0xff;
  return bytes;
}

// Sizes around the frame-header limits (125, 65 535) and the 32 KiB the listeners join writes up to.
const size = fc.oneof(
  fc.integer({ min: 0, max: 130 }),
  fc.integer({ min: 32 * 1024 - 20, max: 32 * 1024 + 20 }),
  fc.integer({ min: 65_530, max: 70_000 }),
  fc.integer({ min: 0, max: 70_000 }),
);

/**
 * Sends messages of `sizes` (in turn, starting at `first`) until half of
 * VOLUME, reading nothing for a moment; resolves with what came back wrong.
 */
async function echoAll(
  url: string,
  ca: string | undefined,
  sizes: readonly number[],
  first: number,
): Promise<string[]> {
  const client = new WebSocketClient(url, { perMessageDeflate: false, ...(ca !== undefined && { ca }) });
  await once(client, 'open');
  const sent: Buffer[] = [];
  for (let total = 0, i = 0; total < VOLUME / 2 && i < 5000; i++) {
    const bytes = message(i, sizes[(first + i) % sizes.length] as number);
    sent.push(bytes);
    total += bytes.length + 1;
  }
  const received: Buffer[] = [];
  const closed = once(client, 'close');
  // Every echo, or the close that cuts them short (corrupt frames make the client close).
  const all = Promise.race([
    closed,
    new Promise<void>((resolve) => {
      client.on('message', (data: Buffer) => {
        received.push(data);
        if (received.length === sent.length) resolve();
      });
    }),
  ]);
  // Not reading for a moment fills the kernel's buffers, so the server's writes fall short.
  client.pause();
  for (const bytes of sent) client.send(bytes, { binary: true });
  setTimeout(() => client.resume(), 100);
  await all;
  client.close();
  await closed;
  return sent.flatMap((bytes, i) =>
    received[i]?.equals(bytes) ? [] : [`message ${i}: sent ${bytes.length} bytes, got ${received[i]?.length}`],
  );
}

const tls = selfSignedCertificate();

describe.skipIf(missing !== null).each([
  ['deno', 'ws'],
  ['bun', 'ws'],
  ['deno', 'wss'],
  ['bun', 'wss'],
] as const)('the %s listener (%s://)', (runtime: Runtime, scheme) => {
  let server: RuntimeServer;
  const ca = scheme === 'wss' ? tls.cert : undefined;
  beforeAll(async () => {
    server = await startRuntimeServer(runtime, scheme === 'wss' ? tls : {});
  });
  afterAll(() => server?.stop());

  it('echoes every message whole and in order while the clients hold back reading', async () => {
    const url = `${scheme}://127.0.0.1:${server.port}/`;
    await fc.assert(
      // Two connections at once: what one leaves unwritten must not be touched by the other's writes.
      fc.asyncProperty(fc.array(size, { minLength: 1, maxLength: 30 }), fc.nat(29), async (sizes, shift) => {
        const results = await Promise.all([echoAll(url, ca, sizes, 0), echoAll(url, ca, sizes, shift + 1)]);
        expect(results).toEqual([[], []]);
      }),
      { numRuns: 6, endOnFailure: true },
    );
  });
});
