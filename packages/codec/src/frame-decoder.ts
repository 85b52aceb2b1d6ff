/**
 * Incremental frame decoder (RFC 6455 §5.2). It never buffers payload: it
 * hands out each frame's payload as pieces that are views into the chunks it
 * was given, still masked, so the consumer decides whether to unmask in place
 * (zero-copy) or while copying into a message buffer (one pass, not two).
 *
 * Every header rule that needs no message context is checked here, before a
 * single payload byte is looked at.
 */
import { CloseCode } from './close-codes.js';
import { exactPayloadLength, frameHeaderLength, frameHeaderProblem, LENGTH_MSB_REASON, readPayloadLength } from './frame-header.js';

export const Pull = {
  /** No complete header or payload byte is available; feed more input. */
  NeedMore: 0,
  /** A piece of a frame's payload is ready (see `isStart`, `isEnd`, `piece`). */
  Piece: 1,
  /** The input broke a framing rule; see `errorCode` and `errorReason`. */
  Error: 2,
} as const;
export type Pull = (typeof Pull)[keyof typeof Pull];

export interface FrameDecoderOptions {
  /** Whether frames must be masked (a server's input) or must not be (a client's). */
  readonly expectMasked: boolean;
  /** Frames whose payload is longer than this fail with 1009. */
  readonly maxFramePayload: number;
}

const EMPTY = new Uint8Array(0);
// 2 fixed bytes + 8 for a 64-bit length + 4 for the mask key.
const MAX_HEADER = 14;
const NO_KEY = new Uint8Array(4);
// A header that straddles chunks is gathered here and parsed at once, so one
// buffer serves every connection (an idle connection holds none).
const scratch = new Uint8Array(MAX_HEADER);

export class FrameDecoder {
  /** RSV bits (as in header byte 0) owned by negotiated extensions. */
  allowedRsv = 0;

  // Header of the current frame; valid from the piece where `isStart` is true.
  fin = false;
  rsv = 0;
  opcode = 0;
  masked = false;
  payloadLength = 0;
  /** The current frame's key; made on the first masked frame (a client never needs one). */
  maskKey: Uint8Array = NO_KEY;

  /** The current piece: still masked when `masked` is true. */
  piece: Uint8Array = EMPTY;
  /** Position of `piece[0]` within the frame's payload (for unmasking). */
  pieceOffset = 0;
  isStart = false;
  isEnd = false;

  errorCode = 0;
  errorReason = '';

  /** Read by the header rules (`FrameHeaderRules`). */
  readonly expectMasked: boolean;
  readonly maxFramePayload: number;
  private chunks: Uint8Array[] = [];
  private head = 0;
  private pos = 0;
  private available = 0;
  private inPayload = false;
  private remaining = 0;

  constructor(options: FrameDecoderOptions) {
    this.expectMasked = options.expectMasked;
    this.maxFramePayload = options.maxFramePayload;
  }

  /** Bytes received but not yet handed out (a server's early data is held here while it decides). */
  get bufferedAmount(): number {
    return this.available;
  }

  /** Takes ownership of `chunk`: payload pieces are views into it and may be unmasked in place. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
  }

  /** Drops all buffered input (after the connection has failed or closed). */
  discard(): void {
    this.chunks = [];
    this.head = 0;
    this.pos = 0;
    this.available = 0;
  }

  /** Forgets the current piece, which would otherwise keep its whole chunk alive. */
  release(): void {
    this.piece = EMPTY;
  }

  pull(): Pull {
    this.piece = EMPTY;
    if (this.inPayload) return this.nextPiece(false);
    return this.readHeader();
  }

  private readHeader(): Pull {
    if (this.available < 2) return Pull.NeedMore;
    let chunk = this.chunks[this.head] as Uint8Array;
    let p = this.pos;
    const b1 = chunk.length - p >= 2 ? (chunk[p + 1] as number) : this.peekSecondByte();
    const len7 = b1 & 0x7f;
    const size = frameHeaderLength(b1);
    if (this.available < size) return Pull.NeedMore;
    if (chunk.length - p < size) {
      // The header straddles chunks: gather it into the scratch buffer.
      this.copyOut(scratch, size);
      chunk = scratch;
      p = 0;
    } else {
      this.consume(size);
    }
    return this.parseHeader(chunk, p, len7);
  }

  private parseHeader(h: Uint8Array, p: number, len7: number): Pull {
    const b0 = h[p] as number;
    this.fin = (b0 & 0x80) !== 0;
    this.rsv = b0 & 0x70;
    this.opcode = b0 & 0x0f;
    this.masked = ((h[p + 1] as number) & 0x80) !== 0;
    const length = readPayloadLength(h, p);
    if (length < 0) return this.error(CloseCode.ProtocolError, LENGTH_MSB_REASON);
    if (this.masked) {
      if (this.maskKey === NO_KEY) this.maskKey = new Uint8Array(4);
      const k = this.maskKey;
      const q = p + 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
      k[0] = h[q] as number;
      k[1] = h[q + 1] as number;
      k[2] = h[q + 2] as number;
      k[3] = h[q + 3] as number;
    }
    this.payloadLength = length;
    // Only a length past 2^53 gets its exact decimal form, for the reason; it is over any limit.
    const exact = length > Number.MAX_SAFE_INTEGER ? exactPayloadLength(h, p) : undefined;
    const problem = frameHeaderProblem(this.fin, this.rsv, this.opcode, this.masked, length, this, exact);
    if (problem !== null) return this.error(problem.code, problem.reason);
    this.inPayload = true;
    this.remaining = length;
    return this.nextPiece(true);
  }

  private nextPiece(isStart: boolean): Pull {
    const remaining = this.remaining;
    this.isStart = isStart;
    this.pieceOffset = this.payloadLength - remaining;
    if (remaining === 0) {
      this.piece = EMPTY;
      return this.endPiece();
    }
    if (this.available === 0) {
      if (!isStart) return Pull.NeedMore;
      // Report the header now so limits are enforced before payload arrives.
      this.piece = EMPTY;
      this.isEnd = false;
      return Pull.Piece;
    }
    const chunk = this.chunks[this.head] as Uint8Array;
    const start = this.pos;
    const take = Math.min(remaining, chunk.length - start);
    this.piece = start === 0 && take === chunk.length ? chunk : chunk.subarray(start, start + take);
    this.consume(take);
    this.remaining = remaining - take;
    if (this.remaining === 0) return this.endPiece();
    this.isEnd = false;
    return Pull.Piece;
  }

  private endPiece(): Pull {
    this.isEnd = true;
    this.inPayload = false;
    return Pull.Piece;
  }

  private error(code: number, reason: string): Pull {
    this.errorCode = code;
    this.errorReason = reason;
    this.discard();
    return Pull.Error;
  }

  private peekSecondByte(): number {
    // Only reached when the current chunk holds exactly one byte.
    return (this.chunks[this.head + 1] as Uint8Array)[0] as number;
  }

  /** Advances past `n` bytes, all within the current chunk. */
  private consume(n: number): void {
    this.available -= n;
    const chunk = this.chunks[this.head] as Uint8Array;
    this.pos += n;
    if (this.pos === chunk.length) this.nextChunk();
  }

  private nextChunk(): void {
    this.pos = 0;
    this.head++;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    }
  }

  /** Copies the next `n` bytes (which straddle chunks) into `dst` and consumes them. */
  private copyOut(dst: Uint8Array, n: number): void {
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head] as Uint8Array;
      const take = Math.min(n - filled, chunk.length - this.pos);
      dst.set(chunk.subarray(this.pos, this.pos + take), filled);
      filled += take;
      this.available -= take;
      this.pos += take;
      if (this.pos === chunk.length) this.nextChunk();
    }
  }
}
