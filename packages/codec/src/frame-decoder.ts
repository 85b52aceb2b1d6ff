/**
 * Incremental frame decoder (RFC 6455 §5.2). It hands out each frame's
 * payload as pieces that are views into the chunks it was given, still
 * masked, so the consumer decides whether to unmask in place (zero-copy) or
 * while copying into a message buffer (one pass, not two).
 *
 * One exception: the payload of a binary frame that is a whole message by
 * itself (FIN set, not inside a fragmented message) of at most
 * {@link SCRATCH_LIMIT} bytes (128 KiB when masked) is waited for (its
 * header rules are checked first) and handed out as one piece. When it straddles chunks its bytes
 * must be copied into one buffer anyway, and the decoder does it without a
 * zeroed buffer: into the first chunk's own memory when the bytes before
 * the payload there were never handed out (the frame's header at least; all
 * of them when the previous frame was assembled the same way, as frames as
 * large as the socket's reads are), or, for a masked payload, through
 * scratch memory where it is unmasked, into a buffer that is not zeroed
 * first. Such a piece is unmasked already. A peer's 64 KiB frames in 64 KiB
 * socket reads then cost no allocation at all. Text is left out: its UTF-8
 * is validated as pieces arrive, to fail fast.
 *
 * Every header rule that needs no message context is checked here, before a
 * single payload byte is looked at.
 */
import { CloseCode } from './close-codes.js';
import {
  exactPayloadLength,
  frameHeaderLength,
  frameHeaderProblem,
  LENGTH_MSB_REASON,
  readPayloadLength,
} from './frame-header.js';
import { maskIntoScratch, SCRATCH_LIMIT, scratch, unmaskInPlace } from './mask.js';
import { copyOf } from './byte-copy.js';

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
const headerScratch = new Uint8Array(MAX_HEADER);
// A masked payload larger than this streams to the message assembler piece
// by piece, unmasked into the message's buffer as each read arrives (while
// the read is still in cache), instead of waiting to be assembled whole in
// scratch memory and copied out: a megabyte gathered went through memory
// twice more, and made ~10 % of a 1 MiB echo server's CPU per message.
// Up to two 64 KiB socket reads' worth, assembling in place stays the
// cheaper path (often into the first read's own memory, with no allocation).
const MASKED_GATHER_LIMIT = 128 * 1024;

export class FrameDecoder {
  /** RSV bits (as in header byte 0) owned by negotiated extensions. */
  allowedRsv = 0;

  // Header of the current frame; valid from the piece where `isStart` is true.
  fin = false;
  rsv = 0;
  opcode = 0;
  /** Whether the frame is masked and its pieces still are (an assembled payload is unmasked already). */
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
  /** Waiting until the current frame's payload has arrived whole, to assemble it. */
  private gathering = false;
  /** A data message with more frames to come was started (by the frame headers alone). */
  private midMessage = false;
  /**
   * Offset in the head chunk up to which pieces were handed out: the
   * consumer may hold them. Bytes between this and `pos` were consumed and
   * copied or skipped, so they may be overwritten.
   */
  private lentEnd = 0;

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
    this.lentEnd = 0;
    this.available = 0;
    this.gathering = false;
  }

  /** Forgets the current piece, which would otherwise keep its whole chunk alive. */
  release(): void {
    this.piece = EMPTY;
  }

  pull(): Pull {
    this.piece = EMPTY;
    if (this.inPayload) return this.gathering ? this.gather() : this.nextPiece(false);
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
      this.copyOut(headerScratch, 0, size);
      chunk = headerScratch;
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
    const op = this.opcode;
    if (op < 0x8) {
      const within = this.midMessage;
      this.midMessage = !this.fin;
      // Binary only: a text payload is validated as its pieces arrive, so that
      // invalid UTF-8 fails the connection without waiting for the rest.
      if (op === 0x2 && this.fin && !within && length > 0 && this.worthGathering(length)) {
        this.gathering = true;
        return this.gather();
      }
    }
    return this.nextPiece(true);
  }

  /**
   * Whether to wait for the whole payload of a message's only frame before
   * handing it out. Its payload is then one piece: a view when it turns out
   * to lie in one chunk (a header that ended a chunk would otherwise be
   * reported alone and the payload copied), else assembled. Waiting holds at
   * most {@link SCRATCH_LIMIT} bytes, or the rest of the chunk at hand.
   */
  private worthGathering(n: number): boolean {
    if (n <= (this.masked ? MASKED_GATHER_LIMIT : SCRATCH_LIMIT)) return true;
    if (this.available === 0) return false;
    const chunk = this.chunks[this.head] as Uint8Array;
    return chunk.length - this.pos < n && chunk.length - this.lentEnd >= n;
  }

  /**
   * A message's only frame: once its payload is all here, hands it out as
   * one piece, unmasked when it had to be assembled. Where it can be neither
   * a view nor assembled without a zeroed buffer, it goes out in pieces as
   * any other frame (the message assembler copies them into its buffer).
   */
  private gather(): Pull {
    const n = this.remaining;
    if (this.available < n) return Pull.NeedMore;
    this.gathering = false;
    const chunk = this.chunks[this.head] as Uint8Array;
    if (chunk.length - this.pos >= n) return this.nextPiece(true);
    if (chunk.length - this.lentEnd >= n) this.gatherIntoChunk(chunk, n);
    else if (!(this.masked && this.gatherIntoScratch(n))) return this.nextPiece(true);
    this.isStart = true;
    this.pieceOffset = 0;
    this.remaining = 0;
    this.masked = false;
    return this.endPiece();
  }

  /**
   * Assembles the payload at the end of the head chunk, which it starts in:
   * its bytes there move back over the header (and whatever else was
   * consumed there and never handed out), the rest is copied after them.
   */
  private gatherIntoChunk(chunk: Uint8Array, n: number): void {
    const at = chunk.length - n;
    if (this.masked) {
      const mem = scratch(n);
      if (mem !== null) {
        this.copyOutUnmasked(mem, n);
        chunk.set(mem.subarray(0, n), at);
        this.piece = chunk.subarray(at);
        return;
      }
    }
    const first = chunk.length - this.pos;
    chunk.copyWithin(at, this.pos);
    this.available -= first;
    this.nextChunk();
    this.copyOut(chunk, at + first, n - first);
    this.piece = chunk.subarray(at);
    if (this.masked) unmaskInPlace(this.piece, this.maskKey, 0);
  }

  /**
   * Assembles and unmasks a masked payload in scratch memory, then copies it
   * into a buffer of its own; false without scratch memory. (An unmasked
   * payload gains nothing here: copying it into a zeroed buffer costs no
   * more than the extra copy through scratch memory.)
   */
  private gatherIntoScratch(n: number): boolean {
    const mem = scratch(n);
    if (mem === null) return false;
    this.copyOutUnmasked(mem, n);
    this.piece = copyOf(mem.subarray(0, n));
    return true;
  }

  /** Copies the current frame's next `n` payload bytes, unmasked, into scratch memory at 0 and consumes them. */
  private copyOutUnmasked(mem: Uint8Array, n: number): void {
    const key = this.maskKey;
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head] as Uint8Array;
      const take = Math.min(n - filled, chunk.length - this.pos);
      maskIntoScratch(chunk.subarray(this.pos, this.pos + take), mem, filled, key, filled);
      filled += take;
      this.available -= take;
      this.pos += take;
      if (this.pos === chunk.length) this.nextChunk();
    }
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
    this.lentEnd = start + take;
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
    this.lentEnd = 0;
    this.head++;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    }
  }

  /** Copies the next `n` bytes (which may straddle chunks) into `dst` at `at` and consumes them. */
  private copyOut(dst: Uint8Array, at: number, n: number): void {
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head] as Uint8Array;
      const take = Math.min(n - filled, chunk.length - this.pos);
      dst.set(chunk.subarray(this.pos, this.pos + take), at + filled);
      filled += take;
      this.available -= take;
      this.pos += take;
      if (this.pos === chunk.length) this.nextChunk();
    }
  }
}
