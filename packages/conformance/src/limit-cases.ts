/**
 * Messages, frames and fragments at and over the receiver's configured limits
 * (the suite is told them: `maxMessageSize`, and `maxFrameSize` when frames
 * have a smaller limit of their own). At the limit the message must be
 * delivered (echoed); one byte over, it must be refused with 1009 (RFC 6455
 * §7.4.1 "a message that is too big for it to process").
 *
 * Bytes are built only when a case runs: a client's limit may be tens of
 * MiB, and the fuzzing server samples all its cases up front.
 */
import type { Role } from '@rfc6455/codec';
import { encodeFrame } from '@rfc6455/codec/testing';
import fc from 'fast-check';
import type { Case, Reply } from './case.js';
import { closeBody, concat, Op } from './wire.js';

export interface LimitOptions {
  readonly receiver: Role;
  /** The receiver's largest message. */
  readonly maxMessageSize: number;
  /** The receiver's largest frame payload (default `maxMessageSize`). */
  readonly maxFrameSize?: number;
}

/** Deterministic stand-in for a masking key: the receiver cannot tell, and cases replay from their seed. */
function keys(receiver: Role, seed: number): () => Uint8Array | null {
  let n = seed >>> 0;
  return () => {
    if (receiver === 'client') return null;
    n = (Math.imul(n, 1103515245) + 12345) >>> 0;
    return Uint8Array.of(n >>> 24, n >>> 16, n >>> 8, n);
  };
}

interface Plan {
  readonly isText: boolean;
  /** Fragment sizes, in order; their sum is the message size. */
  readonly sizes: readonly number[];
  readonly seed: number;
}

function payloadOf(isText: boolean, n: number, seed: number): Uint8Array {
  // Text is ASCII so any cut stays valid UTF-8; binary gets a varying fill.
  if (isText) return new Uint8Array(n).fill(0x61 + (seed % 26));
  // A 256-byte period, doubled into place: limits reach tens of MiB, too many for a per-byte callback.
  const out = new Uint8Array(n);
  for (let i = 0; i < Math.min(n, 256); i++) out[i] = (seed + i * 31) & 0xff;
  for (let have = 256; have < n; have *= 2) out.copyWithin(have, 0, Math.min(have, n - have));
  return out;
}

/** The frames of one message cut into `sizes`, then (for an echo case) the closing frame. */
function messageBytes(p: Plan, receiver: Role, withClose: boolean): Uint8Array {
  const total = p.sizes.reduce((a, b) => a + b, 0);
  const payload = payloadOf(p.isText, total, p.seed);
  const key = keys(receiver, p.seed);
  const frames: Uint8Array[] = [];
  let at = 0;
  p.sizes.forEach((size, i) => {
    const opcode = i === 0 ? (p.isText ? Op.Text : Op.Binary) : Op.Continuation;
    frames.push(
      encodeFrame({
        fin: i === p.sizes.length - 1,
        rsv: 0,
        opcode,
        payload: payload.subarray(at, at + size),
        maskKey: key(),
      }),
    );
    at += size;
  });
  if (withClose)
    frames.push(encodeFrame({ fin: true, rsv: 0, opcode: Op.Close, payload: closeBody(1000), maskKey: key() }));
  return concat(frames);
}

function echo(variant: string, description: string, p: Plan, receiver: Role): Case {
  const total = p.sizes.reduce((a, b) => a + b, 0);
  const reply = (): Reply =>
    p.isText
      ? { type: 'text', data: new TextDecoder().decode(payloadOf(true, total, p.seed)) }
      : { type: 'binary', data: payloadOf(false, total, p.seed) };
  return {
    family: 'limits',
    variant,
    description,
    build: () => ({ send: messageBytes(p, receiver, true) }),
    // Made when judged, not kept: a sampled plan of cases would otherwise hold a message of the limit's size each.
    expect: {
      kind: 'echo',
      get replies(): readonly Reply[] {
        return [reply()];
      },
      closeCodes: [1000],
      strictCode: 1000,
    },
  };
}

function tooBig(variant: string, description: string, p: Plan, receiver: Role): Case {
  return {
    family: 'limits',
    variant,
    description,
    build: () => ({ send: messageBytes(p, receiver, false) }),
    expect: { kind: 'fail', before: [], code: 1009 },
  };
}

/** `total` bytes cut into `count` fragments as even as possible. */
function even(total: number, count: number): number[] {
  const base = Math.floor(total / count);
  return Array.from({ length: count }, (_, i) => base + (i < total % count ? 1 : 0));
}

function describe(p: Plan, limit: string): string {
  const total = p.sizes.reduce((a, b) => a + b, 0);
  const shown = p.sizes.length <= 4 ? ` (${p.sizes.join(' + ')})` : '';
  return `a ${total}-byte ${p.isText ? 'text' : 'binary'} message in ${p.sizes.length} frame(s)${shown}, ${limit}`;
}

export function limitCases(o: LimitOptions): fc.Arbitrary<Case> {
  const max = o.maxMessageSize;
  const frameMax = Math.min(o.maxFrameSize ?? max, max);
  const limit = `limit ${max}${frameMax < max ? `, frames ${frameMax}` : ''}`;
  const seed = fc.integer({ min: 0, max: 0x7fffffff });
  // Fewest fragments that keep every frame within the frame limit.
  const least = (n: number) => Math.max(1, Math.ceil(n / frameMax));

  const atOrOver = (over: boolean) =>
    fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 }), seed).map(([isText, extra, s]) => {
      const n = over ? max + 1 : max;
      const p: Plan = { isText, sizes: even(n, least(n) + extra), seed: s };
      return over
        ? tooBig('limits/message-over', describe(p, limit), p, o.receiver)
        : echo('limits/message-at', describe(p, limit), p, o.receiver);
    });

  // Many small fragments: the limit counts the message, not the frame. Over: the last byte alone tips it.
  const manyFragments = (over: boolean) =>
    fc
      .tuple(fc.boolean(), fc.oneof(fc.constant(10_000), fc.integer({ min: 16, max: 2_000 })), seed)
      .map(([isText, count, s]) => {
        const sizes = even(max, Math.min(max, Math.max(count, least(max))));
        const p: Plan = { isText, sizes: over ? [...sizes, 1] : sizes, seed: s };
        return over
          ? tooBig('limits/many-fragments-over', describe(p, limit), p, o.receiver)
          : echo('limits/many-fragments', describe(p, limit), p, o.receiver);
      });

  // A header that declares more than the limit, with only a few payload bytes after it: the receiver
  // must refuse at the header instead of waiting for (or buffering) a payload it will never accept.
  const declared = fc
    .tuple(
      fc.constantFrom(frameMax + 1, max + 1, 2 * max + 1, 2 ** 31, 2 ** 32 + 1, 2 ** 40),
      fc.boolean(),
      fc.boolean(),
      seed,
    )
    .map(([length, isText, inContinuation, s]): Case => {
      const key = keys(o.receiver, s);
      // In a continuation: a first fragment of half the limit, then one declaring enough to pass it.
      const first = inContinuation ? Math.min(frameMax, Math.floor(max / 2)) : 0;
      const rest = inContinuation ? Math.max(length, max - first + 1) : length;
      const sent = Math.min(16, rest - 1);
      return {
        family: 'limits',
        variant: 'limits/over-declared',
        description: `${inContinuation ? `a ${first}-byte first fragment, then a continuation` : 'a frame'} whose header declares ${rest} bytes, ${sent} of them sent, ${limit}`,
        build: () => {
          const frames = inContinuation
            ? [
                encodeFrame({
                  fin: false,
                  rsv: 0,
                  opcode: isText ? Op.Text : Op.Binary,
                  payload: payloadOf(isText, first, s),
                  maskKey: key(),
                }),
              ]
            : [];
          const head = encodeFrame({
            fin: true,
            rsv: 0,
            opcode: inContinuation ? Op.Continuation : isText ? Op.Text : Op.Binary,
            payload: payloadOf(isText, sent, s),
            maskKey: key(),
            declaredLength: rest,
          });
          return { send: concat([...frames, head]) };
        },
        expect: { kind: 'fail', before: [], code: 1009 },
      };
    });

  const arbs: fc.Arbitrary<Case>[] = [
    atOrOver(false),
    atOrOver(true),
    manyFragments(false),
    manyFragments(true),
    declared,
  ];
  if (frameMax < max) {
    // A frame exactly at the frame limit, or one over it, inside a message within the message limit.
    arbs.push(
      fc
        .tuple(fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: Math.max(0, max - frameMax - 1) }), seed)
        .map(([over, isText, other, s]) => {
          const big = over ? frameMax + 1 : frameMax;
          const rest = Math.min(other, max - big);
          const p: Plan = { isText, sizes: rest > 0 ? [big, ...even(rest, least(rest))] : [big], seed: s };
          return over
            ? tooBig('limits/frame-over', describe(p, limit), p, o.receiver)
            : echo('limits/frame-at', describe(p, limit), p, o.receiver);
        }),
    );
  }
  return fc.oneof(...arbs);
}
