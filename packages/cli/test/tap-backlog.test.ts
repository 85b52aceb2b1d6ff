// The demo's record backlog holds at most its byte cap, whatever is added:
// the newest records, in order, each bytes record cut to maxRecordBytes with
// its full length noted.
import { UsageError } from '@rfc6455/codec';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { TapBacklog } from '../src/tap-backlog.js';
import type { TapMessage } from '../src/tap-message.js';

const message: fc.Arbitrary<{ message: TapMessage; payload: Uint8Array | null }> = fc.oneof(
  fc
    .record({ conn: fc.nat(), t: fc.nat(), remote: fc.oneof(fc.ipV4(), fc.ipV6()) })
    .map((m) => ({ message: { type: 'open' as const, ...m }, payload: null })),
  fc
    .record({ conn: fc.nat(), t: fc.nat(), from: fc.constantFrom('client' as const, 'server' as const) })
    .map((m) => ({ message: { type: 'end' as const, ...m }, payload: null })),
  fc
    .record({
      conn: fc.nat(),
      t: fc.nat(),
      from: fc.constantFrom('client' as const, 'server' as const),
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ minLength: 1000, maxLength: 9000 }),
        fc.integer({ min: 0, max: 70_000 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
      ),
    })
    .map(({ payload, ...m }) => ({
      message: { type: 'bytes' as const, ...m, base64: Buffer.from(payload).toString('base64') },
      payload,
    })),
);

describe('TapBacklog', () => {
  test('never holds more than maxBytes, keeps the newest records in order, cuts large payloads noting their length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8192 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(message, { maxLength: 120 }),
        (maxRecordBytes, slack, added) => {
          // Room for one record of maxRecordBytes (base64 is 4/3 of it) and its fields, plus any slack.
          const maxBytes = 400 + 2 * maxRecordBytes + slack;
          const backlog = new TapBacklog({ maxBytes, maxRecordBytes });
          const all: Array<{ message: TapMessage; payload: Uint8Array | null }> = [];
          for (const item of added) {
            backlog.add(item.message);
            all.push(item);
            const kept = [...backlog.from(0)];
            const size = kept.reduce((sum, e) => sum + Buffer.byteLength(e.json), 0);
            expect(backlog.bytes).toBe(size);
            expect(size).toBeLessThanOrEqual(maxBytes);
            // The newest always fits (its payload is cut to maxRecordBytes).
            expect(kept.at(-1)?.seq).toBe(all.length - 1);
            // A suffix of what was added, in order, with nothing missing in between.
            for (const [i, e] of kept.entries()) expect(e.seq).toBe(all.length - kept.length + i);
            expect(backlog.start).toBe(all.length - kept.length);
          }
          for (const entry of backlog.from(0)) {
            const original = all[entry.seq] as (typeof all)[number];
            const stored = JSON.parse(entry.json) as TapMessage;
            if (original.payload === null || stored.type !== 'bytes') {
              expect(stored).toEqual(original.message);
              continue;
            }
            const bytes = Buffer.from(stored.base64, 'base64');
            if (original.payload.length <= maxRecordBytes) {
              expect(stored).toEqual(original.message);
            } else {
              expect(stored.length).toBe(original.payload.length);
              expect(bytes.equals(Buffer.from(original.payload.subarray(0, maxRecordBytes)))).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a reader that fell behind resumes at the oldest record kept', () => {
    const backlog = new TapBacklog({ maxBytes: 1000, maxRecordBytes: 100 });
    for (let i = 0; i < 50; i++) backlog.add({ type: 'end', conn: i, t: i, from: 'client' });
    expect(backlog.start).toBeGreaterThan(0);
    expect([...backlog.from(0)][0]?.seq).toBe(backlog.start);
    expect([...backlog.from(backlog.end)]).toEqual([]);
  });

  test('caps too small for one record, and non-integer limits, are a typed error', () => {
    for (const options of [
      { maxBytes: 10, maxRecordBytes: 0 },
      { maxBytes: 1000, maxRecordBytes: 4096 },
      { maxBytes: 1e6, maxRecordBytes: -1 },
      { maxBytes: 1e6, maxRecordBytes: 1.5 },
      { maxBytes: Number.NaN, maxRecordBytes: 10 },
    ]) {
      expect(() => new TapBacklog(options)).toThrow(UsageError);
    }
  });
});
