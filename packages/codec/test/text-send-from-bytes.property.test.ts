/**
 * Text handed to `send()` as UTF-8 bytes goes out as it is: the same frames
 * a string with those characters makes (fragmentation, masking, compression),
 * with no decode or re-encode, and the bytes are checked first, so invalid
 * UTF-8 is the application's error (a UsageError, nothing queued) instead of
 * a 1007 from the peer.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import {
  type Endpoint,
  type FrameOptions,
  type Role,
  type TextCodec,
  UsageError,
  permessageDeflate,
} from '../src/index.js';
import { feed, openPair, seededRandom, split } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? 200);
const encoder = new TextEncoder();
const nodeHelpers: TextCodec = {
  validate: (bytes) => isUtf8(bytes),
  decode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
};

/** An open endpoint of `role`, its masking keys from `seed`, optionally with permessage-deflate. */
function sender(
  role: Role,
  seed: number,
  deflate: boolean,
  options: FrameOptions = {},
): { sender: Endpoint; receiver: Endpoint } {
  const ext = deflate ? { extensions: [permessageDeflate({ threshold: 64 })] } : {};
  const own = { ...options, ...ext, random: seededRandom(seed) };
  const pair = role === 'server' ? openPair({ server: own, client: ext }) : openPair({ client: own, server: ext });
  return role === 'server'
    ? { sender: pair.server, receiver: pair.client }
    : { sender: pair.client, receiver: pair.server };
}

const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1000, maxLength: 3000 }) },
);
/** A message, or one streamed in parts. */
const message = fc.oneof(
  { weight: 3, arbitrary: text.map((s) => [s]) },
  { weight: 1, arbitrary: fc.array(fc.string({ unit: 'binary', maxLength: 60 }), { minLength: 2, maxLength: 5 }) },
);
const fragmentSize = fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined });

describe.each<Role>(['server', 'client'])('text sent as bytes by the %s role', (role) => {
  it('puts the same frames on the wire as the same text sent as strings (with and without permessage-deflate)', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 6 }),
        fragmentSize,
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (messages, size, deflate, accelerated, seed) => {
          const options = { fragmentSize: size, ...(accelerated && { text: nodeHelpers }) };
          const fromStrings = sender(role, seed, deflate, options).sender;
          const fromBytes = sender(role, seed, deflate, options).sender;
          for (const parts of messages) {
            parts.forEach((p, i) => {
              const fin = i === parts.length - 1;
              fromStrings.send({ type: 'text', data: p, fin });
              fromBytes.send({ type: 'text', data: encoder.encode(p), fin });
            });
          }
          expect(concat(fromBytes.takeOutgoing())).toEqual(concat(fromStrings.takeOutgoing()));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('may cut a streamed message inside a character: the peer gets the text whole', () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (s, cuts, accelerated) => {
        const { sender: out, receiver } = sender(role, 5, false, accelerated ? { text: nodeHelpers } : {});
        const bytes = encoder.encode(s);
        const parts = split(
          bytes,
          cuts.map((c) => c % (bytes.length + 1)),
        );
        if (parts.length === 0) parts.push(new Uint8Array(0));
        for (const [i, p] of parts.entries()) out.send({ type: 'text', data: p, fin: i === parts.length - 1 });
        expect(feed(receiver, [concat(out.takeOutgoing())])).toEqual([{ type: 'text', data: s }]);
      }),
      { numRuns: RUNS },
    );
  });
});

/** Bytes that are not UTF-8 where they stand. */
const invalid = fc.constantFrom(
  [0x80],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xff],
  [0xe2, 0x82],
);

describe('text bytes that are not valid UTF-8', () => {
  it.each([
    ['the codec validator', {}],
    ['Node helpers', { text: nodeHelpers }],
  ])('throw ERR_INVALID_ARGUMENT and queue nothing (%s)', (_name, options) => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 50 }),
        invalid,
        fc.string({ maxLength: 50 }),
        fc.boolean(),
        (before, bad, after, streamed) => {
          const { sender: out, receiver } = sender('server', 1, false, options);
          const bytes = concat([encoder.encode(before), Uint8Array.from(bad), encoder.encode(after)]);
          const queued = out.bufferedAmount;
          const expected: unknown[] = [];
          let thrown: unknown;
          try {
            out.send({ type: 'text', data: bytes, fin: !streamed });
          } catch (error) {
            thrown = error;
          }
          if (thrown === undefined) {
            // Only a part that stops inside a character (E2 82, €'s first two bytes) may pass; the message may not end there.
            expect(streamed).toBe(true);
            expect(() => out.send({ type: 'text', data: new Uint8Array(0), fin: true })).toThrow(UsageError);
            out.send({ type: 'text', data: Uint8Array.of(0xac), fin: true });
            expected.push({ type: 'text', data: `${before}€` });
          } else {
            expect(thrown).toBeInstanceOf(UsageError);
            expect((thrown as UsageError).code).toBe('ERR_INVALID_ARGUMENT');
            expect(out.bufferedAmount).toBe(queued);
          }
          // The endpoint goes on.
          out.send({ type: 'text', data: encoder.encode('after') });
          expected.push({ type: 'text', data: 'after' });
          expect(feed(receiver, [concat(out.takeOutgoing())])).toEqual(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a part that is refused leaves the stream as it was', () => {
    const { sender: out, receiver } = sender('client', 3, false);
    out.send({ type: 'text', data: encoder.encode('caf'), fin: false });
    out.send({ type: 'text', data: Uint8Array.of(0xc3), fin: false }); // begins "é"
    expect(() => out.send({ type: 'text', data: Uint8Array.of(0x41), fin: true })).toThrow(UsageError); // "A" cannot finish it
    expect(() => out.send({ type: 'text', data: 'A', fin: true })).toThrow(UsageError); // nor can a string
    out.send({ type: 'text', data: Uint8Array.of(0xa9, 0x21), fin: true }); // "é!"
    expect(feed(receiver, [concat(out.takeOutgoing())])).toEqual([{ type: 'text', data: 'café!' }]);
  });
});
