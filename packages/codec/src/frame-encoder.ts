/**
 * Frame encoder (RFC 6455 §5.2): minimal length encoding, masking with a fresh
 * key per frame on the client role.
 */
import { maskInto, maskIntoScratch, scratch } from './mask.js';
import { copyOf } from './byte-copy.js';
import { PRIVATE_THRESHOLD, type OutgoingQueue } from './outgoing.js';
import type { MaskKeyPool } from './random.js';

// Unmasked payloads at least this large are queued by reference instead of
// copied: past this size a copy costs more than the extra buffer in a writev.
const REFERENCE_THRESHOLD = 512;
// Payloads up to these sizes are masked or copied by an inline loop; past
// them a call costs less than the loop (measured on Node 20 / x64: set()
// costs what copying 12 bytes one at a time does, maskInto() what masking
// about 40 does).
const INLINE_MASK = 32;
const INLINE_COPY = 8;
// A string of at most this many UTF-16 units is at most 125 UTF-8 bytes.
const SHORT_STRING = 41;
// Masked payloads up to this size go through scratch memory whole; larger
// ones are masked in 64 KiB blocks straight into their frame's buffer: a
// whole megabyte copied in, XORed and copied out again runs through the
// cache three times, a block stays in it (measured ~1.3x faster at 1 MiB).
const SCRATCH_MASK_MAX = 65536;

const encoder = new TextEncoder();
const NO_KEY = new Uint8Array(0);

export class FrameEncoder {
  /** The current frame's masking key (also written into its header); only the client role has one. */
  private readonly key: Uint8Array;

  constructor(
    /** Where frames go: the connection's queue (a message writer points it elsewhere for a moment to fill a held slot). */
    protected out: OutgoingQueue,
    /** Present on the client role, which must mask every frame. */
    private readonly keys: MaskKeyPool | undefined,
  ) {
    this.key = keys === undefined ? NO_KEY : new Uint8Array(4);
  }

  /**
   * Queues one frame. `byte0` holds FIN, RSV and the opcode. When `owned` is
   * true the payload belongs to the encoder and may be masked in place and
   * queued by reference.
   */
  frame(byte0: number, payload: Uint8Array, owned: boolean): void {
    const n = payload.length;
    if (n < 126) {
      this.smallFrame(byte0, payload, n);
      return;
    }
    const out = this.out;
    const masked = this.keys !== undefined;
    if (n >= REFERENCE_THRESHOLD) {
      if (owned || !masked) {
        out.reserve(14);
        this.writeHeader(byte0, n);
        if (masked) maskInto(payload, payload, 0, this.key, 0);
        out.pushBuffer(payload as Uint8Array<ArrayBuffer>);
        return;
      }
      if (n > PRIVATE_THRESHOLD && this.maskedCopy(byte0, payload)) return;
    }
    out.reserve(14 + n);
    this.writeHeader(byte0, n);
    const at = out.pos;
    if (masked) maskInto(payload, out.buf, at, this.key, 0);
    else out.buf.set(payload, at);
    out.commit(at + n);
  }

  /**
   * A frame whose length fits the 7-bit field, the most common kind: written
   * into the slab in one short path (a frame or two per take() is what an
   * adapter answering each read does, so every call matters).
   */
  private smallFrame(byte0: number, payload: Uint8Array, n: number): void {
    const out = this.out;
    out.reserve(6 + n);
    const buf = out.buf;
    let p = out.pos;
    buf[p] = byte0;
    if (this.keys === undefined) {
      buf[p + 1] = n;
      p += 2;
      if (n > INLINE_COPY) buf.set(payload, p);
      else for (let i = 0; i < n; i++) buf[p + i] = payload[i] as number;
    } else {
      buf[p + 1] = n | 0x80;
      const key = this.nextKey(buf, p + 2);
      p += 6;
      if (n > INLINE_MASK) {
        maskInto(payload, buf, p, key, 0);
      } else {
        const k0 = key[0] as number;
        const k1 = key[1] as number;
        const k2 = key[2] as number;
        const k3 = key[3] as number;
        let i = 0;
        for (; i + 3 < n; i += 4) {
          buf[p + i] = (payload[i] as number) ^ k0;
          buf[p + i + 1] = (payload[i + 1] as number) ^ k1;
          buf[p + i + 2] = (payload[i + 2] as number) ^ k2;
          buf[p + i + 3] = (payload[i + 3] as number) ^ k3;
        }
        for (; i < n; i++) buf[p + i] = (payload[i] as number) ^ (key[i & 3] as number);
      }
    }
    out.commit(p + n);
  }

  /** Queues one frame whose payload is `text` as UTF-8. */
  text(byte0: number, text: string): void {
    if (text.length <= SHORT_STRING) {
      this.shortText(byte0, text);
      return;
    }
    this.frame(byte0, encoder.encode(text), true);
  }

  /** Encodes a short string straight into the slab: no intermediate buffer. */
  private shortText(byte0: number, text: string): void {
    const out = this.out;
    out.reserve(6 + 125);
    const headerSize = this.keys === undefined ? 2 : 6;
    const at = out.pos + headerSize;
    const buf = out.buf;
    let n = 0;
    const len = text.length;
    for (; n < len; n++) {
      const c = text.charCodeAt(n);
      if (c >= 0x80) break;
      buf[at + n] = c;
    }
    if (n < len) n = encoder.encodeInto(text, buf.subarray(at, at + 125)).written;
    buf[out.pos] = byte0;
    buf[out.pos + 1] = n;
    if (this.keys !== undefined) {
      buf[out.pos + 1] = n | 0x80;
      const key = this.nextKey(buf, out.pos + 2);
      for (let i = 0; i < n; i++) buf[at + i] = (buf[at + i] as number) ^ (key[i & 3] as number);
    }
    out.commit(at + n);
  }

  /**
   * A masked frame too large for the shared slab, whose payload is the
   * caller's: header and payload are assembled and masked in scratch memory
   * and leave as one new buffer, filled once (a private zeroed buffer would
   * be written twice). False without scratch memory for it, or past
   * {@link SCRATCH_MASK_MAX}.
   */
  private maskedCopy(byte0: number, payload: Uint8Array): boolean {
    const n = payload.length;
    if (n > SCRATCH_MASK_MAX) return false;
    const mem = scratch(14 + n);
    if (mem === null) return false;
    const at = this.putHeader(mem, 0, byte0, n);
    maskIntoScratch(payload, mem, at, this.key, 0);
    this.out.pushBuffer(copyOf(mem.subarray(0, at + n)));
    return true;
  }

  /** Draws a fresh key into `this.key` and writes it into the header at `at`. */
  private nextKey(buf: Uint8Array, at: number): Uint8Array {
    const key = this.key;
    (this.keys as MaskKeyPool).writeKey(key, 0);
    buf[at] = key[0] as number;
    buf[at + 1] = key[1] as number;
    buf[at + 2] = key[2] as number;
    buf[at + 3] = key[3] as number;
    return key;
  }

  /** Writes a header (with a fresh mask key on the client role) at the queue's position. */
  private writeHeader(byte0: number, n: number): void {
    const out = this.out;
    out.commit(this.putHeader(out.buf, out.pos, byte0, n));
  }

  /** Writes a header (with a fresh mask key on the client role) at `buf[p]`; returns where the payload goes. */
  private putHeader(buf: Uint8Array, p: number, byte0: number, n: number): number {
    const maskBit = this.keys === undefined ? 0 : 0x80;
    buf[p++] = byte0;
    if (n < 126) {
      buf[p++] = n | maskBit;
    } else if (n < 0x1_0000) {
      buf[p++] = 126 | maskBit;
      buf[p++] = n >>> 8;
      buf[p++] = n & 0xff;
    } else {
      buf[p++] = 127 | maskBit;
      const high = Math.floor(n / 0x1_0000_0000);
      buf[p++] = 0;
      buf[p++] = 0;
      buf[p++] = (high >>> 8) & 0xff;
      buf[p++] = high & 0xff;
      buf[p++] = (n >>> 24) & 0xff;
      buf[p++] = (n >>> 16) & 0xff;
      buf[p++] = (n >>> 8) & 0xff;
      buf[p++] = n & 0xff;
    }
    if (this.keys !== undefined) {
      this.nextKey(buf, p);
      p += 4;
    }
    return p;
  }
}
