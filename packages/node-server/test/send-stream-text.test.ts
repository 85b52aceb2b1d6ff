// sendStream in text mode from byte chunks: the chunks are one UTF-8 text cut
// anywhere, so a code point may be split between chunks; the peer (the `ws`
// client, which fails the connection with 1007 on invalid UTF-8) must get
// exactly the text.
import { once } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import type { WebSocket, WebSocketServer } from '../src/index.js';
import { startServer } from './helpers.js';

const servers: Array<Pick<WebSocketServer, 'close'>> = [];
const clients: WebSocketClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 500 })));
});

async function connect(perMessageDeflate: boolean) {
  const { wss, url } = await startServer({ perMessageDeflate });
  servers.push(wss);
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocketClient(url, { perMessageDeflate });
  clients.push(client);
  const [server] = await accepted;
  await once(client, 'open');
  return { server, client };
}

/** Cuts `bytes` at the given offsets (taken modulo its length + 1), so chunks may be empty or split a code point. */
function cut(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const at = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const to of at) {
    chunks.push(bytes.slice(from, to));
    from = to;
  }
  chunks.push(bytes.slice(from));
  return chunks;
}

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\u0800', '\uffff'), maxLength: 2000 }),
);
const offsets = fc.array(fc.nat(), { maxLength: 40 });

describe.each([false, true])('sendStream(bytes, { binary: false }) with permessage-deflate %s', (deflate) => {
  it('delivers exactly the text for any cut of its UTF-8 bytes into chunks', async () => {
    const { server, client } = await connect(deflate);
    const encoder = new TextEncoder();
    await fc.assert(
      fc.asyncProperty(text, offsets, async (s, at) => {
        const received = once(client, 'message') as Promise<[Buffer, boolean]>;
        await server.sendStream(cut(encoder.encode(s), at), { binary: false });
        const [data, isBinary] = await received;
        expect(isBinary).toBe(false);
        expect(data.toString('utf8')).toBe(s);
      }),
      {
        examples: [
          // Each splits a code point of 2, 3 or 4 bytes; they arrived as U+FFFD.
          ['é', [1]],
          ['€', [1, 2]],
          ['😀', [1, 2, 3]],
          ['a😀é€', [3, 6, 8]],
          // A leading U+FEFF is text like any other, not a byte order mark to drop.
          ['\ufeffa', []],
        ],
      },
    );
    expect(client.readyState).toBe(WebSocketClient.OPEN);
  });
});

describe('sendStream text from chunks that are not UTF-8', () => {
  it('sends U+FFFD for bytes that are not UTF-8, so the peer still gets valid text', async () => {
    const { server, client } = await connect(false);
    const cases: Array<[Array<string | Uint8Array>, string]> = [
      [[Uint8Array.of(0x61, 0xff, 0x62)], 'a\ufffdb'],
      // The stream ends inside a code point.
      [[Uint8Array.of(0x61, 0xe2, 0x82)], 'a\ufffd'],
      // A string chunk follows bytes that began a code point.
      [[Uint8Array.of(0xe2, 0x82), 'x'], '\ufffdx'],
    ];
    for (const [chunks, expected] of cases) {
      const received = once(client, 'message') as Promise<[Buffer, boolean]>;
      await server.sendStream(chunks, { binary: false });
      const [data] = await received;
      expect(data.toString('utf8')).toBe(expected);
    }
    expect(client.readyState).toBe(WebSocketClient.OPEN);
  });
});
