/**
 * However an endpoint receives text — decoded to strings (the default), as
 * validated bytes (`textAs: 'bytes'`), with or without platform accelerators
 * (`text`) — it delivers the same text, and it fails an invalid message with
 * 1007 at the same point: in the fragment that holds the first byte that
 * cannot be UTF-8 (RFC 6455 §8.1), never later, whatever the fragmentation
 * and however the reads cut the stream.
 *
 * The oracle for validity is the platform's fatal TextDecoder, and the
 * accelerators are Node's own helpers, so neither side of a comparison is the
 * codec's validator grading itself.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import {
  ClientEndpoint,
  type EndpointEvent,
  type MessageMode,
  ServerEndpoint,
  type ServerEndpointOptions,
  type TextAs,
  type TextCodec,
} from '../src/index.js';
import { rawFrame, seededRandom } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? 200);
const encoder = new TextEncoder();

const nodeHelpers: TextCodec = {
  validate: (bytes) => isUtf8(bytes),
  decode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
};
const nodeOneStep: TextCodec = {
  ...nodeHelpers,
  decodeIfValid: (bytes) =>
    isUtf8(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : undefined,
};
// Decodes with a fatal decoder: should the codec ever hand it bytes it has not validated, it throws.
const strictDecodeOnly: TextCodec = {
  decode: (bytes) => new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes),
};

interface Mode {
  readonly name: string;
  readonly options: ServerEndpointOptions<TextAs>;
}
const MODES: readonly Mode[] = [
  { name: 'strings', options: {} },
  { name: 'bytes', options: { textAs: 'bytes' } },
  { name: 'strings, Node helpers', options: { text: nodeHelpers } },
  { name: 'bytes, Node helpers', options: { textAs: 'bytes', text: nodeHelpers } },
  { name: 'strings, Node helpers validating and decoding in one step', options: { text: nodeOneStep } },
  { name: 'strings, decode-only accelerator', options: { text: strictDecodeOnly } },
  { name: 'bytes, decode-only accelerator', options: { textAs: 'bytes', text: strictDecodeOnly } },
];

/** An open server endpoint with `options` (its client is dropped after the handshake). */
function openServer(options: ServerEndpointOptions<TextAs>): ServerEndpoint<TextAs> {
  const server = new ServerEndpoint<TextAs>(options);
  const client = new ClientEndpoint('ws://localhost/', { random: seededRandom(7) });
  for (const bytes of client.takeOutgoing()) server.receive(bytes);
  expect(server.nextEvent()?.type).toBe('request');
  server.send({ type: 'accept' });
  expect(server.nextEvent()?.type).toBe('open');
  server.takeOutgoing();
  return server;
}

/** What one chunk of input produced: events with text data as bytes, so every mode compares. */
interface Seen {
  readonly chunk: number;
  readonly type: string;
  readonly bytes?: number[];
  readonly last?: boolean;
  readonly code?: number;
  readonly reason?: string;
}

function receiveAll(
  options: ServerEndpointOptions<TextAs>,
  chunks: readonly Uint8Array[],
): { seen: Seen[]; strings: string[] } {
  const server = openServer(options);
  const seen: Seen[] = [];
  const strings: string[] = [];
  chunks.forEach((chunk, index) => {
    server.receive(chunk.slice());
    for (let ev = server.nextEvent(); ev !== undefined; ev = server.nextEvent())
      seen.push(describeEvent(ev, index, strings));
  });
  return { seen, strings };
}

function describeEvent(ev: EndpointEvent<TextAs>, chunk: number, strings: string[]): Seen {
  switch (ev.type) {
    case 'text':
    case 'text-part':
      if (typeof ev.data === 'string') strings.push(ev.data);
      return {
        chunk,
        type: ev.type,
        bytes: Array.from(typeof ev.data === 'string' ? encoder.encode(ev.data) : ev.data),
        ...(ev.type === 'text-part' && { last: ev.last }),
      };
    case 'protocol-error':
      return { chunk, type: ev.type, code: ev.phase === 'frames' ? ev.code : 0, reason: ev.reason };
    default:
      return { chunk, type: ev.type };
  }
}

/** A message's UTF-8 cut into frames at `cuts` (inside characters too), masked as a client sends them. */
function framesOf(payload: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (payload.length + 1)))]
    .filter((p) => p > 0 && p < payload.length)
    .sort((a, b) => a - b);
  const bounds = [0, ...points, payload.length];
  const frames: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const fin = i + 2 === bounds.length;
    frames.push(
      rawFrame({
        opcode: i === 0 ? 1 : 0,
        fin,
        payload: payload.subarray(bounds[i], bounds[i + 1]),
        mask: [0x37, 0xfa, 0x21, 0x3d],
      }),
    );
  }
  return frames;
}

/** Where each message's frames end in the wire, and the wire. */
function wireOf(messages: readonly { payload: Uint8Array; cuts: readonly number[] }[]): {
  wire: Uint8Array;
  frameEnds: number[][];
  frameStarts: number[][];
} {
  const parts: Uint8Array[] = [];
  const frameEnds: number[][] = [];
  const frameStarts: number[][] = [];
  let at = 0;
  for (const m of messages) {
    const ends: number[] = [];
    const starts: number[] = [];
    for (const f of framesOf(m.payload, m.cuts)) {
      starts.push(at);
      parts.push(f);
      at += f.length;
      ends.push(at);
    }
    frameEnds.push(ends);
    frameStarts.push(starts);
  }
  return { wire: concat(parts), frameEnds, frameStarts };
}

function chunksOf(
  wire: Uint8Array,
  cuts: readonly number[],
): { chunks: Uint8Array[]; chunkOf: (offset: number) => number } {
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))]
    .filter((p) => p > 0 && p < wire.length)
    .sort((a, b) => a - b);
  const bounds = [0, ...points, wire.length];
  const chunks: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) chunks.push(wire.subarray(bounds[i], bounds[i + 1]));
  // The chunk holding wire byte `offset`.
  const chunkOf = (offset: number) =>
    bounds.findIndex((b, i) => i + 1 < bounds.length && offset >= b && offset < (bounds[i + 1] as number));
  return { chunks, chunkOf };
}

/** Texts of every shape: ASCII runs long enough for word-at-a-time scans, and every UTF-8 length. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
  {
    weight: 2,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.string({ unit: 'binary-ascii', minLength: 100, maxLength: 400 }),
          fc.string({ unit: 'binary', maxLength: 8 }),
        ),
        { maxLength: 6 },
      )
      .map((p) => p.join('')),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 2000, maxLength: 5000 }) },
);
const cuts = fc.array(fc.nat(), { maxLength: 8 });
const message = fc.record({ text, cuts });
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe.each<MessageMode>(['whole', 'parts'])('valid text in %s mode', (messageMode) => {
  it('arrives as the same text in every receive mode, whatever the fragments and reads', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), cuts, (messages, readCuts) => {
        const payloads = messages.map((m) => ({ payload: encoder.encode(m.text), cuts: m.cuts }));
        const { wire } = wireOf(payloads);
        const { chunks } = chunksOf(wire, readCuts);
        const results = MODES.map((mode) => receiveAll({ ...mode.options, messageMode }, chunks));
        const expected = payloads.map((p) => Array.from(p.payload));
        for (const [i, { seen, strings }] of results.entries()) {
          const mode = MODES[i] as Mode;
          expect(
            seen.every((s) => s.type === (messageMode === 'whole' ? 'text' : 'text-part')),
            mode.name,
          ).toBe(true);
          // Parts joined back into messages: their bytes, then their text.
          const joined: number[][] = [];
          let current: number[] = [];
          for (const s of seen) {
            current.push(...(s.bytes as number[]));
            if (s.type === 'text' || s.last === true) {
              joined.push(current);
              current = [];
            }
          }
          expect(joined, mode.name).toEqual(expected);
          // String parts never split a character.
          for (const s of strings) expect(loneSurrogate.test(s), mode.name).toBe(false);
        }
        // Every mode saw the same events at the same reads (parts carry the same bytes apart from where a character is cut).
        const shape = (seen: Seen[]) => seen.map((s) => `${s.chunk}:${s.type}:${s.last ?? ''}`);
        for (const r of results) expect(shape(r.seen)).toEqual(shape(results[0]!.seen));
      }),
      { numRuns: RUNS },
    );
  });
});

/** Byte sequences that are never valid UTF-8 where they stand, and the ends of valid ones. */
const badBytes = fc.oneof(
  fc.constantFrom(
    [0x80], // continuation without a lead
    [0xbf],
    [0xc0, 0xaf], // overlong
    [0xc1, 0x81],
    [0xe0, 0x80, 0x80], // overlong 3-byte
    [0xe0, 0x9f, 0xbf],
    [0xed, 0xa0, 0x80], // a surrogate
    [0xed, 0xbf, 0xbf],
    [0xf0, 0x80, 0x80, 0x80], // overlong 4-byte
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xf5, 0x80, 0x80, 0x80],
    [0xff],
    [0xfe],
    [0xe2, 0x82], // a sequence cut short (by ASCII, or at the end)
    [0xf0, 0x9f, 0x98],
    [0xc3],
  ),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => Array.from(b)),
);

/** The index of the first byte at which `bytes` stops being a prefix of valid UTF-8, or `bytes.length` when only its end is unfinished, or -1 when valid. */
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

describe.each<MessageMode>(['whole', 'parts'])('invalid UTF-8 in %s mode', (messageMode) => {
  it('fails with 1007 in every receive mode at the same read, within the fragment that holds the first bad byte', () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 3 }),
        fc.record({ before: text, bad: badBytes, after: fc.string({ unit: 'binary', maxLength: 300 }), cuts }),
        cuts,
        (valid, broken, readCuts) => {
          const payload = concat([
            encoder.encode(broken.before),
            Uint8Array.from(broken.bad),
            encoder.encode(broken.after),
          ]);
          const bad = firstBadByte(payload);
          fc.pre(bad >= 0);
          const messages = [
            ...valid.map((m) => ({ payload: encoder.encode(m.text), cuts: m.cuts })),
            { payload, cuts: broken.cuts },
          ];
          const { wire, frameEnds, frameStarts } = wireOf(messages);
          const { chunks, chunkOf } = chunksOf(wire, readCuts);
          const results = MODES.map((mode) => receiveAll({ ...mode.options, messageMode }, chunks).seen);
          const shape = (seen: Seen[]) =>
            seen.map((s) => (s.type === 'protocol-error' ? s : { chunk: s.chunk, type: s.type, last: s.last }));
          for (const seen of results) expect(shape(seen)).toEqual(shape(results[0]!));

          const seen = results[0]!;
          const error = seen.at(-1) as Seen;
          expect(error).toMatchObject({ type: 'protocol-error', code: 1007 });
          expect(error.reason).toBe(
            bad === payload.length
              ? 'a truncated UTF-8 sequence at the end of a text message'
              : 'invalid UTF-8 in a text message',
          );
          if (messageMode === 'whole') expect(seen.filter((s) => s.type === 'text')).toHaveLength(valid.length);

          // The fragment holding the first bad byte (the last fragment when the message merely ends unfinished).
          const ends = frameEnds.at(-1) as number[];
          const starts = frameStarts.at(-1) as number[];
          const bounds = framePayloadBounds(payload, broken.cuts);
          const frame =
            bad === payload.length ? bounds.length - 1 : bounds.findIndex(([from, to]) => bad >= from && bad < to);
          const [from, to] = bounds[frame] as [number, number];
          const frameStart = starts[frame] as number;
          const frameEnd = ends[frame] as number;
          const frameEndChunk = chunkOf(frameEnd - 1);
          if (bad === payload.length) {
            expect(error.chunk).toBe(frameEndChunk);
          } else {
            // Not before the bad byte arrived, not after its fragment did.
            const badAt = frameEnd - (to - from) + (bad - from);
            expect(badAt).toBeGreaterThanOrEqual(frameStart);
            expect(error.chunk).toBeGreaterThanOrEqual(chunkOf(badAt));
            expect(error.chunk).toBeLessThanOrEqual(frameEndChunk);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** The payload ranges of the frames `framesOf` makes. */
function framePayloadBounds(payload: Uint8Array, cuts: readonly number[]): [number, number][] {
  const points = [...new Set(cuts.map((c) => c % (payload.length + 1)))]
    .filter((p) => p > 0 && p < payload.length)
    .sort((a, b) => a - b);
  const bounds = [0, ...points, payload.length];
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < bounds.length; i++) out.push([bounds[i] as number, bounds[i + 1] as number]);
  return out;
}
