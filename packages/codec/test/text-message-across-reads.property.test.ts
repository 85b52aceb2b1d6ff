/**
 * A text message wanted as a string that arrives in several reads: long
 * runs are validated by decoding them, the bytes around a read boundary one
 * by one. Whatever the reads, the string is the one a fatal TextDecoder
 * makes of the payload (RFC 3629), and invalid UTF-8 fails the message
 * with 1007 in the very read that brings the first byte that cannot begin
 * valid UTF-8 (RFC 6455 §8.1), as `textAs: 'bytes'` does. The reads are cut
 * on purpose right at, inside and just after the bad bytes, where a read
 * ends in the middle of a sequence.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import { ClientEndpoint, ServerEndpoint, type TextAs } from '../src/index.js';
import { rawFrame, seededRandom } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const encoder = new TextEncoder();

function openServer(textAs: TextAs): ServerEndpoint<TextAs> {
  const server = new ServerEndpoint<TextAs>({ textAs });
  const client = new ClientEndpoint('ws://localhost/', { random: seededRandom(3) });
  for (const bytes of client.takeOutgoing()) server.receive(bytes);
  server.nextEvent();
  server.send({ type: 'accept' });
  server.nextEvent();
  server.takeOutgoing();
  return server;
}

interface Outcome {
  /** The read (index) that produced the message or the failure. */
  readonly read: number;
  readonly type: string;
  readonly text?: string;
  readonly code?: number;
  readonly reason?: string;
}

function receive(textAs: TextAs, reads: readonly Uint8Array[]): Outcome[] {
  const server = openServer(textAs);
  const out: Outcome[] = [];
  reads.forEach((read, index) => {
    server.receive(read.slice());
    for (let ev = server.nextEvent(); ev !== undefined; ev = server.nextEvent()) {
      if (ev.type === 'text') {
        const text = typeof ev.data === 'string' ? ev.data : new TextDecoder().decode(ev.data);
        out.push({ read: index, type: 'text', text });
      } else if (ev.type === 'protocol-error') {
        out.push({ read: index, type: ev.type, code: ev.phase === 'frames' ? ev.code : 0, reason: ev.reason });
      } else {
        out.push({ read: index, type: ev.type });
      }
    }
  });
  return out;
}

/** Index of the first byte at which `bytes` stops being a prefix of UTF-8; `length` when only the end is unfinished; -1 when valid. */
function firstBadByte(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length; i++) {
    try {
      decoder.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  try {
    decoder.decode();
    return -1;
  } catch {
    return bytes.length;
  }
}

const runs = fc.oneof(
  fc.string({ unit: 'binary-ascii', minLength: 0, maxLength: 1500 }),
  fc.string({ unit: 'binary', minLength: 0, maxLength: 700 }),
);
const bad = fc.oneof(
  fc.constantFrom(
    [0xf5],
    [0xff],
    [0xc0, 0xaf],
    [0xe0, 0x80, 0x80],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
    [0xf0, 0x9f, 0x98],
    [0xc3],
    [0xef, 0xbf, 0xbd], // U+FFFD itself: valid, and what a lax decoder writes for errors
  ),
  fc.uint8Array({ minLength: 1, maxLength: 5 }).map((b) => Array.from(b)),
);

describe('a text message across reads, decoded to a string', () => {
  it('is the fatal decoder’s string, or fails in the read holding the first bad byte, as textAs bytes does', () => {
    fc.assert(
      fc.property(
        runs,
        bad,
        runs,
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (before, badBytes, after, fragments, nearBad, otherCuts) => {
          const payload = concat([encoder.encode(before), Uint8Array.from(badBytes), encoder.encode(after)]);
          // Frames of equal share, masked as a client sends them.
          const frames: Uint8Array[] = [];
          const frameEnds: number[] = [];
          let at = 0;
          let wireLength = 0;
          for (let f = 0; f < fragments; f++) {
            const end = f + 1 === fragments ? payload.length : Math.floor((payload.length * (f + 1)) / fragments);
            const frame = rawFrame({
              opcode: f === 0 ? 1 : 0,
              fin: f + 1 === fragments,
              payload: payload.subarray(at, end),
              mask: [0x37, 0xfa, 0x21, 0x3d],
            });
            frames.push(frame);
            wireLength += frame.length;
            frameEnds.push(wireLength);
            at = end;
          }
          const wire = concat(frames);
          // Wire offset of payload byte `i`.
          const wireOf = (i: number): number => {
            let start = 0;
            let from = 0;
            for (let f = 0; f < fragments; f++) {
              const end = f + 1 === fragments ? payload.length : Math.floor((payload.length * (f + 1)) / fragments);
              const headerLength = (frames[f] as Uint8Array).length - (end - from);
              if (i < end) return start + headerLength + (i - from);
              start = frameEnds[f] as number;
              from = end;
            }
            return wire.length;
          };
          const badAt = wireOf(encoder.encode(before).length);
          const cuts = [...nearBad.map((d) => badAt + d), ...otherCuts.map((c) => c % (wire.length + 1))];
          const points = [...new Set(cuts)].filter((p) => p > 0 && p < wire.length).sort((a, b) => a - b);
          const bounds = [0, ...points, wire.length];
          const reads = bounds.slice(1).map((end, i) => wire.subarray(bounds[i], end));
          const readOf = (offset: number) =>
            bounds.findIndex((_, i) => i + 1 < bounds.length && offset < (bounds[i + 1] as number));

          const asString = receive('string', reads);
          expect(asString).toEqual(receive('bytes', reads));
          const first = firstBadByte(payload);
          if (first < 0) {
            expect(asString).toEqual([
              { read: reads.length - 1, type: 'text', text: new TextDecoder().decode(payload) },
            ]);
            return;
          }
          expect(asString).toHaveLength(1);
          expect(asString[0]).toMatchObject({
            type: 'protocol-error',
            code: 1007,
            read: first === payload.length ? reads.length - 1 : readOf(wireOf(first)),
          });
        },
      ),
      {
        numRuns: RUNS,
        examples: [
          // A read that ends just after a lead byte that can never begin a character.
          ['a'.repeat(600), [0xf5], 'b'.repeat(600), 1, [1], []],
          ['a'.repeat(600), [0xe0, 0x80, 0x80], 'é'.repeat(300), 2, [1, 2], [5]],
          ['€'.repeat(400), [0xef, 0xbf, 0xbd], '€'.repeat(400), 1, [2, -1], [700]],
        ],
      },
    );
  });
});
