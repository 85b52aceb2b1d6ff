/**
 * A whole session driven by the codec alone over raw bytes: what a runtime
 * with nothing but a byte stream does. Frames sent right behind a handshake
 * head, in the same chunk, reach the connection.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import { ClientHandshake, Connection, ServerHandshake } from '../src/index.js';
import { feed, seededRandom, split } from './helpers.js';

describe('a session over bytes, handshake included', () => {
  it('delivers frames that arrive in the same chunks as the handshake heads, under any split', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), fc.integer(), (cutsUp, cutsDown, seed) => {
        const random = seededRandom(seed);
        const clientHs = new ClientHandshake('ws://localhost:9001/echo?x=1', { protocols: ['b', 'a'], random });
        const client = new Connection({ role: 'client', random });
        // The client pipelines its first message behind the request.
        client.send({ type: 'text', data: 'early' });
        const upstream = concat([clientHs.request, ...client.takeOutgoing()]);

        const serverHs = new ServerHandshake();
        let server: Connection | undefined;
        let downstream = new Uint8Array(0);
        const serverEvents = [];
        for (const chunk of split(upstream, cutsUp.map((c) => c % (upstream.length + 1)))) {
          if (server) {
            serverEvents.push(...feed(server, [chunk]));
            continue;
          }
          serverHs.receive(chunk);
          const ev = serverHs.nextEvent();
          if (ev === undefined) continue;
          expect(ev.type).toBe('request');
          if (ev.type !== 'request') return;
          expect(ev.target).toBe('/echo?x=1');
          const accepted = serverHs.accept({ protocol: 'a' });
          server = new Connection({ role: 'server' });
          server.send({ type: 'binary', data: new Uint8Array([1, 2]) });
          downstream = concat([accepted.response, ...server.takeOutgoing()]);
          serverEvents.push(...feed(server, [accepted.trailing]));
        }
        expect(serverEvents).toEqual([{ type: 'text', data: 'early' }]);

        const clientEvents = [];
        let open = false;
        for (const chunk of split(downstream, cutsDown.map((c) => c % (downstream.length + 1)))) {
          if (open) {
            clientEvents.push(...feed(client, [chunk]));
            continue;
          }
          clientHs.receive(chunk);
          const ev = clientHs.nextEvent();
          if (ev === undefined) continue;
          expect(ev).toMatchObject({ type: 'open', protocol: 'a' });
          if (ev.type !== 'open') return;
          open = true;
          clientEvents.push(...feed(client, [ev.trailing]));
        }
        expect(clientEvents).toEqual([{ type: 'binary', data: [1, 2] }]);
      }),
      { numRuns: 200 },
    );
  });

  it('the frame tour example (pnpm start) runs a full session and ends cleanly', () => {
    const script = fileURLToPath(new URL('../../../examples/frame-tour.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
    expect(out).toContain('HTTP/1.1 101 Switching Protocols');
    expect(out).toContain('server event: text "hello, server"');
    expect(out).toContain('client event: text "HELLO, SERVER"');
    expect(out).toContain('{"type":"closed","code":1000,"reason":"bye","wasClean":true}');
  });
});
