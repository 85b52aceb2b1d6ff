/**
 * A WebSocket connection after the opening handshake: the RFC 6455 state
 * machine for one side, sans I/O. Bytes go in with `receive()`, events come
 * out of `nextEvent()`, and everything to write comes out of `takeOutgoing()`.
 *
 * States (§7):
 *   open    — both sides may send.
 *   closing — this side sent a close frame and waits for the peer's; data the
 *             peer sends meanwhile is still delivered.
 *   closed  — close frames were exchanged, or the connection failed. No more
 *             input is read; the close frame reply (if any) is still queued.
 *
 * Who closes the transport (§7.1.1): the server closes TCP first, once the
 * close handshake is done; the client waits for the server to do so (with a
 * timeout of its own). After a failure either side closes it.
 */
import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import { UsageError } from './errors.js';
import type { ConnectionEvent, SendCommand } from './events.js';
import type { ExtensionSession, MessageDecoder, MessageEncoder, NegotiatedExtension } from './extension.js';
import { FrameDecoder, Pull } from './frame-decoder.js';
import { FrameEncoder } from './frame-encoder.js';
import { unmaskInPlace } from './mask.js';
import { MessageAssembler, type MessageMode } from './message-assembler.js';
import { MAX_CONTROL_PAYLOAD, Opcode } from './opcode.js';
import { OutgoingQueue } from './outgoing.js';
import { MaskKeyPool, type RandomSource } from './random.js';
import { decodeUtf8 } from './utf8.js';

export type { Role } from './role.js';
import type { Role } from './role.js';

export const ConnectionState = {
  Open: 'open',
  Closing: 'closing',
  Closed: 'closed',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export interface ConnectionOptions {
  /** Which side of the connection this object plays. */
  readonly role: Role;
  /** Largest message accepted, in bytes; larger ones fail with 1009. Default 16 MiB. */
  readonly maxMessageSize?: number;
  /** Largest single frame payload accepted; larger ones fail with 1009. Default: `maxMessageSize`. */
  readonly maxFramePayload?: number;
  /** `'whole'` (default): one event per message. `'parts'`: events as frames arrive, for messages too large to buffer. */
  readonly messageMode?: MessageMode;
  /** Answer pings with pongs automatically. Default true. */
  readonly autoPong?: boolean;
  /** Split outgoing messages into frames of at most this many payload bytes. Default: never split. */
  readonly fragmentSize?: number;
  /** Source of masking-key randomness (client role). Default `crypto.getRandomValues`. */
  readonly random?: RandomSource;
  /**
   * Extensions agreed in the opening handshake (e.g. permessage-deflate), from
   * `negotiateExtensions()` on a server or `acceptExtensions()` on a client.
   * They own their RSV bits; `maxMessageSize` then counts decoded bytes.
   */
  readonly extensions?: readonly NegotiatedExtension[];
}

import { DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';

const FIN = 0x80;
const MAX_CLOSE_REASON = 123;
const encoder = new TextEncoder();
const NO_BYTES = new Uint8Array(0);

export class Connection {
  readonly role: Role;
  private stateValue: ConnectionState = ConnectionState.Open;
  private readonly decoder: FrameDecoder;
  private readonly assembler: MessageAssembler;
  private readonly out = new OutgoingQueue();
  private readonly encoder: FrameEncoder;
  private readonly autoPong: boolean;
  private readonly fragmentSize: number;
  private closeSent = false;
  private receivedClose: { code: number; reason: string } | undefined;
  private failed = false;
  private eof = false;
  private finished = false;
  /** Opcode of the message being streamed out, 0 when none. */
  private sending = 0;
  /** Collects a control frame that arrives in pieces; allocated the first time one does. */
  private control: Uint8Array | undefined;
  private controlLen = 0;
  /** Sessions of the negotiated extensions; undefined without any (the plain path stays as it was). */
  private readonly sessions: readonly ExtensionSession[] | undefined;
  /** Decoder of the inbound message being received, when an extension transforms it. */
  private inflow: MessageDecoder | undefined;
  private inflowLast = false;
  /** True while decoded output of the current piece is still to be delivered (parts mode). */
  private draining = false;
  /** Encoder of the outbound message being streamed, when an extension transforms it. */
  private outflow: MessageEncoder | undefined;

  constructor(options: ConnectionOptions) {
    const maxMessageSize = positive(options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 'maxMessageSize');
    this.role = options.role;
    this.decoder = new FrameDecoder({
      expectMasked: options.role === 'server',
      maxFramePayload: positive(options.maxFramePayload, maxMessageSize, 'maxFramePayload'),
    });
    this.assembler = new MessageAssembler(maxMessageSize, options.messageMode ?? 'whole');
    const keys = options.role === 'client' ? MaskKeyPool.for(options.random) : undefined;
    this.encoder = new FrameEncoder(this.out, keys);
    this.autoPong = options.autoPong ?? true;
    this.fragmentSize = positive(options.fragmentSize, Infinity, 'fragmentSize');
    this.sessions = undefined;
    const extensions = options.extensions ?? [];
    if (extensions.length > 0) {
      let rsv = 0;
      for (const ext of extensions) {
        if ((ext.rsv & rsv) !== 0) {
          throw new UsageError('ERR_INVALID_ARGUMENT', `extension "${ext.name}" claims an RSV bit another extension owns`);
        }
        rsv |= ext.rsv;
      }
      this.decoder.allowedRsv = rsv;
      this.sessions = extensions.map((ext) => ext.createSession(options.role, { maxMessageSize }));
    }
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /**
   * True once this side should close the transport after writing what is
   * queued: the close handshake is done and this is the server, or the
   * connection failed.
   */
  get shouldCloseTransport(): boolean {
    return this.stateValue === ConnectionState.Closed && (this.role === 'server' || this.failed || this.eof);
  }

  /** Bytes queued for writing and not yet taken. */
  get bufferedAmount(): number {
    return this.out.bufferedAmount;
  }

  /**
   * Feeds bytes read from the transport. The connection takes ownership of
   * `chunk`: it may unmask it in place and hand out views into it. Never
   * throws for anything the peer sent.
   */
  receive(chunk: Uint8Array): void {
    if (this.stateValue === ConnectionState.Closed || this.eof) return;
    this.decoder.push(chunk);
  }

  /** Tells the connection the transport has ended (EOF, reset or error). */
  receiveEof(): void {
    this.eof = true;
  }

  /** The next event, or undefined when more input is needed. */
  nextEvent(): ConnectionEvent | undefined {
    while (this.stateValue !== ConnectionState.Closed) {
      if (this.draining) {
        const ev = this.drainInflow();
        if (ev === undefined) continue;
        if (ev.type === 'protocol-error') return this.fail(ev.code, ev.reason);
        return ev;
      }
      const status = this.decoder.pull();
      if (status === Pull.NeedMore) break;
      if (status === Pull.Error) return this.fail(this.decoder.errorCode, this.decoder.errorReason);
      const ev =
        this.decoder.opcode < 0x8
          ? this.sessions === undefined
            ? this.assembler.accept(this.decoder)
            : this.extensionPiece(this.sessions)
          : this.controlPiece();
      if (ev === undefined) continue;
      // An idle connection must not pin the last chunk it read.
      this.decoder.release();
      if (ev.type === 'protocol-error') return this.fail(ev.code, ev.reason);
      return ev;
    }
    return this.finish();
  }

  /** All events available now (a convenience over `nextEvent()`). */
  events(): ConnectionEvent[] {
    const list: ConnectionEvent[] = [];
    for (let ev = this.nextEvent(); ev !== undefined; ev = this.nextEvent()) list.push(ev);
    return list;
  }

  /** Everything queued for writing, in order. Write the buffers as they are. */
  takeOutgoing(): Uint8Array<ArrayBuffer>[] {
    return this.out.take();
  }

  /**
   * Queues a message or control frame. Throws {@link UsageError} when the
   * command is not allowed: anything after this side sent a close frame, a
   * data message started inside another streamed message, an invalid close
   * code, a close reason over 123 bytes or a ping/pong payload over 125 bytes.
   */
  send(command: SendCommand): void {
    if (this.closeSent || this.stateValue === ConnectionState.Closed) {
      throw new UsageError('ERR_SEND_AFTER_CLOSE', `cannot send ${command.type}: the connection is closing or closed`);
    }
    switch (command.type) {
      case 'text':
        this.sendData(Opcode.Text, command.data, command.fin ?? true);
        return;
      case 'binary':
        this.sendData(Opcode.Binary, command.data, command.fin ?? true);
        return;
      case 'ping':
        this.sendControl(Opcode.Ping, controlPayload(command.data));
        return;
      case 'pong':
        this.sendControl(Opcode.Pong, controlPayload(command.data));
        return;
      case 'close':
        this.sendClose(command.code, command.reason);
        return;
    }
  }

  private sendData(opcode: number, data: string | Uint8Array, fin: boolean): void {
    const first = this.sending === 0;
    if (!first && this.sending !== opcode) {
      throw new UsageError('ERR_MESSAGE_INTERLEAVED', 'a data message was started before the streamed message was finished');
    }
    this.sending = fin ? 0 : opcode;
    if (this.sessions !== undefined && this.sendEncoded(this.sessions, first, opcode, data, fin)) return;
    const op = first ? opcode : Opcode.Continuation;
    const size = this.fragmentSize;
    if (typeof data === 'string') {
      if (data.length * 3 <= size) {
        this.encoder.text((fin ? FIN : 0) | op, data);
        return;
      }
      this.fragments(op, encoder.encode(data), fin, true);
      return;
    }
    this.fragments(op, data, fin, false);
  }

  /**
   * Sends a data chunk through an extension's encoder when one claims the
   * message (decided on its first chunk); false to send it as is. RSV bits go
   * on the message's first frame only.
   */
  private sendEncoded(sessions: readonly ExtensionSession[], first: boolean, opcode: number, data: string | Uint8Array, fin: boolean): boolean {
    let enc = this.outflow;
    if (first) {
      enc = undefined;
      for (const session of sessions) {
        // A string's length in UTF-16 units stands in for its byte size: the threshold is a heuristic.
        enc = session.encoderFor(data.length, !fin);
        if (enc !== undefined) break;
      }
    }
    this.outflow = fin ? undefined : enc;
    if (enc === undefined) return false;
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    const encoded = enc.encode(bytes, fin);
    this.fragments(first ? opcode | enc.rsv : Opcode.Continuation, encoded, fin, true);
    return true;
  }

  /**
   * A data-frame piece when extensions were negotiated: routes the message to
   * the extension that claims it by its RSV bits, or to the plain path.
   * RSV bits are only meaningful on a message's first frame (RFC 7692 §6.1).
   */
  private extensionPiece(sessions: readonly ExtensionSession[]): ConnectionEvent | undefined {
    const dec = this.decoder;
    if (dec.isStart) {
      if (dec.opcode === Opcode.Continuation) {
        if (dec.rsv !== 0) return { type: 'protocol-error', phase: 'frames', code: CloseCode.ProtocolError, reason: 'RSV1 set on a continuation frame' };
      } else {
        let inflow: MessageDecoder | undefined;
        if (dec.rsv !== 0) {
          for (const session of sessions) {
            inflow = session.decoderFor(dec.rsv & session.rsv);
            if (inflow !== undefined) break;
          }
          if (inflow === undefined) {
            return { type: 'protocol-error', phase: 'frames', code: CloseCode.ProtocolError, reason: 'RSV bits set that no extension claims' };
          }
        }
        // A new message inside an unfinished one is reported by the assembler on either path.
        if (!this.assembler.inMessage) this.inflow = inflow;
        else if (inflow !== undefined || this.inflow !== undefined) return this.assembler.startDecodedFrame(dec);
      }
    }
    const inflow = this.inflow;
    if (inflow === undefined) return this.assembler.accept(dec);
    if (dec.isStart) {
      const problem = this.assembler.startDecodedFrame(dec);
      if (problem !== undefined) return problem;
    }
    const piece = dec.piece;
    const last = dec.isEnd && dec.fin;
    if (piece.length === 0 && !last) return undefined;
    if (dec.masked) unmaskInPlace(piece, dec.maskKey, dec.pieceOffset);
    inflow.write(piece, last);
    this.inflowLast = last;
    return this.drainInflow();
  }

  /** Hands the decoder's output to the assembler until it needs input or an event is ready. */
  private drainInflow(): ConnectionEvent | undefined {
    const inflow = this.inflow as MessageDecoder;
    for (;;) {
      const out = inflow.read();
      if (out === null) {
        this.draining = false;
        if (!this.inflowLast) return undefined;
        this.inflow = undefined;
        return this.assembler.pushDecoded(NO_BYTES, true);
      }
      if (!(out instanceof Uint8Array)) {
        this.draining = false;
        return { type: 'protocol-error', phase: 'frames', code: out.code, reason: out.reason };
      }
      const ev = this.assembler.pushDecoded(out, false);
      if (ev !== undefined) {
        // Parts mode: more output may follow this part; continue before reading new frames.
        this.draining = true;
        return ev;
      }
    }
  }

  private fragments(op: number, bytes: Uint8Array, fin: boolean, owned: boolean): void {
    const size = this.fragmentSize;
    if (bytes.length <= size) {
      // The common case: one frame, and no view to create.
      this.encoder.frame((fin ? FIN : 0) | op, bytes, owned);
      return;
    }
    let at = 0;
    do {
      const end = Math.min(bytes.length, at + size);
      const last = end === bytes.length;
      this.encoder.frame((last && fin ? FIN : 0) | (at === 0 ? op : Opcode.Continuation), bytes.subarray(at, end), owned);
      at = end;
    } while (at < bytes.length);
  }

  private sendControl(opcode: number, payload: Uint8Array): void {
    if (payload.length > MAX_CONTROL_PAYLOAD) {
      throw new UsageError('ERR_CONTROL_PAYLOAD_TOO_LONG', `control frame payload of ${payload.length} bytes exceeds 125`);
    }
    this.encoder.frame(FIN | opcode, payload, false);
  }

  private sendClose(code: number | undefined, reason: string | undefined): void {
    const body = closeBody(code, reason);
    this.encoder.frame(FIN | Opcode.Close, body, false);
    this.closeSent = true;
    this.stateValue = this.receivedClose === undefined ? ConnectionState.Closing : ConnectionState.Closed;
  }

  /** Collects a control frame's payload (≤125 bytes, possibly split) and acts on it when complete. */
  private controlPiece(): ConnectionEvent | undefined {
    const dec = this.decoder;
    if (dec.rsv !== 0 && dec.isStart) {
      return { type: 'protocol-error', phase: 'frames', code: CloseCode.ProtocolError, reason: 'RSV bit set on a control frame' };
    }
    let payload: Uint8Array;
    if (dec.isStart && dec.isEnd) {
      payload = dec.piece;
      if (dec.masked) unmaskInPlace(payload, dec.maskKey, 0);
    } else {
      if (dec.isStart) this.controlLen = 0;
      const control = (this.control ??= new Uint8Array(MAX_CONTROL_PAYLOAD));
      control.set(dec.piece, this.controlLen);
      if (dec.masked) unmaskInPlace(control.subarray(this.controlLen, this.controlLen + dec.piece.length), dec.maskKey, dec.pieceOffset);
      this.controlLen += dec.piece.length;
      if (!dec.isEnd) return undefined;
      payload = control.slice(0, this.controlLen);
    }
    switch (dec.opcode) {
      case Opcode.Ping:
        if (this.autoPong && !this.closeSent) this.encoder.frame(FIN | Opcode.Pong, payload, false);
        return { type: 'ping', data: payload };
      case Opcode.Pong:
        return { type: 'pong', data: payload };
      default:
        return this.peerClose(payload);
    }
  }

  private peerClose(payload: Uint8Array): ConnectionEvent {
    if (payload.length === 1) {
      return { type: 'protocol-error', phase: 'frames', code: CloseCode.ProtocolError, reason: 'close frame with a 1-byte payload' };
    }
    let code: number = CloseCode.NoStatus;
    let reason = '';
    if (payload.length >= 2) {
      code = ((payload[0] as number) << 8) | (payload[1] as number);
      if (!isValidWireCloseCode(code)) {
        return { type: 'protocol-error', phase: 'frames', code: CloseCode.ProtocolError, reason: `invalid close code ${code}` };
      }
      const text = decodeUtf8(payload.subarray(2));
      if (text === undefined) {
        return { type: 'protocol-error', phase: 'frames', code: CloseCode.InvalidPayload, reason: 'invalid UTF-8 in the close reason' };
      }
      reason = text;
    }
    this.receivedClose = { code, reason };
    if (!this.closeSent) {
      // Echo the peer's close frame, code and reason (§5.5.1 asks for the code;
      // `ws` echoes the reason too, and a WebSocketStream peer reports it).
      this.encoder.frame(FIN | Opcode.Close, payload, false);
      this.closeSent = true;
    }
    this.enterClosed();
    return { type: 'close', code, reason };
  }

  /** Fails the connection (§7.1.7): queue a close frame, stop reading input. */
  private fail(code: number, reason: string): ConnectionEvent {
    if (!this.closeSent) {
      this.encoder.frame(FIN | Opcode.Close, closeBody(code, truncateReason(reason)), false);
      this.closeSent = true;
    }
    this.failed = true;
    this.enterClosed();
    return { type: 'protocol-error', phase: 'frames', code, reason };
  }

  private enterClosed(): void {
    this.stateValue = ConnectionState.Closed;
    this.decoder.discard();
  }

  /** After the transport ended: the one final `closed` event. */
  private finish(): ConnectionEvent | undefined {
    if (!this.eof || this.finished) return undefined;
    this.finished = true;
    this.stateValue = ConnectionState.Closed;
    this.decoder.discard();
    const got = this.receivedClose;
    if (got === undefined) return { type: 'closed', code: CloseCode.Abnormal, reason: '', wasClean: false };
    return { type: 'closed', code: got.code, reason: got.reason, wasClean: this.closeSent };
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value >= 1)) throw new UsageError('ERR_INVALID_ARGUMENT', `${name} must be a positive number, got ${value}`);
  return value;
}

function controlPayload(data: Uint8Array | string | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return typeof data === 'string' ? encoder.encode(data) : data;
}

function closeBody(code: number | undefined, reason: string | undefined): Uint8Array {
  if (code === undefined) {
    if (reason !== undefined && reason !== '') {
      throw new UsageError('ERR_INVALID_CLOSE_CODE', 'a close reason needs a close code');
    }
    return new Uint8Array(0);
  }
  if (!Number.isInteger(code) || !isValidWireCloseCode(code)) {
    throw new UsageError('ERR_INVALID_CLOSE_CODE', `close code ${code} may not be sent (RFC 6455 §7.4)`);
  }
  const text = reason === undefined ? new Uint8Array(0) : encoder.encode(reason);
  if (text.length > MAX_CLOSE_REASON) {
    throw new UsageError('ERR_CLOSE_REASON_TOO_LONG', `close reason of ${text.length} bytes exceeds 123`);
  }
  const body = new Uint8Array(2 + text.length);
  body[0] = code >>> 8;
  body[1] = code & 0xff;
  body.set(text, 2);
  return body;
}

/** Cuts a reason to at most 123 UTF-8 bytes without splitting a character. */
function truncateReason(reason: string): string {
  let bytes = encoder.encode(reason);
  if (bytes.length <= MAX_CLOSE_REASON) return reason;
  let s = reason;
  while (bytes.length > MAX_CLOSE_REASON) {
    s = s.slice(0, -1);
    bytes = encoder.encode(s);
  }
  return s;
}
