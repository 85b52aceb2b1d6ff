/**
 * The judge reads close codes with its own table and inflates with node:zlib,
 * not with the codec it also judges. These tests pin the table to RFC 6455
 * §7.4 and the IANA registry, make every difference from the codec's policy
 * visible, and check that the inflater keeps the RFC 7692 agreement (context
 * takeover, window bits) instead of trusting the peer.
 */
import { isValidWireCloseCode, type PerMessageDeflateParams, pakoBackend } from '@rfc6455/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODE_TABLE, closeCodeRange, mayBeOnTheWire } from '../src/close-code-table.js';
import { messageInflater } from '../src/inflate.js';
import { readFrames } from '../src/judge.js';
import { closeBody, concat, Op, type WireFrame } from '../src/wire.js';

/**
 * Codes on which the judge and the codec may disagree, with the reason. Empty:
 * the codec's policy (1000–1003, 1007–1014, 3000–4999) is the table's.
 */
const DOCUMENTED_DIVERGENCES: ReadonlyMap<number, string> = new Map();

describe('close-code table', () => {
  it('covers every code 0–65535 exactly once, in order', () => {
    let next = 0;
    for (const r of CLOSE_CODE_TABLE) {
      expect(r.from, r.source).toBe(next);
      expect(r.to).toBeGreaterThanOrEqual(r.from);
      next = r.to + 1;
    }
    expect(next).toBe(0x10000);
  });

  it('says what RFC 6455 §7.4 and the IANA registry say', () => {
    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999])
      expect(closeCodeRange(code)?.status, String(code)).toBe('valid');
    for (const code of [1012, 1013, 1014]) expect(closeCodeRange(code)?.status, String(code)).toBe('registered-later');
    for (const code of [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 0xffff])
      expect(closeCodeRange(code)?.status, String(code)).toBe('invalid');
  });

  it('agrees with the codec on every code 0–65535 except where documented', () => {
    const divergences: number[] = [];
    for (let code = 0; code <= 0xffff; code++)
      if (mayBeOnTheWire(code) !== isValidWireCloseCode(code)) divergences.push(code);
    expect(divergences).toEqual([...DOCUMENTED_DIVERGENCES.keys()]);
  });

  it('the judge uses it: a close frame with a code the table refuses is a violation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (code) => {
        const got = readFrames(
          [{ fin: true, rsv: 0, opcode: Op.Close, masked: true, payload: closeBody(code) }],
          'client',
          undefined,
        );
        if (mayBeOnTheWire(code))
          expect(got).toEqual({ replies: [], close: { code, reason: '' }, violation: undefined });
        else expect(got.violation).toBe(`close code ${code}, which may not be on the wire`);
      }),
      { examples: [[1005], [1012], [1015], [2999], [3000], [5000]] },
    );
  });
});

const encoder = new TextEncoder();

/** A peer's compressor: pako (the codec's backend) as a peer would use it, context kept unless `reset`. */
function compressor(windowBits: number, reset: boolean): (s: string) => Uint8Array {
  const d = pakoBackend.createDeflater({ windowBits, level: 6, memLevel: 8 });
  return (s) => {
    const out = d.compress(encoder.encode(s));
    if (reset) d.reset();
    return out.slice(0, out.length - 4);
  };
}

function params(p: Partial<PerMessageDeflateParams>): PerMessageDeflateParams {
  return {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    ...p,
  };
}

const compressedText = (payload: Uint8Array): WireFrame => ({
  fin: true,
  rsv: 0x40,
  opcode: Op.Text,
  masked: false,
  payload,
});

describe('inflater (node:zlib)', () => {
  it('reads what a peer compressed under the agreement, context kept or not, windows 9–15', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 9, max: 15 }),
        fc.boolean(),
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 300 }),
            fc
              .tuple(fc.constantFrom('abc', 'hello ', '{"k":1}'), fc.integer({ min: 1, max: 2000 }))
              .map(([s, n]) => s.repeat(n)),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        (bits, noTakeover, messages) => {
          const compress = compressor(bits, noTakeover);
          const frames = messages.map((m) => compressedText(compress(m)));
          const got = readFrames(
            frames,
            'server',
            params({ serverMaxWindowBits: bits, serverNoContextTakeover: noTakeover }),
          );
          expect(got.violation).toBeUndefined();
          expect(got.replies).toEqual(messages.map((data) => ({ type: 'text', data })));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('catches a peer that keeps its context after promising server_no_context_takeover', () => {
    const compress = compressor(15, false);
    const m = 'the same sentence, twice over. '.repeat(4);
    const frames = [compressedText(compress(m)), compressedText(compress(m))];
    expect(readFrames(frames, 'server', params({})).replies).toEqual([
      { type: 'text', data: m },
      { type: 'text', data: m },
    ]);
    expect(readFrames(frames, 'server', params({ serverNoContextTakeover: true })).violation).toBe(
      'compressed data that does not inflate: invalid distance too far back',
    );
  });

  it('catches a peer that uses a 15-bit window on a 9-bit agreement', () => {
    // A run repeated 20 000 bytes later: only a window over 2^14 can refer back to it. Letters from an LCG, so nothing nearer matches it.
    let seed = 12345;
    const letters = (n: number) =>
      Array.from({ length: n }, () =>
        String.fromCharCode(0x61 + (((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % 26)),
      ).join('');
    const start = letters(200);
    const noise = letters(20_000);
    const m = start + noise + start;
    const payload = compressor(15, false)(m);
    expect(readFrames([compressedText(payload)], 'server', params({ serverMaxWindowBits: 15 })).replies).toEqual([
      { type: 'text', data: m },
    ]);
    expect(readFrames([compressedText(payload)], 'server', params({ serverMaxWindowBits: 9 })).violation).toBe(
      'compressed data that does not inflate: invalid distance too far back',
    );
  });

  it('fails data with the reserved block type and caps the output', () => {
    const inflate = messageInflater({ windowBits: 15, takeover: true, maxOutput: 1000 });
    expect(inflate(Uint8Array.of(0x07, 1, 2, 3))).toBe('compressed data that does not inflate: invalid block type');
    const bomb = compressor(15, false)('a'.repeat(5000));
    expect(inflate(bomb)).toMatch(/^compressed data that does not inflate: /);
    expect(messageInflater({ windowBits: 15, takeover: true })(concat([bomb]))).toEqual(
      encoder.encode('a'.repeat(5000)),
    );
  });
});
