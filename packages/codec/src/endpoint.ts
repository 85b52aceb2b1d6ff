/**
 * One side of one WebSocket, sans I/O, from its first byte to its last: the
 * opening handshake, the frames, the closing handshake and the end of the
 * transport. Bytes go in with `receive()` and `receiveEof()`, events come out
 * of `nextEvent()`, the application acts with `send()`, and everything to
 * write comes out of `takeOutgoing()`, in every phase.
 *
 * The states and what moves between them:
 *
 *   state       input          next        what happens
 *   ──────────  ─────────────  ──────────  ─────────────────────────────────────────────
 *   handshake   request        deciding    server: a valid request head; `request` event
 *   handshake   opened         open        client: a valid 101 (over HTTP/2: 2xx response
 *                                          headers) and agreed extensions
 *   handshake   refuse         refused     a bad head (server: 4xx queued), a non-101 or
 *                                          an invalid 101 (client: nothing to write);
 *                                          over HTTP/2 a non-2xx, read to END_STREAM
 *   deciding    accept         open        server: 101 queued, extensions negotiated
 *   deciding    reject         refused     server: the application's error response queued
 *   deciding    refuse         refused     server: too many bytes before the decision (400)
 *   open        send-close     closing     this side's close frame queued
 *   open        receive-close  closed      the peer's close frame; the reply is queued
 *   closing     receive-close  closed      the peer answered this side's close frame
 *   open        fail           failed      the peer broke the protocol: close frame queued
 *   closing     fail           failed      (no second close frame)
 *   any         eof            ended       input ended and is all reported: `closed` event
 *
 * Each state's face to the application (`state`), and whether this side must
 * close the transport once the queued bytes are written (RFC 6455 §7.1.1: the
 * server closes TCP first; a client waits for it, with a timer of its own):
 *
 *   state       public state   closes the transport
 *   handshake   connecting     no
 *   deciding    connecting     no
 *   open        open           no
 *   closing     closing        no
 *   closed      closed         server: yes; client: no
 *   refused     closed         yes
 *   failed      closed         yes
 *   ended       closed         yes
 */
import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import { UsageError } from './errors.js';
import type {
  ClosedEvent,
  Command,
  EndpointEvent,
  FrameErrorEvent,
  FrameEvent,
  HandshakeErrorEvent,
  HandshakeEvent,
  OpenEvent,
  PreEncodedCommand,
  TextAs,
} from './events.js';
import type { ExtensionSession, MessageDecoder, NegotiatedExtension } from './extension.js';
import { serializeExtensions } from './header-grammar.js';
import type { HttpHeaders } from './http-head.js';
import { FrameDecoder, Pull } from './frame-decoder.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';
import { unmaskInPlace } from './mask.js';
import { MessageAssembler, type MessageMode } from './message-assembler.js';
import { MessageWriter } from './message-writer.js';
import { MAX_CONTROL_PAYLOAD, Opcode } from './opcode.js';
import { OutgoingQueue, type Pending } from './outgoing.js';
import { MaskKeyPool, type RandomSource } from './random.js';
import type { Role } from './role.js';
import type { HandshakeFailure } from './upgrade-response.js';
import { decodeUtf8, type TextCodec, textRules } from './utf8.js';

type State = 'handshake' | 'deciding' | 'open' | 'closing' | 'closed' | 'refused' | 'failed' | 'ended';
type Input = 'request' | 'opened' | 'refuse' | 'accept' | 'reject' | 'send-close' | 'receive-close' | 'fail' | 'eof';

const TRANSITIONS: { readonly [S in State]: { readonly [I in Input]?: State } } = {
  handshake: { request: 'deciding', opened: 'open', refuse: 'refused', eof: 'ended' },
  deciding: { accept: 'open', reject: 'refused', refuse: 'refused', eof: 'ended' },
  open: { 'send-close': 'closing', 'receive-close': 'closed', fail: 'failed', eof: 'ended' },
  closing: { 'receive-close': 'closed', fail: 'failed', eof: 'ended' },
  closed: { eof: 'ended' },
  refused: { eof: 'ended' },
  failed: { eof: 'ended' },
  ended: {},
};

/** What the application sees of each state. */
export type EndpointState = 'connecting' | 'open' | 'closing' | 'closed';

const PUBLIC_STATE: { readonly [S in State]: EndpointState } = {
  handshake: 'connecting',
  deciding: 'connecting',
  open: 'open',
  closing: 'closing',
  closed: 'closed',
  refused: 'closed',
  failed: 'closed',
  ended: 'closed',
};

const CLOSES_TRANSPORT: { readonly [S in State]: { readonly [R in Role]: boolean } } = {
  handshake: { server: false, client: false },
  deciding: { server: false, client: false },
  open: { server: false, client: false },
  closing: { server: false, client: false },
  closed: { server: true, client: false },
  refused: { server: true, client: true },
  failed: { server: true, client: true },
  ended: { server: true, client: true },
};

/** Options of the frame phase, the same for both roles (`T`: how text is received). */
export interface FrameOptions<T extends TextAs = 'string'> {
  /** Largest message accepted, in bytes (decoded bytes with an extension); larger ones fail with 1009. Default 16 MiB. */
  readonly maxMessageSize?: number;
  /** Largest single frame payload accepted; larger ones fail with 1009. Default: `maxMessageSize`. */
  readonly maxFramePayload?: number;
  /** `'whole'` (default): one event per message. `'parts'`: events as frames arrive, for messages too large to buffer. */
  readonly messageMode?: MessageMode;
  /** Answer pings with pongs automatically. Default true. */
  readonly autoPong?: boolean;
  /** Split outgoing messages into frames of at most this many payload bytes. Default: never split. */
  readonly fragmentSize?: number;
  /** Source of randomness for masking keys and the client's key. Default `crypto.getRandomValues`. */
  readonly random?: RandomSource;
  /**
   * `'string'` (default): text messages are decoded to strings. `'bytes'`:
   * their UTF-8 bytes, validated as strictly but never decoded, for an
   * application that forwards them or parses bytes (send them on with
   * `{ type: 'text', data: bytes }`). The endpoint's events are typed to match.
   */
  readonly textAs?: T;
  /**
   * Platform accelerators for text: a native UTF-8 validator and decoder
   * (e.g. Node's `buffer.isUtf8` and its string decoding). Default: the
   * codec's own validator and `TextDecoder`.
   */
  readonly text?: TextCodec;
  /**
   * A platform accelerator for large messages: makes the buffer a message
   * whose size a frame header announced is assembled in, e.g. Node's
   * unpooled `allocUnsafeSlow`, which skips the zero-filling every
   * `new Uint8Array(size)` costs. Every byte of it is written before the
   * message is handed out, and the codec asks for exactly the message's
   * size (a buffer that grows with fragments of unknown count is always
   * made zeroed, so no unwritten memory can be reached through `.buffer`).
   * It must return a buffer of its own of exactly `size` bytes, never a view
   * into a shared pool (the message's `.buffer` would expose the pool).
   * Default: `new Uint8Array(size)`.
   */
  readonly allocate?: (size: number) => Uint8Array;
  /**
   * Makes the endpoint able to produce output later, outside any call of
   * yours: with a compression backend that has `createAsyncDeflater` (e.g.
   * a native thread pool), messages are compressed off the calling thread
   * and this is called, from the backend's callback, once their frames are
   * queued: call `takeOutgoing()` (and `nextEvent()`) again. Meanwhile
   * `outputPending` is true, later sends wait behind the message, and the
   * transport must not be closed. Without it everything happens inside
   * `send()`. It is given the endpoint, so one function can serve many.
   */
  readonly onOutgoing?: (endpoint: Endpoint<T>) => void;
}

const FIN = 0x80;
const MAX_CLOSE_REASON = 123;
const encoder = new TextEncoder();
const NO_BYTES = new Uint8Array(0);
const NONE: readonly NegotiatedExtension[] = Object.freeze([]);

/** What both roles share; `ServerEndpoint` and `ClientEndpoint` add their opening handshake. */
export abstract class Endpoint<T extends TextAs = 'string'> {
  readonly role: Role;
  private s: State = 'handshake';
  /** Events of the handshake phase, delivered before any frame event. */
  private queued: EndpointEvent<T>[] | undefined;
  private inputEnded = false;
  private protocolValue: string | null = null;
  private extensionsValue: readonly NegotiatedExtension[] = NONE;
  private readonly decoder: FrameDecoder;
  private readonly assembler: MessageAssembler<T>;
  /** @internal */
  protected readonly out = new OutgoingQueue();
  private readonly writer: MessageWriter;
  private readonly autoPong: boolean;
  private receivedClose: { code: number; reason: string } | undefined;
  /** Collects a control frame that arrives in pieces; allocated the first time one does. */
  private control: Uint8Array | undefined;
  private controlLen = 0;
  /** Sessions of the negotiated extensions; undefined without any (the plain path stays as it was). */
  private sessions: readonly ExtensionSession[] | undefined;
  /** Decoder of the inbound message being received, when an extension transforms it. */
  private inflow: MessageDecoder | undefined;
  private inflowLast = false;
  /** True while decoded output of the current piece is still to be delivered (parts mode). */
  private draining = false;

  /** @internal */
  protected constructor(role: Role, options: FrameOptions<T>) {
    const maxMessageSize = positive(options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 'maxMessageSize');
    this.role = role;
    this.decoder = new FrameDecoder({
      expectMasked: role === 'server',
      maxFramePayload: positive(options.maxFramePayload, maxMessageSize, 'maxFramePayload'),
    });
    const text = textRules(options.text);
    const textAs = options.textAs;
    if (textAs !== undefined && textAs !== 'string' && textAs !== 'bytes') {
      throw new UsageError('ERR_INVALID_ARGUMENT', `textAs must be 'string' or 'bytes', got ${String(textAs)}`);
    }
    const allocate = options.allocate;
    if (allocate !== undefined && typeof allocate !== 'function')
      throw new UsageError('ERR_INVALID_ARGUMENT', 'allocate must be a function');
    this.assembler = new MessageAssembler<T>(maxMessageSize, options.messageMode ?? 'whole', textAs, text, allocate);
    const keys = role === 'client' ? MaskKeyPool.for(options.random) : undefined;
    this.writer = new MessageWriter(this.out, keys, positive(options.fragmentSize, Infinity, 'fragmentSize'), text);
    this.autoPong = options.autoPong ?? true;
    const onOutgoing = options.onOutgoing;
    if (onOutgoing !== undefined) {
      if (typeof onOutgoing !== 'function')
        throw new UsageError('ERR_INVALID_ARGUMENT', 'onOutgoing must be a function');
      this.writer.onReady = () => onOutgoing(this);
      this.writer.onFailed = (slot, error) => {
        this.encodingFailed(slot, error);
        onOutgoing(this);
      };
    }
  }

  /** `connecting` until the handshake completes, `open`, `closing` once this side sent close, then `closed`. */
  get state(): EndpointState {
    return PUBLIC_STATE[this.s];
  }

  /**
   * True once this side should close the transport after writing what is
   * queued: the handshake was refused or failed, the connection failed, or
   * the close handshake is done and this is the server.
   */
  get shouldCloseTransport(): boolean {
    return CLOSES_TRANSPORT[this.s][this.role];
  }

  /** The agreed subprotocol, or null (also before the handshake completes). */
  get protocol(): string | null {
    return this.protocolValue;
  }

  /** The agreed extensions, in the order of the response. */
  get extensions(): readonly NegotiatedExtension[] {
    return this.extensionsValue;
  }

  /**
   * The encoding of pre-encoded messages this endpoint can send as they are,
   * besides plain ones (always ''-encoded): see `MessagePreEncoder`.
   */
  get sharedEncoding(): string {
    for (const ext of this.extensionsValue) if (ext.sharedEncoding !== undefined) return ext.sharedEncoding;
    return '';
  }

  /** Bytes queued for writing and not yet taken (a message being compressed off the thread counts as its size). */
  get bufferedAmount(): number {
    return this.out.bufferedAmount;
  }

  /**
   * True while output is being produced off the calling thread (see
   * `onOutgoing`): `takeOutgoing()` will have more, so the transport must
   * stay open even when `shouldCloseTransport` is true.
   */
  get outputPending(): boolean {
    return this.out.pending;
  }

  /**
   * Of `bufferedAmount`, the bytes that cannot be taken yet: a message being
   * compressed off the thread (at its uncompressed size) and whatever was
   * queued behind it. They wait on this side's compressor, not on the peer.
   */
  get outputPendingAmount(): number {
    return this.out.pendingAmount;
  }

  /**
   * Feeds bytes read from the transport. The endpoint takes ownership of
   * `chunk`: it may unmask it in place and hand out views into it. Never
   * throws for anything the peer sent.
   */
  receive(chunk: Uint8Array): void {
    if (this.inputEnded) return;
    switch (this.s) {
      case 'handshake':
        this.receiveHead(chunk);
        return;
      case 'deciding':
        this.decoder.push(chunk);
        this.checkEarlyData(this.decoder.bufferedAmount);
        return;
      case 'open':
      case 'closing':
        this.decoder.push(chunk);
        return;
      default:
        return;
    }
  }

  /** Tells the endpoint the transport has ended (EOF, reset or error). */
  receiveEof(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    if (this.s === 'handshake') this.headEnded();
  }

  /** The next event, or undefined when more input (or a decision) is needed. */
  nextEvent(): EndpointEvent<T> | undefined {
    const queued = this.queued;
    if (queued !== undefined) {
      const ev = queued.shift();
      // An open connection keeps no array for events it will never queue again.
      if (queued.length === 0) this.queued = undefined;
      if (ev !== undefined) return ev;
    }
    while (this.s === 'open' || this.s === 'closing') {
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
    if (this.inputEnded && this.s !== 'ended') return this.finish();
    return undefined;
  }

  /** All events available now (a convenience over `nextEvent()`). */
  events(): EndpointEvent<T>[] {
    const list: EndpointEvent<T>[] = [];
    for (let ev = this.nextEvent(); ev !== undefined; ev = this.nextEvent()) list.push(ev);
    return list;
  }

  /** Everything queued for writing, in order. Write the buffers as they are. */
  takeOutgoing(): Uint8Array<ArrayBuffer>[] {
    return this.out.take();
  }

  /**
   * Acts for the application: `accept`/`reject` (server, while deciding),
   * messages, control frames, `close`, `pre-encoded` messages. Throws
   * {@link UsageError} when the command is not allowed now: data before the
   * handshake completed or after this side sent close, a data message inside
   * another streamed message, an invalid close code, a close reason over 123
   * bytes or a ping/pong payload over 125 bytes.
   */
  send(command: Command): void {
    switch (command.type) {
      case 'accept':
        this.assertAllowed('accept', command.type);
        this.accept(command);
        return;
      case 'reject':
        this.assertAllowed('reject', command.type);
        this.reject(command);
        return;
      default:
        break;
    }
    if (this.s !== 'open') {
      const code = this.s === 'handshake' || this.s === 'deciding' ? 'ERR_INVALID_STATE' : 'ERR_SEND_AFTER_CLOSE';
      throw new UsageError(code, `cannot send ${command.type}: the connection is ${this.state}`);
    }
    switch (command.type) {
      case 'text':
        this.writer.data(Opcode.Text, command.data, command.fin ?? true);
        return;
      case 'binary':
        this.writer.data(Opcode.Binary, command.data, command.fin ?? true, command.transfer === true);
        return;
      case 'pre-encoded':
        this.sendPreEncoded(command);
        return;
      case 'ping':
        this.sendControl(Opcode.Ping, controlPayload(command.data));
        return;
      case 'pong':
        this.sendControl(Opcode.Pong, controlPayload(command.data));
        return;
      case 'close':
        this.writer.frame(FIN | Opcode.Close, closeBody(command.code, command.reason), false);
        this.move('send-close');
        return;
    }
  }

  // ---- for the opening handshakes -------------------------------------------

  /** @internal Reads handshake bytes; the role's head parser. */
  protected abstract receiveHead(chunk: Uint8Array): void;
  /** @internal The transport ended during the handshake. */
  protected abstract headEnded(): void;
  /** @internal Server: answers the request with a 101. */
  protected accept(_command: Extract<Command, { type: 'accept' }>): void {
    throw new UsageError('ERR_INVALID_STATE', 'only a server endpoint accepts');
  }
  /** @internal Server: answers the request with an error response. */
  protected reject(_command: Extract<Command, { type: 'reject' }>): void {
    throw new UsageError('ERR_INVALID_STATE', 'only a server endpoint rejects');
  }
  /** @internal Server: the bytes held while deciding (the client should send none). */
  protected checkEarlyData(_size: number): void {}

  /** @internal A valid request arrived: report it and wait for the decision. */
  protected requested(event: HandshakeEvent, trailing: Uint8Array): void {
    this.move('request');
    this.report(event);
    this.decoder.push(trailing);
    // Refused at once when the head arrived with too much behind it: the
    // request event is then followed by the refusal.
    this.checkEarlyData(this.decoder.bufferedAmount);
  }

  /**
   * @internal The handshake completed: the frame phase starts with the
   * agreed subprotocol and extensions, and `trailing` (the bytes that came
   * after the head) is its first input.
   */
  protected opened(
    input: 'accept' | 'opened',
    protocol: string | null,
    agreed: readonly NegotiatedExtension[],
    headers: HttpHeaders,
    trailing: Uint8Array,
  ): void {
    this.move(input);
    this.protocolValue = protocol;
    if (agreed.length > 0) {
      this.extensionsValue = agreed;
      let rsv = 0;
      for (const ext of agreed) rsv |= ext.rsv;
      this.decoder.allowedRsv = rsv;
      const limits = {
        maxMessageSize: this.assembler.maxMessageSize,
        deferredEncoding: this.writer.onReady !== undefined,
      };
      this.sessions = agreed.map((ext) => ext.createSession(this.role, limits));
      this.writer.sessions = this.sessions;
    }
    const event: OpenEvent = {
      type: 'open',
      protocol,
      extensions: agreed.length > 0 ? serializeExtensions(agreed.map((ext) => ext.response)) : '',
      headers,
    };
    this.report(event);
    this.decoder.push(trailing);
  }

  /** @internal The handshake ended without a WebSocket: `event` says why (null: no event), `response` is written. */
  protected refused(
    input: 'refuse' | 'reject',
    event: HandshakeEvent | null,
    response: Uint8Array<ArrayBuffer> | null,
  ): void {
    this.move(input);
    this.decoder.discard();
    if (event !== null) this.report(event);
    if (response !== null) this.out.pushBuffer(response);
  }

  /** @internal Queues an event of the handshake phase. */
  protected report(event: HandshakeEvent): void {
    (this.queued ??= []).push(event);
  }

  /** @internal A handshake error event of this role. */
  protected handshakeError(
    failure: HandshakeFailure,
    reason: string,
    status: number | null,
    headers: HttpHeaders | null,
  ): HandshakeErrorEvent {
    return { type: 'protocol-error', phase: 'handshake', status, failure, reason, headers };
  }

  // ---- frame phase ------------------------------------------------------------

  private assertAllowed(input: Input, what: string): void {
    if (TRANSITIONS[this.s][input] === undefined) {
      throw new UsageError('ERR_INVALID_STATE', `cannot ${what} in state "${this.s}"`);
    }
  }

  private move(input: Input): void {
    const next = TRANSITIONS[this.s][input];
    // Every caller checked its input is allowed here; reaching this is a bug in the endpoint.
    if (next === undefined) throw new UsageError('ERR_INVALID_STATE', `internal: ${input} in state "${this.s}"`);
    this.s = next;
  }

  private sendPreEncoded(command: PreEncodedCommand): void {
    const message = command.message;
    if (message.encoding !== '' && message.encoding !== this.sharedEncoding) {
      throw new UsageError(
        'ERR_INVALID_ARGUMENT',
        `a message pre-encoded as "${message.encoding}" does not suit this connection`,
      );
    }
    if (this.role !== 'server')
      throw new UsageError('ERR_INVALID_STATE', 'pre-encoded messages are server frames (unmasked)');
    if (this.writer.streaming) {
      throw new UsageError(
        'ERR_MESSAGE_INTERLEAVED',
        'a data message was started before the streamed message was finished',
      );
    }
    for (const frame of message.frames) this.out.pushBuffer(frame);
  }

  /**
   * A data-frame piece when extensions were negotiated: routes the message to
   * the extension that claims it by its RSV bits, or to the plain path.
   * RSV bits are only meaningful on a message's first frame (RFC 7692 §6.1).
   */
  private extensionPiece(sessions: readonly ExtensionSession[]): FrameEvent<T> | undefined {
    const dec = this.decoder;
    if (dec.isStart) {
      if (dec.opcode === Opcode.Continuation) {
        if (dec.rsv !== 0) return frameError(CloseCode.ProtocolError, 'RSV1 set on a continuation frame');
      } else {
        let inflow: MessageDecoder | undefined;
        if (dec.rsv !== 0) {
          for (const session of sessions) {
            inflow = session.decoderFor(dec.rsv & session.rsv);
            if (inflow !== undefined) break;
          }
          if (inflow === undefined) return frameError(CloseCode.ProtocolError, 'RSV bits set that no extension claims');
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
  private drainInflow(): FrameEvent<T> | undefined {
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
        return frameError(out.code, out.reason);
      }
      const ev = this.assembler.pushDecoded(out, false);
      if (ev !== undefined) {
        // Parts mode: more output may follow this part; continue before reading new frames.
        this.draining = true;
        return ev;
      }
    }
  }

  private sendControl(opcode: number, payload: Uint8Array): void {
    if (payload.length > MAX_CONTROL_PAYLOAD) {
      throw new UsageError(
        'ERR_CONTROL_PAYLOAD_TOO_LONG',
        `control frame payload of ${payload.length} bytes exceeds 125`,
      );
    }
    this.writer.frame(FIN | opcode, payload, false);
  }

  /** Collects a control frame's payload (≤125 bytes, possibly split) and acts on it when complete. */
  private controlPiece(): FrameEvent<T> | undefined {
    const dec = this.decoder;
    if (dec.rsv !== 0 && dec.isStart) return frameError(CloseCode.ProtocolError, 'RSV bit set on a control frame');
    let payload: Uint8Array;
    if (dec.isStart && dec.isEnd) {
      payload = dec.piece;
      if (dec.masked) unmaskInPlace(payload, dec.maskKey, 0);
    } else {
      if (dec.isStart) this.controlLen = 0;
      const control = (this.control ??= new Uint8Array(MAX_CONTROL_PAYLOAD));
      control.set(dec.piece, this.controlLen);
      if (dec.masked)
        unmaskInPlace(
          control.subarray(this.controlLen, this.controlLen + dec.piece.length),
          dec.maskKey,
          dec.pieceOffset,
        );
      this.controlLen += dec.piece.length;
      if (!dec.isEnd) return undefined;
      payload = control.slice(0, this.controlLen);
    }
    switch (dec.opcode) {
      case Opcode.Ping:
        if (this.autoPong && this.s === 'open') this.writer.frame(FIN | Opcode.Pong, payload, false);
        return { type: 'ping', data: payload };
      case Opcode.Pong:
        return { type: 'pong', data: payload };
      default:
        return this.peerClose(payload);
    }
  }

  private peerClose(payload: Uint8Array): FrameEvent<T> {
    if (payload.length === 1) return frameError(CloseCode.ProtocolError, 'close frame with a 1-byte payload');
    let code: number = CloseCode.NoStatus;
    let reason = '';
    if (payload.length >= 2) {
      code = ((payload[0] as number) << 8) | (payload[1] as number);
      if (!isValidWireCloseCode(code)) return frameError(CloseCode.ProtocolError, `invalid close code ${code}`);
      const text = decodeUtf8(payload.subarray(2));
      if (text === undefined) return frameError(CloseCode.InvalidPayload, 'invalid UTF-8 in the close reason');
      reason = text;
    }
    this.receivedClose = { code, reason };
    if (this.s === 'open') {
      // Echo the peer's close frame, code and reason (§5.5.1 asks for the code;
      // `ws` echoes the reason too, and a WebSocketStream peer reports it).
      this.writer.frame(FIN | Opcode.Close, payload, false);
    }
    this.move('receive-close');
    this.decoder.discard();
    return { type: 'close', code, reason };
  }

  /** Fails the connection (§7.1.7): queue a close frame unless one was sent, stop reading input. */
  private fail(code: number, reason: string): FrameErrorEvent {
    if (this.s === 'open') this.writer.frame(FIN | Opcode.Close, closeBody(code, truncateReason(reason)), false);
    this.move('fail');
    this.decoder.discard();
    return frameError(code, reason);
  }

  /**
   * A message's compression failed off the thread (the backend's error, not
   * the peer's): nothing queued after it may follow it, so the connection
   * ends there with 1011, reported as a `protocol-error` of code 1011.
   */
  private encodingFailed(slot: Pending, error: Error): void {
    const reason = truncateReason(`compression failed: ${error.message}`);
    // Data is only sent while open, so any close frame (ours, an echo, a
    // failure's) was queued after this message and goes with the rest: this one replaces it.
    const close = new OutgoingQueue();
    this.writer.frameTo(close, FIN | Opcode.Close, closeBody(CloseCode.InternalError, reason));
    this.out.truncate(slot, close.take());
    if (this.s !== 'open' && this.s !== 'closing') return; // the application was already told the connection closed
    this.move('fail');
    (this.queued ??= []).push(frameError(CloseCode.InternalError, reason));
  }

  /** After the transport ended: the one final `closed` event. */
  private finish(): ClosedEvent {
    // Clean (§7.1.4) when the close handshake completed before the transport closed.
    const clean = this.s === 'closed';
    this.move('eof');
    this.decoder.discard();
    const got = this.receivedClose;
    if (got === undefined) return { type: 'closed', code: CloseCode.Abnormal, reason: '', wasClean: false };
    return { type: 'closed', code: got.code, reason: got.reason, wasClean: clean };
  }
}

function frameError(code: number, reason: string): FrameErrorEvent {
  return { type: 'protocol-error', phase: 'frames', code, reason };
}

/** Reads a positive number option, or its default when absent. */
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
