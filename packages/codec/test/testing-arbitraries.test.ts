/**
 * The exported arbitraries (`@rfc6455/codec/testing`) checked against the
 * codec: what they say a conforming receiver must report is what it reports.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection, negotiateExtensions, parseExtensions, permessageDeflate, ServerHandshake, type Role } from '../src/index.js';
import { chunking, deflateOffer, invalidInput, invalidUpgradeRequest, upgradeRequest, validStream } from '../src/testing.js';
import { feed, plain } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);

describe.each<Role>(['server', 'client'])('streams sent to the %s role', (receiver) => {
  const sender: Role = receiver === 'server' ? 'client' : 'server';

  it('valid streams yield exactly the expected events under any chunking', () => {
    fc.assert(
      fc.property(validStream({ sender }), chunking(), (stream, split) => {
        const events = feed(new Connection({ role: receiver }), split(stream.bytes));
        expect(events).toEqual(stream.expected.map((e) => plain(e)));
      }),
      { numRuns: RUNS },
    );
  });

  it('each class of invalid input fails with the close code the RFC requires, after the valid prefix', () => {
    fc.assert(
      fc.property(invalidInput({ receiver }), chunking(), (c, split) => {
        const conn = new Connection({ role: receiver, maxMessageSize: c.maxMessageSize });
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

describe('handshake arbitraries', () => {
  it('valid upgrade requests produce a request event with their fields', () => {
    fc.assert(
      fc.property(upgradeRequest(), chunking(), (req, split) => {
        const hs = new ServerHandshake();
        for (const chunk of split(req.bytes)) hs.receive(chunk);
        const ev = hs.nextEvent();
        expect(ev).toMatchObject({ type: 'request', key: req.key, protocols: req.protocols, target: req.path });
      }),
      { numRuns: RUNS },
    );
  });

  it('invalid upgrade requests get the status they name', () => {
    fc.assert(
      fc.property(invalidUpgradeRequest(), (req) => {
        const hs = new ServerHandshake();
        hs.receive(req.bytes);
        expect(hs.nextEvent(), req.description).toMatchObject({ type: 'bad-request', status: req.expectedStatus });
      }),
      { numRuns: RUNS },
    );
  });

  it('permessage-deflate offers: invalid ones are declined; valid ones accepted unless they force an 8-bit deflate window', () => {
    fc.assert(
      fc.property(deflateOffer(), (offer) => {
        const parsed = parseExtensions(offer.header);
        if (!parsed.ok) throw new Error(parsed.reason);
        const { response } = negotiateExtensions(parsed.value, [permessageDeflate()]);
        const forcesEight = /server_max_window_bits=8\b/.test(offer.header);
        expect(response.length, offer.header).toBe(offer.valid && !forcesEight ? 1 : 0);
      }),
      { numRuns: RUNS },
    );
  });
});
