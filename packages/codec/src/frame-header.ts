/**
 * One frame header (RFC 6455 §5.2) as a plain record: parsing it from bytes,
 * the header rules that need no message context, and encoding a header or a
 * whole frame. The connection's decoder applies the same rules; tools
 * (dissectors, fuzzers, proxies) use these functions directly.
 */
import { CloseCode } from './close-codes.js';
import { POOLED_MAX, pooledBytes } from './byte-pool.js';
import { UsageError } from './errors.js';
import { maskInto, maskIntoScratch, scratch } from './mask.js';
import { copyOf } from './byte-copy.js';
import { MAX_CONTROL_PAYLOAD, opcodeName } from './opcode.js';

/** How a payload length was written: in the 7-bit field, or in 16 or 64 extra bits. */
export type LengthEncoding = 7 | 16 | 64;

export interface FrameHeader {
  readonly fin: boolean;
  /** RSV1–3 as they sit in the first byte (0x40, 0x20, 0x10). */
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  /** The 4-byte key, or null when not masked. */
  readonly maskKey: Uint8Array | null;
  readonly payloadLength: number;
  readonly lengthEncoding: LengthEncoding;
  /** Bytes the header takes: 2 to 14. */
  readonly headerLength: number;
}

/**
 * Rules a receiver applies to a header beyond the fixed ones (reserved
 * opcodes, control frames over 125 bytes or fragmented). Masking and the
 * size limit are not checked unless given; RSV bits are refused unless an
 * extension owns them.
 */
export interface FrameHeaderRules {
  /** true: frames must be masked (a server's input); false: must not be; undefined: either. */
  readonly expectMasked?: boolean;
  /** RSV bits that negotiated extensions own (default 0: none may be set). */
  readonly allowedRsv?: number;
  /** Data frames with a longer payload fail with 1009 (default: no limit). */
  readonly maxFramePayload?: number;
}

export type FrameHeaderResult =
  | { readonly type: 'header'; readonly header: FrameHeader }
  /** `bytes`: how many bytes the whole header needs (known once the second byte is there). */
  | { readonly type: 'need-more'; readonly bytes: number }
  /** The header breaks a rule: the close code a receiver fails the connection with, and why. */
  | { readonly type: 'invalid'; readonly header: FrameHeader | null; readonly code: number; readonly reason: string };

/** Bytes a header takes, from its second byte. */
export function frameHeaderLength(byte1: number): number {
  const len7 = byte1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (byte1 & 0x80 ? 4 : 0);
}

/**
 * The payload length written at `h[p]` (the header's first byte); -1 for a
 * 64-bit length with its most significant bit set, which §5.2 forbids.
 * Lengths beyond 2^53 lose precision but are far over any limit anyway.
 */
export function readPayloadLength(h: Uint8Array, p: number): number {
  const len7 = (h[p + 1] as number) & 0x7f;
  const q = p + 2;
  if (len7 === 126) return ((h[q] as number) << 8) | (h[q + 1] as number);
  if (len7 !== 127) return len7;
  if ((h[q] as number) > 0x7f) return -1;
  // Exact below 2^53, where every step is.
  let n = 0;
  for (let i = q; i < q + 8; i++) n = n * 256 + (h[i] as number);
  return n;
}

/**
 * The header rules that need no message context (§5.2, §5.5), in the order a
 * receiver checks them; null when the header passes.
 */
export function frameHeaderProblem(
  fin: boolean,
  rsv: number,
  opcode: number,
  masked: boolean,
  payloadLength: number,
  rules: FrameHeaderRules,
  /** The length as written, where a double cannot hold it exactly (see {@link exactPayloadLength}). */
  lengthText?: string,
): { readonly code: number; readonly reason: string } | null {
  if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xa) {
    return { code: CloseCode.ProtocolError, reason: `reserved opcode 0x${opcode.toString(16)}` };
  }
  const stray = rsv & ~(rules.allowedRsv ?? 0);
  if (stray !== 0)
    return { code: CloseCode.ProtocolError, reason: `${rsvNames(stray)} set without a negotiated extension` };
  if (rules.expectMasked !== undefined && masked !== rules.expectMasked) {
    return {
      code: CloseCode.ProtocolError,
      reason: rules.expectMasked ? 'a client frame was not masked' : 'a server frame was masked',
    };
  }
  if (opcode >= 0x8) {
    if (!fin) return { code: CloseCode.ProtocolError, reason: `fragmented ${opcodeName(opcode)} frame` };
    if (payloadLength > MAX_CONTROL_PAYLOAD) {
      return { code: CloseCode.ProtocolError, reason: `${opcodeName(opcode)} frame payload over 125 bytes` };
    }
  } else if (rules.maxFramePayload !== undefined && payloadLength > rules.maxFramePayload) {
    return {
      code: CloseCode.MessageTooBig,
      reason: `frame payload of ${lengthText ?? payloadLength} bytes exceeds the limit of ${rules.maxFramePayload}`,
    };
  }
  return null;
}

/**
 * The 64-bit payload length at `h[p]` (the header's first byte) in decimal,
 * exactly: past 2^53 a double rounds it, and a reason should quote what the
 * peer wrote.
 */
export function exactPayloadLength(h: Uint8Array, p: number): string {
  let n = 0n;
  for (let i = 0; i < 8; i++) n = (n << 8n) | BigInt(h[p + 2 + i] as number);
  return n.toString();
}

/** The 64-bit length rule's reason, shared with the connection's decoder. */
export const LENGTH_MSB_REASON = 'the most significant bit of a 64-bit payload length is set';

/** Parses the frame header at `bytes[offset]` and checks it against `rules`. Never throws on its content. */
export function parseFrameHeader(bytes: Uint8Array, offset = 0, rules: FrameHeaderRules = {}): FrameHeaderResult {
  const available = bytes.length - offset;
  if (available < 2) return { type: 'need-more', bytes: 2 };
  const b0 = bytes[offset] as number;
  const b1 = bytes[offset + 1] as number;
  const headerLength = frameHeaderLength(b1);
  if (available < headerLength) return { type: 'need-more', bytes: headerLength };
  const len7 = b1 & 0x7f;
  const masked = (b1 & 0x80) !== 0;
  const payloadLength = readPayloadLength(bytes, offset);
  const keyAt = offset + headerLength - 4;
  const header: FrameHeader = {
    fin: (b0 & 0x80) !== 0,
    rsv: b0 & 0x70,
    opcode: b0 & 0x0f,
    masked,
    maskKey: masked ? copyOf(bytes, keyAt, keyAt + 4) : null,
    payloadLength: Math.max(payloadLength, 0),
    lengthEncoding: len7 === 126 ? 16 : len7 === 127 ? 64 : 7,
    headerLength,
  };
  if (payloadLength < 0)
    return { type: 'invalid', header: null, code: CloseCode.ProtocolError, reason: LENGTH_MSB_REASON };
  const exact = payloadLength > Number.MAX_SAFE_INTEGER ? exactPayloadLength(bytes, offset) : undefined;
  const problem = frameHeaderProblem(header.fin, header.rsv, header.opcode, masked, payloadLength, rules, exact);
  if (problem !== null) return { type: 'invalid', header, ...problem };
  return { type: 'header', header };
}

/** A frame to encode. */
export interface FrameInit {
  /** Default true. */
  readonly fin?: boolean;
  /** RSV bits as in the first byte (0x40 for RSV1). Default 0. */
  readonly rsv?: number;
  readonly opcode: number;
  /** Masks the frame with this 4-byte key (a client's frames must be masked with a fresh random key each). */
  readonly maskKey?: Uint8Array;
}

/**
 * Writes a header for a payload of `payloadLength` bytes, with the shortest
 * length encoding. Does not check the frame against the protocol: tools use
 * it to build invalid frames on purpose. With the payload written after it
 * as it is, this frames an unmasked payload without copying it (what ws's
 * `Sender.frame` does: a header, and the payload by reference).
 *
 * The header is carved out of a shared ArrayBuffer, as {@link encodeFrame}'s
 * small frames are: `result.buffer` is not the header alone, and must not be
 * transferred.
 */
export function encodeFrameHeader(frame: FrameInit, payloadLength: number): Uint8Array<ArrayBuffer> {
  checkKey(frame.maskKey);
  checkLength(payloadLength);
  // Not encodedFrameLength() minus the length: near 2^53 their sum rounds.
  const out = pooledBytes(headerLength(payloadLength, frame.maskKey !== undefined));
  writeHeader(out, 0, frame, payloadLength);
  return out;
}

/**
 * Encodes one whole frame into a new array (masked when `maskKey` is given).
 *
 * Frames up to 4 KiB are carved out of a shared 64 KiB ArrayBuffer, as Node
 * pools small Buffers, because an array of its own over 64 bytes costs V8
 * about half a microsecond: the result may be a view into memory shared with
 * other results, so `result.buffer` is not the frame alone. Use the result
 * through its own offset and length (as every API taking a Uint8Array does),
 * and never transfer its buffer, which would detach other frames with it.
 * Results never share bytes: writing into one changes no other.
 */
export function encodeFrame(frame: FrameInit, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const key = frame.maskKey;
  checkKey(key);
  const n = payload.length;
  const size = n + headerLength(n, key !== undefined);
  if (key !== undefined && n > LARGE_MASKED) {
    // Assembled and masked in scratch memory, then copied once into a buffer
    // that is not zeroed first.
    const mem = scratch(size);
    if (mem !== null) {
      maskIntoScratch(payload, mem, writeHeader(mem, 0, frame, n), key, 0);
      return copyOf(mem.subarray(0, size));
    }
  }
  const out = size <= POOLED_MAX ? pooledBytes(size) : new Uint8Array(size);
  const at = writeHeader(out, 0, frame, n);
  if (key === undefined) copyInto(payload, out, at);
  else maskInto(payload, out, at, key, 0);
  return out;
}

/**
 * Encodes one whole frame into `target` at `offset` (masked when `maskKey` is
 * given) and returns the offset just past it: nothing is allocated, so many
 * frames can share one buffer and leave in one write. `encodedFrameLength()`
 * says how much room a frame needs; with too little, it throws
 * `ERR_INVALID_ARGUMENT` and writes nothing. `payload` must not overlap the
 * frame's place in `target`.
 */
export function encodeFrameInto(frame: FrameInit, payload: Uint8Array, target: Uint8Array, offset = 0): number {
  const key = frame.maskKey;
  const n = payload.length;
  const end = offset + n + headerLength(n, key !== undefined);
  if (!(end <= target.length) || !Number.isInteger(offset) || offset < 0) {
    throw new UsageError(
      'ERR_INVALID_ARGUMENT',
      `a frame of ${end - offset} bytes does not fit at offset ${offset} of ${target.length} bytes`,
    );
  }
  checkKey(key);
  const at = writeHeader(target, offset, frame, n);
  if (key === undefined) copyInto(payload, target, at);
  else maskInto(payload, target, at, key, 0);
  return end;
}

/** Bytes a frame with a payload of `payloadLength` bytes takes, its header included. */
export function encodedFrameLength(payloadLength: number, masked: boolean): number {
  checkLength(payloadLength);
  return payloadLength + headerLength(payloadLength, masked);
}

function checkLength(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError('ERR_INVALID_ARGUMENT', `invalid payload length ${n}`);
}

function headerLength(n: number, masked: boolean): number {
  return (n < 126 ? 2 : n < 0x1_0000 ? 4 : 10) + (masked ? 4 : 0);
}

// Masked frames over this size are assembled in scratch memory by encodeFrame.
const LARGE_MASKED = 0x4000; // 16 KiB

/** `dst.set(src, at)`, by a loop for a few bytes, where the call costs more than the copy. */
function copyInto(src: Uint8Array, dst: Uint8Array, at: number): void {
  const n = src.length;
  if (n > 8) dst.set(src, at);
  else for (let i = 0; i < n; i++) dst[at + i] = src[i] as number;
}

function checkKey(key: Uint8Array | undefined): void {
  if (key !== undefined && key.length !== 4) throw new UsageError('ERR_INVALID_ARGUMENT', 'a masking key has 4 bytes');
}

/**
 * Writes the header at `out[p]`; returns where the payload goes. The rare
 * 64-bit length is written out of line: inline, unrolled or as a loop, V8
 * inlined less of the encoders' small-frame path (small masked frames were
 * 10–30% slower).
 */
function writeHeader(out: Uint8Array, p: number, frame: FrameInit, n: number): number {
  const key = frame.maskKey;
  const maskBit = key === undefined ? 0 : 0x80;
  out[p] = (frame.fin === false ? 0 : 0x80) | ((frame.rsv ?? 0) & 0x70) | (frame.opcode & 0x0f);
  if (n < 126) {
    out[p + 1] = n | maskBit;
    p += 2;
  } else if (n < 0x1_0000) {
    out[p + 1] = 126 | maskBit;
    out[p + 2] = n >>> 8;
    out[p + 3] = n & 0xff;
    p += 4;
  } else {
    p = writeLength64(out, p, n, maskBit);
  }
  if (key === undefined) return p;
  out[p] = key[0] as number;
  out[p + 1] = key[1] as number;
  out[p + 2] = key[2] as number;
  out[p + 3] = key[3] as number;
  return p + 4;
}

/** The second byte and a 64-bit length after the first byte at `out[p]`; returns the offset past them. */
function writeLength64(out: Uint8Array, p: number, n: number, maskBit: number): number {
  out[p + 1] = 127 | maskBit;
  // From the last byte: `& 0xff` reads the low 8 bits of any safe integer.
  for (let i = p + 9; i > p + 1; i--, n = Math.floor(n / 256)) out[i] = n & 0xff;
  return p + 10;
}

function rsvNames(bits: number): string {
  return ['RSV1', 'RSV2', 'RSV3'].filter((_, i) => bits & (0x40 >> i)).join(' and ');
}
