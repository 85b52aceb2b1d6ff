// The cap on bytes waiting to be written (`maxBufferedAmount`): it counts the
// bytes that really wait (UTF-8 text, not UTF-16 units).
import { once } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { type ServerOptions, type WebSocket, type WebSocketServer } from '../src/index.js';
import { startServer } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: ServerOptions) {
  const s = await startServer(options);
  cleanups.push(() => s.wss.close({ timeout: 500 }));
  return s;
}

/** Opens a `ws` client and returns it with the server's side of the connection. */
async function pair(wss: WebSocketServer, url: string, options: WebSocketClient.ClientOptions = {}) {
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocketClient(url, options);
  cleanups.push(() => client.terminate());
  const [[ws]] = await Promise.all([accepted, once(client, 'open')]);
  return { ws, client };
}

/** Resolves with the next `n` messages, or rejects if the connection closes first (e.g. with 1008). */
function messages(client: WebSocketClient, n: number): Promise<Array<[Buffer, boolean]>> {
  if (n === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const got: Array<[Buffer, boolean]> = [];
    const onMessage = (data: Buffer, isBinary: boolean) => {
      got.push([data, isBinary]);
      if (got.length < n) return;
      client.off('message', onMessage).off('close', onClose);
      resolve(got);
    };
    const onClose = (code: number, reason: Buffer) => reject(new Error(`closed with ${code} "${reason}" after ${got.length} of ${n} messages`));
    client.on('message', onMessage).on('close', onClose);
  });
}

/** Bytes of an unmasked (server) frame carrying `payload` bytes in one frame (RFC 6455 §5.2). */
function frameLength(payload: number): number {
  return payload + (payload < 126 ? 2 : payload < 65536 ? 4 : 10);
}

describe('maxBufferedAmount counts text in UTF-8 bytes', () => {
  const utf8 = new TextEncoder();
  const multiByte = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀'), minLength: 100, maxLength: 3000 });

  it('refuses a text message exactly when its frame would take the bytes waiting over the cap', async () => {
    await fc.assert(
      fc.asyncProperty(multiByte, fc.integer({ min: 64, max: 256 * 1024 }), async (text, cap) => {
        const { wss, url } = await server({ maxBufferedAmount: cap, onBufferOverflow: 'drop', readPauseThreshold: 2 ** 30 });
        const { ws, client } = await pair(wss, url);
        // The client stops reading: once the kernel's buffers are full, every byte sent waits.
        client.pause();
        const admitted: string[] = [];
        const wrong: string[] = [];
        let refused = 0;
        for (let i = 0; refused < 3 && i < 100_000; i++) {
          const message = `${i} ${text}`;
          const waiting = ws.bufferedAmount;
          const frame = frameLength(utf8.encode(message).length);
          const expected = waiting + frame <= cap;
          const sent = ws.send(message);
          if (sent !== expected) wrong.push(`message ${i}: ${frame} bytes onto ${waiting} waiting, cap ${cap}: send returned ${sent}`);
          if (sent) admitted.push(message);
          else refused++;
        }
        expect(wrong).toEqual([]);
        expect(refused).toBe(3);
        // The peer gets exactly the admitted messages, in order: a marker sent
        // once it has read them all comes right after them.
        const received = messages(client, admitted.length);
        client.resume();
        const got = (await received).map(([data]) => data.toString('utf8'));
        expect(ws.send('end')).toBe(true);
        const end = (await messages(client, 1)).map(([data]) => data.toString('utf8'));
        expect([...got, ...end]).toEqual([...admitted, 'end']);
        for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      }),
      // Each run fills the kernel's socket buffers (megabytes): report the first failure unshrunk.
      {
        numRuns: 15,
        endOnFailure: true,
        examples: [
          // Counted in UTF-16 units, a 271-byte frame went onto 87 533 waiting bytes under a cap of 87 788.
          [
            'aaaé€€ééé😀😀€😀😀😀€€😀a😀éééaé€aé😀😀aé😀a€é€😀€😀éa€aé😀€😀é€ééé😀😀é😀éééaé€😀é€€é€é😀€😀€é😀😀éa😀é€éé€a€😀é€é€😀éaa€a€éé',
            87_788,
          ],
        ],
      },
    );
  });
});
