/**
 * The exported arbitraries (`@rfc6455/codec/testing`) checked against the
 * codec: what they say a conforming receiver must report is what it reports.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import { createResponseHeadParser } from '../src/http.js';
import { permessageDeflate, type Role, ServerEndpoint } from '../src/index.js';
import {
  chunking,
  deflateOffer,
  invalidInput,
  invalidUpgradeRequest,
  upgradeRequest,
  validStream,
} from '../src/testing.js';
import { feed, openEndpoint, plain } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);

describe.each<Role>(['server', 'client'])('streams sent to the %s role', (receiver) => {
  const sender: Role = receiver === 'server' ? 'client' : 'server';

  it('valid streams yield exactly the expected events under any chunking', () => {
    fc.assert(
      fc.property(validStream({ sender }), chunking(), (stream, split) => {
        const events = feed(openEndpoint(receiver), split(stream.bytes));
        expect(events).toEqual(stream.expected.map((e) => plain(e)));
      }),
      { numRuns: RUNS },
    );
  });

  it('each class of invalid input fails with the close code the RFC requires, after the valid prefix', () => {
    fc.assert(
      fc.property(invalidInput({ receiver }), chunking(), (c, split) => {
        const conn = openEndpoint(receiver, { maxMessageSize: c.maxMessageSize });
        const events = feed(conn, split(c.bytes));
        const error = events.at(-1);
        expect(error, c.description).toMatchObject({ type: 'protocol-error', phase: 'frames', code: c.expectedCode });
        // Fail-fast UTF-8 may stop before a control frame inside the bad message; everything before it matches.
        const before = events.slice(0, -1);
        expect(before).toEqual(c.expectedBefore.slice(0, before.length).map((e) => plain(e)));
        expect(before.length).toBe(c.expectedBefore.length);
      }),
      { numRuns: RUNS },
    );
  });
});

/** A valid upgrade request whose only extension offer is `header`. */
function requestOffering(header: string): Uint8Array {
  const lines = [
    'GET / HTTP/1.1',
    'Host: localhost',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Extensions: ${header}`,
  ];
  return new TextEncoder().encode(`${lines.join('\r\n')}\r\n\r\n`);
}

describe('handshake arbitraries, read by a server endpoint', () => {
  it('valid upgrade requests produce a request event with their fields', () => {
    fc.assert(
      fc.property(upgradeRequest(), chunking(), (req, split) => {
        const server = new ServerEndpoint();
        for (const chunk of split(req.bytes)) server.receive(chunk);
        expect(server.events()).toMatchObject([
          { type: 'request', key: req.key, protocols: req.protocols, target: req.path },
        ]);
      }),
      { numRuns: RUNS },
    );
  });

  it('invalid upgrade requests get the status they name', () => {
    fc.assert(
      fc.property(invalidUpgradeRequest(), (req) => {
        const server = new ServerEndpoint();
        server.receive(req.bytes);
        expect(server.events(), req.description).toMatchObject([
          { type: 'protocol-error', phase: 'handshake', status: req.expectedStatus },
        ]);
        const response = createResponseHeadParser().push(concat(server.takeOutgoing()));
        expect(response.type === 'complete' && response.startLine.status, req.description).toBe(req.expectedStatus);
        expect(server.shouldCloseTransport).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('permessage-deflate offers: invalid ones are declined; valid ones accepted unless they force an 8-bit deflate window', () => {
    fc.assert(
      fc.property(deflateOffer(), (offer) => {
        const server = new ServerEndpoint({ extensions: [permessageDeflate()] });
        server.receive(requestOffering(offer.header));
        expect(server.nextEvent()?.type, offer.header).toBe('request');
        server.send({ type: 'accept' });
        const forcesEight = /server_max_window_bits=8\b/.test(offer.header);
        const agreed = offer.valid && !forcesEight;
        expect(server.extensions.length, offer.header).toBe(agreed ? 1 : 0);
        expect(
          new TextDecoder()
            .decode(concat(server.takeOutgoing()))
            .includes('\r\nSec-WebSocket-Extensions: permessage-deflate'),
          offer.header,
        ).toBe(agreed);
      }),
      { numRuns: RUNS },
    );
  });
});
