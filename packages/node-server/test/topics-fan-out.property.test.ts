/**
 * Encode once per compression class, for any audience: whatever mix of
 * subscribers a publication has (no deflate, deflate keeping context,
 * deflate without server context at windows 9–15), node-server encodes it
 * exactly once for the plain frame (shared by connections without deflate
 * and by those whose deflater keeps context) and once per distinct window
 * of the no-context connections, and every subscriber decodes the payload.
 */
import { permessageDeflate } from '@rfc6455/codec';
import { MessagePreEncoder } from '@rfc6455/codec/frames';
import fc from 'fast-check';
import { afterEach, expect, it, vi } from 'vitest';
import type { WebSocketServer } from '../src/index.js';
import { startServer } from './helpers.js';
import { is, type TopicsPeer, topicsPeer } from './topics-peer.js';

type Kind =
  | { readonly type: 'plain' }
  | { readonly type: 'context' }
  | { readonly type: 'no-context'; readonly window: number };

const kind: fc.Arbitrary<Kind> = fc.oneof(
  fc.constant({ type: 'plain' } as const),
  fc.constant({ type: 'context' } as const),
  fc.integer({ min: 9, max: 15 }).map((window) => ({ type: 'no-context', window }) as const),
);

const peers: TopicsPeer[] = [];
const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.socket.destroy();
  await Promise.all(servers.splice(0).map((wss) => wss.close({ timeout: 200 })));
  vi.restoreAllMocks();
});

function extensionsOf(k: Kind) {
  if (k.type === 'plain') return undefined;
  if (k.type === 'context') return [permessageDeflate({ threshold: 0 })];
  return [permessageDeflate({ serverNoContextTakeover: true, serverMaxWindowBits: k.window, threshold: 0 })];
}

it('encodes a publication once per compression class among its subscribers', { timeout: 120_000 }, async () => {
  const encode = vi.spyOn(MessagePreEncoder.prototype, 'encode');
  await fc.assert(
    fc.asyncProperty(
      fc.array(kind, { minLength: 1, maxLength: 6 }),
      fc.uint8Array({ minLength: 0, maxLength: 3000 }),
      async (kinds, payload) => {
        const { wss, port } = await startServer({ heartbeatInterval: 0, perMessageDeflate: { threshold: 0 } });
        servers.push(wss);
        const clients: TopicsPeer[] = [];
        for (const k of kinds) {
          const extensions = extensionsOf(k);
          const client = await topicsPeer(port, extensions === undefined ? {} : { extensions });
          peers.push(client);
          clients.push(client);
          client.send({ type: 'subscribe', topic: 'p' });
        }
        for (const client of clients) await client.waitFor(is.subscribed('p'));
        const before = encode.mock.calls.length;
        await wss.publish('p', payload);
        for (const client of clients) expect((await client.waitFor(is.publication('p', 1))).data).toEqual(payload);
        const windows = new Set(kinds.flatMap((k) => (k.type === 'no-context' ? [k.window] : [])));
        const plain = kinds.some((k) => k.type !== 'no-context') ? 1 : 0;
        expect(encode.mock.calls.length - before).toBe(plain + windows.size);
        for (const client of clients.splice(0)) client.socket.destroy();
        await wss.close({ timeout: 200 });
      },
    ),
    {
      numRuns: 15,
      examples: [
        [
          [
            { type: 'plain' },
            { type: 'context' },
            { type: 'no-context', window: 15 },
            { type: 'no-context', window: 15 },
          ],
          new Uint8Array(2000),
        ],
        [
          [
            { type: 'no-context', window: 9 },
            { type: 'no-context', window: 10 },
          ],
          new Uint8Array(0),
        ],
      ],
    },
  );
});
