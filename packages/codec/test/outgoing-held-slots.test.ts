/**
 * The outgoing queue's held slots (messages compressed off the thread):
 * bytes leave in the order they were queued whichever slot is filled first,
 * `bufferedAmount` counts a slot at its estimate until it is filled, and a
 * truncation (a failed compression) drops what followed, even if a slot it
 * dropped is filled afterwards.
 */
import { describe, expect, it } from 'vitest';
import { OutgoingQueue } from '../src/outgoing.js';

const bytes = (...xs: number[]) => new Uint8Array(xs);
const flat = (parts: Uint8Array[]) => parts.flatMap((p) => [...p]);

describe('held slots in the outgoing queue', () => {
  it('releases bytes in queue order when slots are filled out of order', () => {
    const q = new OutgoingQueue();
    q.pushBuffer(bytes(1));
    const a = q.hold(10);
    q.pushBuffer(bytes(2));
    const b = q.hold(20);
    q.pushBuffer(bytes(3));
    expect(q.bufferedAmount).toBe(1 + 10 + 1 + 20 + 1);
    expect(flat(q.take())).toEqual([1]);
    q.fill(b, [bytes(20, 21)]);
    expect(q.take()).toEqual([]);
    expect(q.bufferedAmount).toBe(10 + 1 + 2 + 1);
    q.fill(a, [bytes(10)]);
    expect(q.pending).toBe(false);
    expect(flat(q.take())).toEqual([10, 2, 20, 21, 3]);
    expect(q.bufferedAmount).toBe(0);
  });

  it('a truncated slot filled later changes nothing', () => {
    const q = new OutgoingQueue();
    const a = q.hold(10);
    const b = q.hold(20);
    q.pushBuffer(bytes(5, 5));
    const c = q.hold(30);
    q.truncate(b, [bytes(0x88, 0)]);
    expect(q.bufferedAmount).toBe(10 + 2);
    expect(q.pendingAmount).toBe(12);
    q.fill(c, [bytes(9, 9, 9)]);
    expect(q.bufferedAmount).toBe(10 + 2);
    q.fill(a, [bytes(1)]);
    expect(flat(q.take())).toEqual([1, 0x88, 0]);
    expect(q.bufferedAmount).toBe(0);
    expect(q.pending).toBe(false);
  });
});
