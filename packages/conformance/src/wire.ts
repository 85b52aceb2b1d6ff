/**
 * A deliberately small, independent reader for the frames a peer sends back.
 * The suite judges implementations (the codec included), so it must not judge
 * them with the codec's own decoder: this reader only splits frames and
 * reports what it saw, including anything a conforming peer must not send.
 */

import { concat as concatBytes } from 'uint8arrays/concat';
import { toString as bytesToString } from 'uint8arrays/to-string';

/** One frame as it came off the wire, payload unmasked. */
export interface WireFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Uint8Array;
}

// The opcode numbers are RFC 6455's, not an implementation detail worth keeping apart.
export { Opcode as Op } from '@rfc6455/codec';

/**
 * Accumulates bytes and yields whole frames; `error` is set when the stream
 * cannot be framed. Chunks are kept as they came and joined only when a whole
 * frame is there, so a frame of many MiB arriving in 64 KiB reads costs one
 * copy, not one per read.
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private length = 0;
  error: string | undefined;

  push(chunk: Uint8Array): WireFrame[] {
    if (this.error !== undefined) return [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    const out: WireFrame[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === undefined) return out;
      out.push(frame);
    }
  }

  /** Bytes received that do not form a whole frame yet. */
  get pending(): number {
    return this.length;
  }

  /** The first `n` bytes (at most what is buffered), copied only when they span chunks. */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(Math.min(n, this.length));
    let at = 0;
    for (const c of this.chunks) {
      if (at === out.length) break;
      const part = c.subarray(0, out.length - at);
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Removes the first `n` bytes and returns a copy of them. */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0] as Uint8Array;
      const part = c.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
      if (part.length === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(part.length);
    }
    this.length -= n;
    return out;
  }

  private next(): WireFrame | undefined {
    if (this.length < 2) return undefined;
    const b = this.peek(14);
    const b0 = b[0] as number;
    const b1 = b[1] as number;
    let len = b1 & 0x7f;
    let at = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = ((b[2] as number) << 8) | (b[3] as number);
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      const high = ((b[2] as number) << 24) | ((b[3] as number) << 16) | ((b[4] as number) << 8) | (b[5] as number);
      const low =
        (((b[6] as number) << 24) | ((b[7] as number) << 16) | ((b[8] as number) << 8) | (b[9] as number)) >>> 0;
      // Anything past 2^32 is far beyond what the suite ever asks a peer to send back.
      if (high !== 0) {
        this.error = `a frame declares a payload of ${high * 2 ** 32 + low} bytes`;
        return undefined;
      }
      len = low;
      at = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) at += 4;
    if (this.length < at + len) return undefined;
    const head = this.take(at);
    const payload = this.take(len);
    if (masked) for (let i = 0; i < len; i++) payload[i] = (payload[i] as number) ^ (head[at - 4 + (i & 3)] as number);
    return { fin: (b0 & 0x80) !== 0, rsv: b0 & 0x70, opcode: b0 & 0x0f, masked, payload };
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concatBytes([...parts]);
}

/** A close frame's body: the code (if any) and the reason bytes. */
export function closeBody(code: number | undefined, reason: Uint8Array = new Uint8Array(0)): Uint8Array<ArrayBuffer> {
  if (code === undefined) return new Uint8Array(0);
  return concat([Uint8Array.of(code >> 8, code & 0xff), reason]);
}

/** Reads a close frame's code: undefined for an empty body, NaN for a malformed 1-byte body. */
export function closeCodeOf(payload: Uint8Array): number | undefined {
  if (payload.length === 0) return undefined;
  if (payload.length === 1) return Number.NaN;
  return ((payload[0] as number) << 8) | (payload[1] as number);
}

export function hex(bytes: Uint8Array, max = 64): string {
  const shown = bytesToString(bytes.subarray(0, max), 'base16');
  return bytes.length > max ? `${shown}…(${bytes.length} B)` : shown;
}

export { equals as sameBytes } from 'uint8arrays/equals';

/**
 * A generated split applied to the first `prefix` bytes only (default 64 KiB);
 * the rest goes as one piece, so a bytewise split of a message of many MiB
 * cannot cost an array and a write per byte.
 */
export function splitBounded(
  split: (bytes: Uint8Array) => Uint8Array[],
  bytes: Uint8Array,
  prefix = 64 * 1024,
): Uint8Array[] {
  if (bytes.length <= prefix) return split(bytes);
  return [...split(bytes.subarray(0, prefix)), bytes.subarray(prefix)];
}

/**
 * Splits a whole, well-framed stream into everything before its last frame
 * and that frame, when the last frame is a close frame; undefined otherwise
 * (including streams whose headers cannot be walked, e.g. invalid cases).
 */
export function splitTrailingClose(
  bytes: Uint8Array,
): { readonly body: Uint8Array; readonly close: Uint8Array } | undefined {
  let at = 0;
  let last = -1;
  while (at < bytes.length) {
    if (bytes.length - at < 2) return undefined;
    const b1 = bytes[at + 1] as number;
    let len = b1 & 0x7f;
    let head = 2;
    if (len === 126) {
      if (bytes.length - at < 4) return undefined;
      len = ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
      head = 4;
    } else if (len === 127) {
      if (bytes.length - at < 10) return undefined;
      // Streams the suite generates never hold a frame of 2^32 bytes or more.
      if (
        (bytes[at + 2] as number) !== 0 ||
        (bytes[at + 3] as number) !== 0 ||
        (bytes[at + 4] as number) !== 0 ||
        (bytes[at + 5] as number) !== 0
      )
        return undefined;
      len =
        (((bytes[at + 6] as number) << 24) |
          ((bytes[at + 7] as number) << 16) |
          ((bytes[at + 8] as number) << 8) |
          (bytes[at + 9] as number)) >>>
        0;
      head = 10;
    }
    if ((b1 & 0x80) !== 0) head += 4;
    last = at;
    at += head + len;
  }
  if (at !== bytes.length || last < 0 || ((bytes[last] as number) & 0x0f) !== 0x8) return undefined;
  return { body: bytes.subarray(0, last), close: bytes.subarray(last) };
}

/** How many whole data messages (final text, binary or continuation frames) are among `frames`. */
export function messagesIn(frames: readonly WireFrame[]): number {
  let n = 0;
  for (const f of frames) if (f.fin && f.opcode <= 0x2) n++;
  return n;
}
