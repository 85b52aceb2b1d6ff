/**
 * The generated cases, family by family, for a receiver in either role: the
 * server suite sends them as a client (masked), the fuzzing server sends them
 * as a server (unmasked). Streams and violations come from the codec's
 * exported arbitraries where they exist; what the suite adds (big lengths,
 * fail-fast UTF-8, close codes here; compression in deflate-cases.ts, sizes at
 * and over the limits in limit-cases.ts) is built frame by frame with
 * `encodeFrame`, never with an implementation's encoder.
 */
import type { Role } from '@rfc6455/codec';
import {
  encodeFrame,
  type ExpectedEvent,
  type FrameSpec,
  type InvalidCase,
  type InvalidFamily,
  invalidInput,
  text,
  validStream,
} from '@rfc6455/codec/testing';
import fc from 'fast-check';
import type { Case, Expectation, Family, Reply } from './case.js';
import { deflateCases } from './deflate-cases.js';
import { limitCases } from './limit-cases.js';
import { closeBody, concat, Op } from './wire.js';

export interface CaseOptions {
  readonly receiver: Role;
  /** The receiver's message size limit; the limits family's size cases need it. */
  readonly maxMessageSize?: number;
  /** The receiver's frame payload limit when smaller than its message limit. */
  readonly maxFrameSize?: number;
}

const utf8 = new TextEncoder();

export function repliesOf(events: readonly ExpectedEvent[]): Reply[] {
  const out: Reply[] = [];
  for (const e of events) {
    if (e.type === 'text' || e.type === 'binary') out.push(e);
    else if (e.type === 'ping') out.push({ type: 'pong', data: e.data });
    // An unsolicited pong needs no answer (RFC 6455 §5.5.3).
  }
  return out;
}

/** A masking key when the sender is a client; servers send unmasked frames. */
function keyArb(receiver: Role): fc.Arbitrary<Uint8Array | null> {
  return receiver === 'server' ? fc.uint8Array({ minLength: 4, maxLength: 4 }) : fc.constant(null);
}

/** The closing frame a valid case ends with, and what may come back. */
function closing(
  key: Uint8Array | null,
  code = 1000,
): { bytes: Uint8Array; expect: Pick<Expectation & { kind: 'echo' }, 'closeCodes' | 'strictCode'> } {
  return {
    bytes: encodeFrame({ fin: true, rsv: 0, opcode: Op.Close, payload: closeBody(code), maskKey: key }),
    expect: { closeCodes: [code, 1000], strictCode: code },
  };
}

function echoCase(
  family: Family,
  variant: string,
  description: string,
  body: Uint8Array,
  replies: readonly Reply[],
  key: Uint8Array | null,
): Case {
  const end = closing(key);
  const send = concat([body, end.bytes]);
  return { family, variant, description, build: () => ({ send }), expect: { kind: 'echo', replies, ...end.expect } };
}

function fromInvalid(family: Family, c: InvalidCase): Case {
  const send = c.bytes;
  return {
    family,
    variant: `${family}/${c.family}`,
    description: c.description,
    build: () => ({ send }),
    expect: { kind: 'fail', before: repliesOf(c.expectedBefore), code: c.expectedCode },
  };
}

function valid(family: Family, variant: string, o: CaseOptions, maxMessageLength = 300): fc.Arbitrary<Case> {
  const sender: Role = o.receiver === 'server' ? 'client' : 'server';
  return fc
    .tuple(validStream({ sender, maxMessageLength, maxMessages: 6 }), keyArb(o.receiver))
    .map(([s, key]) =>
      echoCase(
        family,
        variant,
        `${s.frames.length} frames: ${s.expected.map((e) => e.type).join(', ') || 'nothing'}`,
        s.bytes,
        repliesOf(s.expected),
        key,
      ),
    );
}

function invalid(
  family: Family,
  o: CaseOptions,
  families: readonly InvalidFamily[],
  filter: (c: InvalidCase) => boolean = () => true,
): fc.Arbitrary<Case> {
  return invalidInput({ receiver: o.receiver, families })
    .filter(filter)
    .map((c) => fromInvalid(family, c));
}

/** One data message of `size` bytes in a single frame: 7-, 16- or 64-bit length forms. */
function sized(
  o: CaseOptions,
  family: Family,
  variant: string,
  size: fc.Arbitrary<number>,
  lengthEncoding: FrameSpec['lengthEncoding'] = 'minimal',
): fc.Arbitrary<Case> {
  return fc
    .tuple(size, fc.boolean(), fc.integer({ min: 0, max: 255 }), keyArb(o.receiver), keyArb(o.receiver))
    .map(([n, isText, fill, key, closeKey]) => {
      // Text is ASCII so every size is valid UTF-8; binary gets a varying fill.
      const payload = isText
        ? new Uint8Array(n).fill(0x61 + (fill % 26))
        : Uint8Array.from({ length: n }, (_, i) => (fill + i) & 0xff);
      const frame = encodeFrame({
        fin: true,
        rsv: 0,
        opcode: isText ? Op.Text : Op.Binary,
        payload,
        maskKey: key,
        lengthEncoding,
      });
      const reply: Reply = isText
        ? { type: 'text', data: new TextDecoder().decode(payload) }
        : { type: 'binary', data: payload };
      return echoCase(
        family,
        variant,
        `a ${n}-byte ${isText ? 'text' : 'binary'} message, ${lengthEncoding} length`,
        frame,
        [reply],
        closeKey,
      );
    });
}

function framing(o: CaseOptions): fc.Arbitrary<Case> {
  // Sizes stay within the receiver's limit; 64-bit lengths need a limit of at least 64 KiB.
  const cap = o.maxMessageSize ?? Number.POSITIVE_INFINITY;
  const upTo = (min: number, max: number) =>
    fc.oneof(fc.constantFrom(min, Math.min(max, cap)), fc.integer({ min, max: Math.min(max, cap) }));
  return fc.oneof(
    valid('framing', 'framing/stream', o),
    sized(o, 'framing', 'framing/length-7', fc.integer({ min: 0, max: 125 })),
    ...(cap >= 126 ? [sized(o, 'framing', 'framing/length-16', upTo(126, 0xffff))] : []),
    ...(cap >= 0x10000 ? [sized(o, 'framing', 'framing/length-64', upTo(0x10000, 0x14000))] : []),
    // A non-minimal length is the sender's "MUST" (§5.2): receivers may accept or reject it.
    sized(o, 'framing', 'framing/non-minimal-length', fc.integer({ min: 0, max: 125 }), '64').map(
      (c): Case => ({
        ...c,
        expect: {
          kind: 'policy',
          accept: c.expect as Expectation & { kind: 'echo' },
          reject: { kind: 'fail', before: [], code: 1002 },
        },
      }),
    ),
    invalid('framing', o, ['masking', 'length'], (c) => c.maxMessageSize === undefined),
  );
}

function pingPong(o: CaseOptions): fc.Arbitrary<Case> {
  const control = fc.tuple(
    fc.constantFrom(Op.Ping, Op.Pong),
    fc.oneof(fc.constantFrom(0, 1, 124, 125), fc.integer({ min: 0, max: 125 })),
    fc.integer({ min: 0, max: 255 }),
    keyArb(o.receiver),
  );
  return fc.oneof(
    fc.tuple(fc.array(control, { minLength: 1, maxLength: 6 }), keyArb(o.receiver)).map(([frames, closeKey]) => {
      const replies: Reply[] = [];
      const bytes = frames.map(([opcode, n, fill, key]) => {
        const payload = Uint8Array.from({ length: n }, (_, i) => (fill * 7 + i) & 0xff);
        if (opcode === Op.Ping) replies.push({ type: 'pong', data: payload });
        return encodeFrame({ fin: true, rsv: 0, opcode, payload, maskKey: key });
      });
      const sizes = frames.map(([opcode, n]) => `${opcode === Op.Ping ? 'ping' : 'pong'}(${n})`).join(' ');
      return echoCase('ping-pong', 'ping-pong/controls', sizes, concat(bytes), replies, closeKey);
    }),
    valid('ping-pong', 'ping-pong/stream', o, 40),
    invalid('ping-pong', o, ['control-size', 'control-fragmented']),
  );
}

/** Text cut into fragments at arbitrary byte offsets, splitting code points. */
function fragmentedText(o: CaseOptions): fc.Arbitrary<Case> {
  return fc
    .tuple(
      text({ maxLength: 80 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
      fc.array(keyArb(o.receiver), { minLength: 8, maxLength: 8 }),
    )
    .map(([s, cuts, keys]) => {
      const payload = utf8.encode(s);
      const points = [...new Set(cuts.map((c) => Math.floor(c * payload.length)))].sort((a, b) => a - b);
      const parts: Uint8Array[] = [];
      let at = 0;
      for (const p of points) {
        parts.push(payload.subarray(at, p));
        at = p;
      }
      parts.push(payload.subarray(at));
      const frames = parts.map((part, i) =>
        encodeFrame({
          fin: i === parts.length - 1,
          rsv: 0,
          opcode: i === 0 ? Op.Text : Op.Continuation,
          payload: part,
          maskKey: keys[i] ?? null,
        }),
      );
      return echoCase(
        'utf8',
        'utf8/valid-fragmented',
        `${s.length} UTF-16 units of text in ${parts.length} fragments`,
        concat(frames),
        [{ type: 'text', data: s }],
        keys[7] ?? null,
      );
    });
}

const badSequences: readonly (readonly number[])[] = [
  [0x80],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5],
  [0xff],
  [0xe2, 0x82, 0x41],
];

/**
 * Fail-fast: the first fragment already holds a byte sequence no continuation
 * can repair; the final fragment is held back, so only a receiver that
 * validates as fragments arrive closes (Autobahn 6.4.x "strict").
 */
function failFast(o: CaseOptions): fc.Arbitrary<Case> {
  return fc
    .tuple(text({ maxLength: 30 }), fc.constantFrom(...badSequences), keyArb(o.receiver), keyArb(o.receiver))
    .map(([before, bad, k1, k2]) => {
      const first = encodeFrame({
        fin: false,
        rsv: 0,
        opcode: Op.Text,
        payload: concat([utf8.encode(before), Uint8Array.from(bad)]),
        maskKey: k1,
      });
      const rest = encodeFrame({
        fin: true,
        rsv: 0,
        opcode: Op.Continuation,
        payload: utf8.encode('tail'),
        maskKey: k2,
      });
      return {
        family: 'utf8',
        variant: 'utf8/fail-fast',
        description: `invalid UTF-8 (${bad.map((b) => b.toString(16)).join(' ')}) in the first fragment; the final fragment is never sent`,
        build: () => ({ send: first, heldBack: rest }),
        expect: { kind: 'fail', before: [], code: 1007 },
      } satisfies Case;
    });
}

function utf8Family(o: CaseOptions): fc.Arbitrary<Case> {
  return fc.oneof(fragmentedText(o), invalid('utf8', o, ['utf8']), failFast(o));
}

/** Codes a receiver must accept, those it must reject, and 1012–1014 (registered after RFC 6455). */
const policyCodes = [1012, 1013, 1014] as const;
function acceptedCode(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999),
    fc.integer({ min: 3000, max: 4999 }),
  );
}
function rejectedCode(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 0xffff),
    fc.integer({ min: 0, max: 999 }),
    fc.integer({ min: 1016, max: 2999 }),
    fc.integer({ min: 5000, max: 0xffff }),
  );
}

function closeFamily(o: CaseOptions): fc.Arbitrary<Case> {
  const reason = fc
    .oneof(fc.constant(''), text({ maxLength: 40 }))
    .map((s) => utf8.encode(s))
    .filter((b) => b.length <= 123);
  const frame = (payload: Uint8Array, key: Uint8Array | null) =>
    encodeFrame({ fin: true, rsv: 0, opcode: Op.Close, payload, maskKey: key });
  return fc.oneof(
    fc
      .tuple(valid('close', 'close/valid', o, 30), acceptedCode(), reason, keyArb(o.receiver))
      .map(([prefix, code, why, key]) => {
        if (prefix.expect.kind !== 'echo') throw new Error('unreachable');
        // Replace the prefix's closing 1000 with the code under test.
        const body = prefix.build({ deflate: undefined }).send;
        const withoutClose = body.subarray(0, body.length - (o.receiver === 'server' ? 8 : 4));
        const send = concat([withoutClose, frame(closeBody(code, why), key)]);
        return {
          family: 'close',
          variant: 'close/valid-code',
          description: `close ${code} with a ${why.length}-byte reason after ${prefix.description}`,
          build: () => ({ send }),
          expect: { kind: 'echo', replies: prefix.expect.replies, closeCodes: [code, 1000], strictCode: code },
        } satisfies Case;
      }),
    keyArb(o.receiver).map(
      (key): Case => ({
        family: 'close',
        variant: 'close/empty',
        description: 'a close frame without a body',
        build: () => ({ send: frame(new Uint8Array(0), key) }),
        // 1005 may not be sent: the reply is empty, or 1000 (§7.4.1).
        expect: { kind: 'echo', replies: [], closeCodes: [null, 1000], strictCode: null },
      }),
    ),
    fc.tuple(fc.constantFrom(...policyCodes), keyArb(o.receiver)).map(([code, key]): Case => {
      const send = frame(closeBody(code), key);
      return {
        family: 'close',
        variant: 'close/registry-code',
        description: `close ${code} (in the IANA registry, not in RFC 6455)`,
        build: () => ({ send }),
        expect: {
          kind: 'policy',
          accept: { kind: 'echo', replies: [], closeCodes: [code, 1000], strictCode: code },
          reject: { kind: 'fail', before: [], code: 1002 },
        },
      };
    }),
    fc.tuple(rejectedCode(), keyArb(o.receiver)).map(([code, key]): Case => {
      const send = frame(closeBody(code), key);
      return {
        family: 'close',
        variant: 'close/invalid-code',
        description: `close ${code}, which may not be on the wire`,
        build: () => ({ send }),
        expect: { kind: 'fail', before: [], code: 1002 },
      };
    }),
    fc
      .tuple(text({ maxLength: 20 }), fc.constantFrom(...badSequences), keyArb(o.receiver))
      .map(([s, bad, key]): Case => {
        const send = frame(closeBody(1000, concat([utf8.encode(s), Uint8Array.from(bad)]).subarray(0, 123)), key);
        return {
          family: 'close',
          variant: 'close/invalid-reason',
          description: `close 1000 with invalid UTF-8 (${bad.map((b) => b.toString(16)).join(' ')}) in the reason`,
          build: () => ({ send }),
          expect: { kind: 'fail', before: [], code: 1007 },
        };
      }),
    invalid('close', o, ['close-payload']),
  );
}

/** The arbitrary of one family, or undefined when it cannot apply with these options. */
export function familyCases(family: Family, o: CaseOptions): fc.Arbitrary<Case> | undefined {
  switch (family) {
    case 'framing':
      return framing(o);
    case 'ping-pong':
      return pingPong(o);
    case 'reserved':
      return invalid('reserved', o, ['opcode', 'rsv']);
    case 'fragmentation':
      return fc.oneof(valid('fragmentation', 'fragmentation/stream', o), invalid('fragmentation', o, ['continuation']));
    case 'utf8':
      return utf8Family(o);
    case 'limits':
      // Floods need no limit and are run by the roles themselves (flood-cases.ts); these are the size cases.
      return o.maxMessageSize === undefined
        ? undefined
        : limitCases({ receiver: o.receiver, maxMessageSize: o.maxMessageSize, maxFrameSize: o.maxFrameSize });
    case 'close':
      return closeFamily(o);
    case 'deflate':
      return deflateCases(o.receiver);
    case 'handshake':
      // Opening handshakes are not frame cases: the server suite runs them itself (handshake-cases.ts).
      return undefined;
  }
}
