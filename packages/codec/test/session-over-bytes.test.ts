/**
 * A whole session driven by the endpoints alone over raw bytes: what a
 * runtime with nothing but a byte stream does. Frames sent right behind a
 * handshake head, in the same chunk, reach the other side.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import { encodeFrame } from '../src/frames.js';
import { ClientEndpoint, ServerEndpoint } from '../src/index.js';
import { feed, type PlainEvent, plain, seededRandom, split } from './helpers.js';

describe('a session over bytes, handshake included', () => {
  it('delivers frames that arrive in the same chunks as the handshake heads, under any split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer(),
        (cutsUp, cutsDown, seed) => {
          const client = new ClientEndpoint('ws://localhost:9001/echo?x=1', {
            protocols: ['b', 'a'],
            random: seededRandom(seed),
          });
          // A client that pipelines its first message behind the request (an
          // endpoint sends nothing before the 101, but a peer may).
          const early = encodeFrame(
            { opcode: 1, maskKey: Uint8Array.of(seed & 0xff, 1, 2, 3) },
            new TextEncoder().encode('early'),
          );
          const upstream = concat([...client.takeOutgoing(), early]);

          const server = new ServerEndpoint();
          const serverEvents: PlainEvent[] = [];
          for (const chunk of split(
            upstream,
            cutsUp.map((c) => c % (upstream.length + 1)),
          )) {
            serverEvents.push(...feed(server, [chunk]));
            if (server.state !== 'connecting' || serverEvents.at(-1)?.type !== 'request') continue;
            expect(serverEvents.at(-1)).toMatchObject({ type: 'request', target: '/echo?x=1' });
            server.send({ type: 'accept', protocol: 'a' });
            // The server's first message goes out in the same write as its 101.
            server.send({ type: 'binary', data: new Uint8Array([1, 2]) });
            serverEvents.push(...server.events().map(plain));
          }
          expect(serverEvents.map((e) => e.type)).toEqual(['request', 'open', 'text']);
          expect(serverEvents[2]).toEqual({ type: 'text', data: 'early' });

          const downstream = concat(server.takeOutgoing());
          const clientEvents = feed(
            client,
            split(
              downstream,
              cutsDown.map((c) => c % (downstream.length + 1)),
            ),
          );
          expect(clientEvents[0]).toMatchObject({ type: 'open', protocol: 'a' });
          expect(clientEvents.slice(1)).toEqual([{ type: 'binary', data: [1, 2] }]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the frame tour example (pnpm run frame-tour) runs a full session and ends cleanly', () => {
    const script = fileURLToPath(new URL('../../../examples/frame-tour.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
    expect(out).toContain('HTTP/1.1 101 Switching Protocols');
    expect(out).toContain('server event: text "hello, server"');
    expect(out).toContain('client event: text "HELLO, SERVER"');
    expect(out).toContain('{"type":"closed","code":1000,"reason":"bye","wasClean":true}');
  });
});
