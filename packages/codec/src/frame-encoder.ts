/**
 * Frame encoder (RFC 6455 §5.2): minimal length encoding, masking with a fresh
 * key per frame on the client role.
 */
import { maskInto } from './mask.js';
import type { OutgoingQueue } from './outgoing.js';
import type { MaskKeyPool } from './random.js';

// Payloads at least this large are queued by reference instead of copied.
const REFERENCE_THRESHOLD = 2048;
// A string of at most this many UTF-16 units is at most 125 UTF-8 bytes.
const SHORT_STRING = 41;

const encoder = new TextEncoder();

export class FrameEncoder {
  constructor(
    private readonly out: OutgoingQueue,
    /** Present on the client role, which must mask every frame. */
    private readonly keys: MaskKeyPool | undefined,
  ) {}

  /**
   * Queues one frame. `byte0` holds FIN, RSV and the opcode. When `owned` is
   * true the payload belongs to the encoder and may be masked in place and
   * queued by reference.
   */
  frame(byte0: number, payload: Uint8Array, owned: boolean): void {
    const n = payload.length;
    const out = this.out;
    if (n >= REFERENCE_THRESHOLD && (owned || this.keys === undefined)) {
      out.reserve(14);
      const keyAt = this.writeHeader(byte0, n);
      if (this.keys !== undefined) maskInto(payload, payload, 0, out.buf.subarray(keyAt, keyAt + 4), 0);
      out.pushBuffer(payload as Uint8Array<ArrayBuffer>);
      return;
    }
    out.reserve(14 + n);
    const keyAt = this.writeHeader(byte0, n);
    if (this.keys !== undefined) {
      maskInto(payload, out.buf, out.pos, out.buf.subarray(keyAt, keyAt + 4), 0);
    } else {
      out.buf.set(payload, out.pos);
    }
    out.pos += n;
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
      this.keys.writeKey(buf, out.pos + 2);
      const payload = buf.subarray(at, at + n);
      maskInto(payload, payload, 0, buf.subarray(out.pos + 2, out.pos + 6), 0);
    }
    out.pos = at + n;
  }

  /** Writes a header at the queue's position; returns where the mask key is (if any). */
  private writeHeader(byte0: number, n: number): number {
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
    const keyAt = p;
    if (this.keys !== undefined) {
      this.keys.writeKey(buf, p);
      p += 4;
    }
    out.pos = p;
    return keyAt;
  }
}
