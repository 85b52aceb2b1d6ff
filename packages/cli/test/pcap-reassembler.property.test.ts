/**
 * The TCP reassembler: whatever order the capture holds a stream's segments
 * in, duplicated or overlapping, the bytes come out as they were sent; and
 * when segments are missing, the gaps reported are exactly the missing
 * ranges, the rest delivered around them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ReassemblyEvent, TcpReassembler } from '../src/pcap/tcp-reassembler.js';

/** A stream cut into segments at the given points, starting from an initial sequence number. */
const streamAndCuts = fc
  .record({
    bytes: fc.uint8Array({ minLength: 1, maxLength: 3000 }),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 2999 }), { maxLength: 40 }),
    // Near 2^32 so that sequence numbers wrap inside many runs.
    isn: fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0xffff_f000, max: 0xffff_ffff })),
  })
  .map(({ bytes, cuts, isn }) => {
    const points = [0, ...cuts.filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length];
    const segments = points.slice(1).map((end, i) => ({ start: points[i] as number, end }));
    return { bytes, segments, isn };
  });

function collect(
  events: readonly ReassemblyEvent[],
  into: { data: number[]; gaps: [number, number][] },
  offsetCheck: { next: number },
) {
  for (const ev of events) {
    if (ev.type === 'data') {
      // Delivered bytes are contiguous: each chunk starts where the last one (or a gap) ended.
      expect(ev.offset).toBe(offsetCheck.next);
      into.data.push(...ev.bytes);
      offsetCheck.next += ev.bytes.length;
    } else if (ev.type === 'gap') {
      expect(ev.offset).toBe(offsetCheck.next);
      into.gaps.push([ev.offset, ev.offset + ev.length]);
      offsetCheck.next += ev.length;
    }
  }
}

describe('TcpReassembler', () => {
  it('puts any permutation, with duplicates and overlaps, back into the bytes sent', () => {
    fc.assert(
      fc.property(
        streamAndCuts.chain((s) =>
          fc.record({
            s: fc.constant(s),
            // Each segment sent once or more, some widened to overlap their neighbours, in any order.
            order: fc.shuffledSubarray(
              s.segments.flatMap((seg, i) => [
                { ...seg, copy: 0, i },
                { start: Math.max(0, seg.start - 7), end: Math.min(s.bytes.length, seg.end + 5), copy: 1, i },
                { ...seg, copy: 2, i },
              ]),
              { minLength: s.segments.length * 3, maxLength: s.segments.length * 3 },
            ),
            keepCopies: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
          }),
        ),
        ({ s, order, keepCopies }) => {
          const r = new TcpReassembler();
          r.syn((s.isn - 1) >>> 0);
          // Copy 0 of every segment always arrives; the others are duplicates, kept or not.
          const sent = order.filter((seg) => seg.copy === 0 || keepCopies[seg.copy]);
          const out = { data: [] as number[], gaps: [] as [number, number][] };
          const check = { next: 0 };
          for (const seg of sent)
            collect(r.segment((s.isn + seg.start) >>> 0, s.bytes.subarray(seg.start, seg.end)), out, check);
          collect(r.end(), out, check);
          expect(out.gaps).toEqual([]);
          expect(Uint8Array.from(out.data)).toEqual(s.bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports exactly the missing ranges as gaps and delivers everything else', () => {
    fc.assert(
      fc.property(
        streamAndCuts.chain((s) =>
          fc.record({
            s: fc.constant(s),
            missing: fc.array(fc.boolean(), { minLength: s.segments.length, maxLength: s.segments.length }),
            order: fc.shuffledSubarray(
              s.segments.map((_, i) => i),
              { minLength: s.segments.length, maxLength: s.segments.length },
            ),
          }),
        ),
        ({ s, missing, order }) => {
          const r = new TcpReassembler();
          r.syn((s.isn - 1) >>> 0);
          const out = { data: [] as number[], gaps: [] as [number, number][] };
          const check = { next: 0 };
          for (const i of order) {
            if (missing[i]) continue;
            const seg = s.segments[i] as { start: number; end: number };
            collect(r.segment((s.isn + seg.start) >>> 0, s.bytes.subarray(seg.start, seg.end)), out, check);
          }
          collect(r.end(), out, check);
          // Expected gaps: runs of missing segments, merged. A hole at the very end is invisible
          // (nothing after it says the stream went on), so it is not expected.
          const expected: [number, number][] = [];
          let lastPresent = -1;
          s.segments.forEach((_, i) => {
            if (!missing[i]) lastPresent = i;
          });
          s.segments.forEach((seg, i) => {
            if (!missing[i] || i > lastPresent) return;
            const prev = expected[expected.length - 1];
            if (prev !== undefined && prev[1] === seg.start) prev[1] = seg.end;
            else expected.push([seg.start, seg.end]);
          });
          expect(out.gaps).toEqual(expected);
          const present = s.segments
            .filter((_, i) => !missing[i] && i <= lastPresent)
            .flatMap((seg) => [...s.bytes.subarray(seg.start, seg.end)]);
          expect(out.data).toEqual(present);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('skips a hole as soon as the receiver acknowledged past it', () => {
    const r = new TcpReassembler();
    r.syn(999);
    const first = r.segment(1000, new Uint8Array(10).fill(1));
    expect(first.map((e) => e.type)).toEqual(['data']);
    expect(r.segment(1020, new Uint8Array(10).fill(3)).map((e) => e.type)).toEqual(['out-of-order']);
    // An acknowledgement short of the held segment proves nothing yet.
    expect(r.acknowledged(1015)).toEqual([]);
    const events = r.acknowledged(1030);
    expect(events).toEqual([
      { type: 'gap', offset: 10, length: 10, reason: 'the receiver acknowledged bytes the capture does not hold' },
      { type: 'data', offset: 20, bytes: new Uint8Array(10).fill(3) },
    ]);
  });
});
