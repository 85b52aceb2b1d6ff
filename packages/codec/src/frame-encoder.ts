/**
 * Frame encoder (RFC 6455 §5.2): minimal length encoding, masking with a fresh
 * key per frame on the client role.
 */
import { maskInto } from './mask.js';
import type { OutgoingQueue } from './outgoing.js';
import type { MaskKeyPool } from './random.js';

// Unmasked payloads at least this large are queued by reference instead of
// copied: past this size a copy costs more than the extra buffer in a writev.
const REFERENCE_THRESHOLD = 512;
// Masked payloads up to this size are masked by an inline loop (no call).
const INLINE_MASK = 64;
// A string of at most this many UTF-16 units is at most 125 UTF-8 bytes.
const SHORT_STRING = 41;

const encoder = new TextEncoder();
const NO_KEY = new Uint8Array(0);

export class FrameEncoder {
  /** The current frame's masking key (also written into its header); only the client role has one. */
  private readonly key: Uint8Array;

  constructor(
    private readonly out: OutgoingQueue,
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
    const out = this.out;
    const masked = this.keys !== undefined;
    if (n >= REFERENCE_THRESHOLD && (owned || !masked)) {
      out.reserve(14);
      this.writeHeader(byte0, n);
      if (masked) maskInto(payload, payload, 0, this.key, 0);
      out.pushBuffer(payload as Uint8Array<ArrayBuffer>);
      return;
    }
    out.reserve(14 + n);
    this.writeHeader(byte0, n);
    const buf = out.buf;
    const at = out.pos;
    if (n > INLINE_MASK) {
      if (masked) maskInto(payload, buf, at, this.key, 0);
      else buf.set(payload, at);
    } else if (masked) {
      const key = this.key;
      for (let i = 0; i < n; i++) buf[at + i] = (payload[i] as number) ^ (key[i & 3] as number);
    } else {
      for (let i = 0; i < n; i++) buf[at + i] = payload[i] as number;
    }
    out.commit(at + n);
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
    const buf = out.buf;
    let p = out.pos;
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
    out.commit(p);
  }
}
