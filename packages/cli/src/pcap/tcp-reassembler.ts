/**
 * One direction of a TCP connection, put back in order from the segments a
 * capture holds: duplicates (retransmissions) dropped, early segments held
 * until the bytes before them arrive, and holes the capture will never fill
 * reported as gaps, never papered over.
 *
 * A hole is declared a gap, and skipped, when the capture proves the bytes
 * will not come: the receiver acknowledged past it (the capture missed them),
 * the capture's snaplen cut them off, more than `maxBuffered` bytes wait
 * behind it, or the capture ended.
 */

export type ReassemblyEvent =
  /** In-order bytes at this stream offset (0: the first byte after the SYN, or the first byte seen). */
  | { readonly type: 'data'; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly type: 'gap'; readonly offset: number; readonly length: number; readonly reason: string }
  /** Bytes already delivered arrived again (a retransmission or a duplicated packet). */
  | { readonly type: 'retransmission'; readonly offset: number; readonly length: number }
  /** A segment arrived ahead of bytes still missing; it is held. */
  | { readonly type: 'out-of-order'; readonly offset: number; readonly length: number };

export interface ReassemblerOptions {
  /** Bytes held behind a hole before it is declared a gap (default 4 MiB). */
  readonly maxBuffered?: number;
}

const TWO_32 = 2 ** 32;

interface Held {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export class TcpReassembler {
  /** Sequence number of stream offset 0, once known. */
  private base: number | null = null;
  /** Whether the stream's start is known (a SYN was seen). */
  private startKnown = false;
  /** The next stream offset to deliver. */
  private next = 0;
  private held: Held[] = [];
  private heldBytes = 0;
  private readonly maxBuffered: number;
  /** Highest offset the receiver acknowledged. */
  private acked = 0;
  /** Ranges the capture is known not to hold (cut by the snaplen), ahead of the delivery point. */
  private lost: { readonly start: number; readonly end: number }[] = [];

  constructor(options: ReassemblerOptions = {}) {
    this.maxBuffered = options.maxBuffered ?? 4 * 1024 * 1024;
  }

  /** True when the stream is followed from its SYN; false when the capture began mid-connection. */
  get fromStart(): boolean {
    return this.startKnown;
  }

  /** Stream offset of the next byte to be delivered. */
  get position(): number {
    return this.next;
  }

  /** A SYN from this direction: its sequence number precedes the stream's first byte. */
  syn(seq: number): void {
    if (this.base !== null) return;
    this.base = (seq + 1) % TWO_32;
    this.startKnown = true;
  }

  /**
   * A segment from this direction. `wireLength` is the payload's length on
   * the wire when the capture holds less of it (snaplen).
   */
  segment(seq: number, payload: Uint8Array, wireLength = payload.length): ReassemblyEvent[] {
    if (wireLength === 0) return [];
    if (this.base === null) this.base = seq;
    const offset = this.unwrap(seq);
    const out: ReassemblyEvent[] = [];
    if (wireLength > payload.length && offset + wireLength > this.next) {
      this.lost.push({ start: offset + payload.length, end: offset + wireLength });
      // Bounded: only ranges ahead of the delivery point matter.
      if (this.lost.length > 64) this.lost.shift();
    }
    if (payload.length > 0) this.accept(offset, payload, out);
    this.settle(out);
    return out;
  }

  /** The other direction acknowledged up to `ack` (an ACK flag's number). */
  acknowledged(ack: number): ReassemblyEvent[] {
    if (this.base === null) return [];
    const offset = this.unwrap(ack);
    if (offset <= this.acked) return [];
    this.acked = offset;
    const out: ReassemblyEvent[] = [];
    this.settle(out);
    return out;
  }

  /** The capture ended (or the connection did): every hole left is a gap. */
  end(reason = 'the capture ended'): ReassemblyEvent[] {
    const out: ReassemblyEvent[] = [];
    while (this.held.length > 0) {
      this.skipTo((this.held[0] as Held).offset, reason, out);
      this.drain(out);
    }
    const last = this.lost.reduce((end, r) => Math.max(end, r.end), 0);
    if (last > this.next) this.skipTo(last, "the capture's snaplen cut these bytes off", out);
    this.lost = [];
    return out;
  }

  /** Stream offset of a sequence number of this direction. */
  offsetOf(seq: number): number {
    if (this.base === null) this.base = seq;
    return this.unwrap(seq);
  }

  /** Stream offset of a sequence number: the one nearest the delivery point, across wraps. */
  private unwrap(seq: number): number {
    const rel = (seq - (this.base as number) + TWO_32) % TWO_32;
    let delta = (rel - (this.next % TWO_32) + TWO_32) % TWO_32;
    if (delta >= 2 ** 31) delta -= TWO_32;
    return this.next + delta;
  }

  private accept(offset: number, payload: Uint8Array, out: ReassemblyEvent[]): void {
    const end = offset + payload.length;
    if (end <= this.next) {
      out.push({ type: 'retransmission', offset, length: payload.length });
      return;
    }
    if (offset <= this.next) {
      if (offset < this.next) out.push({ type: 'retransmission', offset, length: this.next - offset });
      this.deliver(payload.subarray(this.next - offset), out);
      this.drain(out);
      return;
    }
    // Ahead of a hole: held, unless these bytes are held already.
    if (this.held.some((h) => h.offset <= offset && h.offset + h.bytes.length >= end)) {
      out.push({ type: 'retransmission', offset, length: payload.length });
      return;
    }
    out.push({ type: 'out-of-order', offset, length: payload.length });
    const copy = payload.slice();
    let at = this.held.findIndex((h) => h.offset > offset);
    if (at === -1) at = this.held.length;
    this.held.splice(at, 0, { offset, bytes: copy });
    this.heldBytes += copy.length;
  }

  private deliver(bytes: Uint8Array, out: ReassemblyEvent[]): void {
    if (bytes.length === 0) return;
    out.push({ type: 'data', offset: this.next, bytes });
    this.next += bytes.length;
  }

  /** Delivers held segments that now continue the stream. */
  private drain(out: ReassemblyEvent[]): void {
    while (this.held.length > 0) {
      const first = this.held[0] as Held;
      if (first.offset > this.next) return;
      this.held.shift();
      this.heldBytes -= first.bytes.length;
      const end = first.offset + first.bytes.length;
      if (end > this.next) this.deliver(first.bytes.subarray(this.next - first.offset), out);
    }
  }

  /** Skips holes the capture proves will not be filled. */
  private settle(out: ReassemblyEvent[]): void {
    for (;;) {
      const first = this.held[0];
      if (first === undefined) return;
      this.lost = this.lost.filter((r) => r.end > this.next);
      if (this.lost.some((r) => r.start <= this.next)) {
        this.skipTo(first.offset, "the capture's snaplen cut these bytes off", out);
      } else if (this.acked >= first.offset) {
        this.skipTo(first.offset, 'the receiver acknowledged bytes the capture does not hold', out);
      } else if (this.heldBytes > this.maxBuffered) {
        this.skipTo(
          first.offset,
          `more than ${this.maxBuffered} bytes arrived after a hole that was never filled`,
          out,
        );
      } else return;
      this.drain(out);
    }
  }

  private skipTo(offset: number, reason: string, out: ReassemblyEvent[]): void {
    if (offset <= this.next) return;
    out.push({ type: 'gap', offset: this.next, length: offset - this.next, reason });
    this.next = offset;
  }
}
