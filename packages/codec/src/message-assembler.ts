/**
 * Turns data-frame pieces into messages (RFC 6455 §5.4, §5.6): continuation
 * rules, the message size limit (decided from each frame header before its
 * payload is buffered), fail-fast UTF-8 validation, and delivery of whole
 * messages or of parts as they arrive, text as strings or as bytes.
 *
 * A fragmented message is copied into one buffer that grows by doubling, so
 * its memory follows its bytes, never its number of fragments. Text wanted
 * as a string is the exception: a message that arrives in several pieces is
 * decoded piece by piece (each byte decoded once, validated by the decode
 * itself, never copied into a message buffer) and the strings joined at the
 * end. Pieces shorter than {@link MIN_TEXT_PART} are gathered before they
 * are decoded, so the strings held stay few whatever the reads.
 *
 * UTF-8 is checked as the bytes arrive, so an invalid byte fails the message
 * in the chunk that brings it; a message that arrives in one piece is checked
 * (and decoded) in one pass. The point of failure depends on neither
 * `textAs` nor the accelerator.
 */
import { CloseCode } from './close-codes.js';
import { UsageError } from './errors.js';
import type { FrameErrorEvent, FrameEvent, TextAs, TextEvent, TextPartEvent } from './events.js';
import type { FrameDecoder } from './frame-decoder.js';
import { maskInto, unmaskInPlace } from './mask.js';
import { Opcode, opcodeName } from './opcode.js';
import { PartDecoder, PLAIN_TEXT, type TextRules, unfinishedTail, type Utf8Validator } from './utf8.js';
import { copyOf } from './byte-copy.js';

export type MessageMode = 'whole' | 'parts';

const EMPTY = new Uint8Array(0);
const MIN_CAPACITY = 1024;
/**
 * Text pieces at least this long are decoded as they come; shorter ones wait
 * in a small buffer until this many bytes are there, so a message trickled
 * in tiny reads holds one string per this many bytes at most.
 */
const MIN_TEXT_PART = 512;

export class MessageAssembler<T extends TextAs = 'string'> {
  /** Opcode of the message being received (text or binary), 0 between messages. */
  private kind = 0;
  private size = 0;
  private buf: Uint8Array = EMPTY;
  private len = 0;
  private readonly validator: Utf8Validator;
  private readonly asBytes: boolean;
  /** Decoder of text parts; made on first use (parts mode only). */
  private partText: PartDecoder | undefined;
  /** The current text message decoded so far (whole mode, strings wanted); undefined otherwise. */
  private textSoFar: string | undefined;
  /** Validated bytes not decoded yet: short pieces, and the start of a character the next piece ends. */
  private pending: Uint8Array = EMPTY;
  private pendingLen = 0;

  constructor(
    readonly maxMessageSize: number,
    private readonly mode: MessageMode,
    textAs?: T,
    private readonly text: TextRules = PLAIN_TEXT,
    /** Makes a buffer of exactly a message's size that is written whole before it is read (an accelerator). */
    private readonly allocate: (size: number) => Uint8Array = zeroed,
  ) {
    this.asBytes = textAs === 'bytes';
    this.validator = text.validator();
  }

  private textEvent(data: string | Uint8Array): TextEvent<T> {
    return { type: 'text', data } as TextEvent<T>;
  }

  private textPartEvent(data: string | Uint8Array, last: boolean): TextPartEvent<T> {
    return { type: 'text-part', data, last } as TextPartEvent<T>;
  }

  /** True while a fragmented message is unfinished. */
  get inMessage(): boolean {
    return this.kind !== 0;
  }

  /** Handles the decoder's current piece of a data frame. */
  accept(dec: FrameDecoder): FrameEvent<T> | undefined {
    if (dec.isStart) {
      if (dec.isEnd && dec.fin && this.kind === 0 && dec.opcode !== Opcode.Continuation) {
        return this.singlePieceMessage(dec);
      }
      const problem = this.startFrame(dec);
      if (problem !== undefined) return problem;
    }
    return this.mode === 'whole' ? this.appendWhole(dec) : this.emitPart(dec);
  }

  /** The common case: a one-frame message whose payload arrived in one chunk. */
  private singlePieceMessage(dec: FrameDecoder): FrameEvent<T> {
    const n = dec.payloadLength;
    if (n > this.maxMessageSize) return tooBig(n, this.maxMessageSize);
    const data = dec.piece;
    if (dec.masked) unmaskInPlace(data, dec.maskKey, 0);
    if (dec.opcode === Opcode.Binary) {
      return this.mode === 'whole' ? { type: 'binary', data } : { type: 'binary-part', data, last: true };
    }
    return this.checkedText(data, this.mode === 'parts');
  }

  /** A text message that arrived in one piece, validated (and decoded) whole. */
  private checkedText(bytes: Uint8Array, asPart: boolean): FrameEvent<T> {
    let data: string | Uint8Array | undefined = bytes;
    if (this.asBytes) {
      if (!this.text.validate(bytes)) return this.classifyUtf8Failure(bytes);
    } else {
      data = this.text.decodeChecked(bytes);
      if (data === undefined) return this.classifyUtf8Failure(bytes);
    }
    return asPart ? this.textPartEvent(data, true) : this.textEvent(data);
  }

  /** Same reason whichever path found the failure, so events never depend on how input was split. */
  private classifyUtf8Failure(bytes: Uint8Array): FrameErrorEvent {
    const v = this.validator;
    v.reset();
    return v.update(bytes) && v.incomplete ? truncatedUtf8() : invalidUtf8();
  }

  private startFrame(dec: FrameDecoder): FrameErrorEvent | undefined {
    const problem = this.continuationRules(dec.opcode);
    if (problem !== undefined) return problem;
    const size = this.size + dec.payloadLength;
    if (size > this.maxMessageSize) return tooBig(size, this.maxMessageSize);
    this.size = size;
    if (this.mode === 'whole') {
      if (this.kind === Opcode.Text && !this.asBytes) {
        if (dec.opcode !== Opcode.Continuation) this.textSoFar = '';
      } else {
        this.ensureCapacity(size, dec.fin);
      }
    }
    return undefined;
  }

  private ensureCapacity(needed: number, exact: boolean): void {
    if (needed <= this.buf.length) return;
    // The message's exact size from a final frame's header: every byte of it
    // will be written, so a platform allocator may skip zero-filling it.
    if (exact) {
      const next = this.allocate(needed);
      if (!(next instanceof Uint8Array) || next.length !== needed)
        throw new UsageError('ERR_INVALID_ARGUMENT', `allocate(${needed}) must return a Uint8Array of ${needed} bytes`);
      if (this.len > 0) next.set(this.buf.subarray(0, this.len));
      this.buf = next;
      return;
    }
    const grown = Math.min(Math.max(needed, this.buf.length * 2, MIN_CAPACITY), this.maxMessageSize);
    const next = new Uint8Array(Math.max(grown, needed));
    if (this.len > 0) next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private appendWhole(dec: FrameDecoder): FrameEvent<T> | undefined {
    if (this.textSoFar !== undefined) return this.appendText(dec);
    const piece = dec.piece;
    const at = this.len;
    if (piece.length > 0) {
      if (dec.masked) maskInto(piece, this.buf, at, dec.maskKey, dec.pieceOffset);
      else this.buf.set(piece, at);
      this.len = at + piece.length;
      if (this.kind === Opcode.Text && !this.validator.feed(this.buf, at, this.len, false)) return invalidUtf8();
    }
    if (!(dec.isEnd && dec.fin)) return undefined;
    return this.finishWhole();
  }

  /**
   * A piece of a text message wanted as a string: unmasked in place (pieces
   * are the decoder's to change), its bytes checked as they come as
   * {@link Utf8Validator} would (the same piece fails), and decoded. The
   * bytes that finish a character begun in the previous piece, and those
   * that begin one the next piece finishes, go through the validator byte
   * by byte; the run between them starts and ends on character boundaries,
   * so `decodeChecked` validates and decodes it in one step.
   */
  private appendText(dec: FrameDecoder): FrameEvent<T> | undefined {
    const piece = dec.piece;
    const n = piece.length;
    if (n > 0) {
      if (dec.masked) unmaskInPlace(piece, dec.maskKey, dec.pieceOffset);
      const v = this.validator;
      let i = 0;
      for (; i < n && v.incomplete; i++) if (!v.feed(piece, i, i + 1, false)) return invalidUtf8();
      if (i > 0) this.hold(piece, 0, i);
      if (n - i < MIN_TEXT_PART) {
        if (!v.feed(piece, i, n, false)) return invalidUtf8();
        this.hold(piece, i, n);
        if (this.pendingLen >= MIN_TEXT_PART) this.decodePending();
      } else {
        // The validator is at a character boundary here: what is pending is whole characters.
        this.decodePending();
        const cut = unfinishedTail(piece, i, n);
        if (cut > i) {
          const text = this.text.decodeChecked(i === 0 && cut === n ? piece : piece.subarray(i, cut));
          if (text === undefined) return invalidUtf8();
          this.textSoFar += text;
        }
        if (cut < n) {
          if (!v.feed(piece, cut, n, false)) return invalidUtf8();
          this.hold(piece, cut, n);
        }
      }
    }
    if (!(dec.isEnd && dec.fin)) return undefined;
    this.kind = 0;
    if (this.validator.incomplete) return truncatedUtf8();
    this.decodePending();
    const text = this.textSoFar as string;
    this.textSoFar = undefined;
    this.pending = EMPTY;
    return this.textEvent(text);
  }

  /** Keeps `bytes[from..to)` (validated) to decode with what follows. */
  private hold(bytes: Uint8Array, from: number, to: number): void {
    if (to === from) return;
    const len = this.pendingLen;
    const needed = len + to - from;
    if (needed > this.pending.length) {
      const next = new Uint8Array(Math.max(needed, 2 * MIN_TEXT_PART + 8));
      next.set(this.pending.subarray(0, len));
      this.pending = next;
    }
    this.pending.set(bytes.subarray(from, to), len);
    this.pendingLen = needed;
  }

  /** Decodes the whole characters pending; the start of an unfinished one stays. */
  private decodePending(): void {
    const len = this.pendingLen;
    if (len === 0) return;
    const bytes = this.pending;
    const cut = this.validator.incomplete ? unfinishedTail(bytes, 0, len) : len;
    if (cut === 0) return;
    this.textSoFar += this.text.decodeValid(bytes.subarray(0, cut));
    bytes.copyWithin(0, cut, len);
    this.pendingLen = len - cut;
  }

  private finishWhole(): FrameEvent<T> {
    const kind = this.kind;
    this.kind = 0;
    const bytes = this.len === this.buf.length ? this.buf : this.buf.subarray(0, this.len);
    // The buffer is never kept for the next message: an idle connection holds
    // no message memory (a binary message's bytes now belong to the app).
    this.buf = EMPTY;
    if (kind === Opcode.Binary) return { type: 'binary', data: bytes };
    if (this.validator.incomplete) return truncatedUtf8();
    return this.textEvent(this.asBytes ? bytes : this.text.decodeValid(bytes));
  }

  /**
   * Starts a frame of a message whose payload an extension decodes (e.g.
   * permessage-deflate): the continuation rules apply as usual, but the size
   * limit counts decoded bytes, in {@link pushDecoded}, not the frame header.
   */
  startDecodedFrame(dec: FrameDecoder): FrameErrorEvent | undefined {
    return this.continuationRules(dec.opcode);
  }

  /** RFC 6455 §5.4: a continuation needs a message to continue; a new message needs none unfinished. Starts it. */
  private continuationRules(op: number): FrameErrorEvent | undefined {
    if (op === Opcode.Continuation) {
      return this.kind === 0
        ? protocolError(CloseCode.ProtocolError, 'continuation frame without a message to continue')
        : undefined;
    }
    if (this.kind !== 0) {
      return protocolError(CloseCode.ProtocolError, `${opcodeName(op)} frame inside an unfinished fragmented message`);
    }
    this.kind = op;
    this.size = 0;
    this.len = 0;
    this.textSoFar = undefined;
    this.pendingLen = 0;
    this.validator.reset();
    this.partText?.reset();
    return undefined;
  }

  /**
   * Adds decoded payload bytes (a view the caller reuses after this call) to
   * the current message; `last` ends it. The limit is checked before the
   * bytes are kept, so a message that decodes to too much fails as soon as it
   * crosses the limit.
   */
  pushDecoded(bytes: Uint8Array, last: boolean): FrameEvent<T> | undefined {
    const n = bytes.length;
    const size = this.size + n;
    if (size > this.maxMessageSize) return tooBig(size, this.maxMessageSize);
    this.size = size;
    const kind = this.kind;
    if (this.mode === 'whole') {
      if (n > 0) {
        const at = this.len;
        this.ensureCapacity(size, false);
        this.buf.set(bytes, at);
        this.len = at + n;
        if (kind === Opcode.Text && !this.validator.feed(this.buf, at, this.len, false)) return invalidUtf8();
      }
      if (!last) return undefined;
      const ev = this.finishWhole();
      // A decoded message's buffer is not kept for the next one: an idle
      // connection that negotiated compression should hold no more than its
      // inflater's window.
      this.buf = EMPTY;
      return ev;
    }
    if (n === 0 && !last) return undefined;
    if (last) this.kind = 0;
    if (kind === Opcode.Binary) return { type: 'binary-part', data: copyOf(bytes), last };
    return this.textPart(bytes, last, true);
  }

  /** Validates a part of a text message and hands it out, decoded or (a copy when `copy`) as bytes. */
  private textPart(bytes: Uint8Array, last: boolean, copy: boolean): FrameEvent<T> {
    const v = this.validator;
    if (!v.feed(bytes, 0, bytes.length, false)) return invalidUtf8();
    if (last && v.incomplete) return truncatedUtf8();
    if (this.asBytes) return this.textPartEvent(copy ? copyOf(bytes) : bytes, last);
    return this.textPartEvent((this.partText ??= new PartDecoder(this.text.decodeValid)).push(bytes), last);
  }

  private emitPart(dec: FrameDecoder): FrameEvent<T> | undefined {
    const piece = dec.piece;
    const last = dec.isEnd && dec.fin;
    if (piece.length === 0 && !last) return undefined;
    if (dec.masked) unmaskInPlace(piece, dec.maskKey, dec.pieceOffset);
    const kind = this.kind;
    if (last) this.kind = 0;
    if (kind === Opcode.Binary) return { type: 'binary-part', data: piece, last };
    return this.textPart(piece, last, false);
  }
}

function zeroed(size: number): Uint8Array {
  return new Uint8Array(size);
}

function protocolError(code: number, reason: string): FrameErrorEvent {
  return { type: 'protocol-error', phase: 'frames', code, reason };
}

function tooBig(size: number, max: number): FrameErrorEvent {
  return protocolError(CloseCode.MessageTooBig, `message of at least ${size} bytes exceeds the limit of ${max}`);
}

function truncatedUtf8(): FrameErrorEvent {
  return invalidUtf8('a truncated UTF-8 sequence at the end of a text message');
}

function invalidUtf8(reason = 'invalid UTF-8 in a text message'): FrameErrorEvent {
  return protocolError(CloseCode.InvalidPayload, reason);
}
