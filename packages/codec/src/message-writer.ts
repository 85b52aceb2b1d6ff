/**
 * Turns outgoing messages into frames (RFC 6455 §5.4): fragmentation, the
 * streamed-message rule (no data message inside another), text given as
 * UTF-8 bytes (validated, then framed as it is), and the negotiated
 * extensions' message encoders. Shared by an endpoint and by the broadcast
 * pre-encoder, so both put the same bytes on the wire.
 */
import { UsageError } from './errors.js';
import type { ExtensionSession, MessageEncoder } from './extension.js';
import { FrameEncoder } from './frame-encoder.js';
import { OutgoingQueue, type Pending } from './outgoing.js';
import type { MaskKeyPool } from './random.js';
import { Opcode } from './opcode.js';
import { PLAIN_TEXT, type TextRules, type Utf8Validator } from './utf8.js';

const FIN = 0x80;
const encoder = new TextEncoder();

/** A frame encoder that also writes whole messages: one object per connection, not two. */
export class MessageWriter extends FrameEncoder {
  /** Sessions of the negotiated extensions; undefined without any (the plain path stays as it was). */
  sessions: readonly ExtensionSession[] | undefined = undefined;
  /** Opcode of the message being streamed out, 0 when none. */
  private sending = 0;
  /** Encoder of the outbound message being streamed, when an extension transforms it. */
  private outflow: MessageEncoder | undefined;
  /** UTF-8 state of a text message streamed out as bytes; made on first use. */
  private textState: Utf8Validator | undefined;
  /** Told when a held slot got its frames (an encoding that completed later). */
  onReady: (() => void) | undefined = undefined;
  /** Told when an encoding that completes later failed; the slot is still held. */
  onFailed: ((slot: Pending, error: Error) => void) | undefined = undefined;

  constructor(
    out: OutgoingQueue,
    keys: MaskKeyPool | undefined,
    private readonly fragmentSize: number,
    private readonly rules: TextRules = PLAIN_TEXT,
  ) {
    super(out, keys);
  }

  /** True while a message sent with `fin: false` is unfinished. */
  get streaming(): boolean {
    return this.sending !== 0;
  }

  /** Queues a data message or a chunk of a streamed one; `transfer`: the bytes are the writer's to mask in place. */
  data(opcode: number, data: string | Uint8Array, fin: boolean, transfer = false): void {
    const first = this.sending === 0;
    if (!first && this.sending !== opcode) {
      throw new UsageError(
        'ERR_MESSAGE_INTERLEAVED',
        'a data message was started before the streamed message was finished',
      );
    }
    if (opcode === Opcode.Text) this.checkText(data, first, fin);
    this.sending = fin ? 0 : opcode;
    let payload = data;
    if (this.sessions !== undefined) {
      // Extensions decide on the byte length, so a string and its UTF-8 bytes get the same frames.
      if (first && typeof payload === 'string') payload = encoder.encode(payload);
      if (this.sendEncoded(this.sessions, first, opcode, payload, fin)) return;
    }
    const op = first ? opcode : Opcode.Continuation;
    if (typeof payload === 'string') {
      if (payload.length * 3 <= this.fragmentSize) {
        this.text((fin ? FIN : 0) | op, payload);
        return;
      }
      this.fragments(op, encoder.encode(payload), fin, true);
      return;
    }
    this.fragments(op, payload, fin, transfer || payload !== data);
  }

  /**
   * Text given as bytes must be UTF-8: the peer would fail the connection
   * with 1007 otherwise, far from the mistake. It is checked before anything
   * is queued, with the endpoint's validator (native when a `text`
   * accelerator is given, so a forwarded message costs a fast scan, not a
   * decode and an encode). Throws, changing nothing, when it is not.
   */
  private checkText(data: string | Uint8Array, first: boolean, fin: boolean): void {
    let state = this.textState;
    if (first) state?.reset();
    if (typeof data === 'string') {
      // A string is whole characters: bytes sent before it may not end inside one.
      if (state?.incomplete === true)
        throw new UsageError(
          'ERR_INVALID_ARGUMENT',
          'a text part ended inside a UTF-8 character that the next part does not finish',
        );
      return;
    }
    if (first && fin) {
      if (!this.rules.validate(data)) throw invalidText();
      return;
    }
    state ??= this.textState = this.rules.validator();
    if (!state.feed(data, 0, data.length, fin)) throw invalidText();
  }

  /**
   * Sends a data chunk through an extension's encoder when one claims the
   * message (decided on its first chunk); false to send it as is. RSV bits go
   * on the message's first frame only.
   */
  private sendEncoded(
    sessions: readonly ExtensionSession[],
    first: boolean,
    opcode: number,
    data: string | Uint8Array,
    fin: boolean,
  ): boolean {
    let enc = this.outflow;
    if (first) {
      enc = undefined;
      for (const session of sessions) {
        // A message's first chunk is bytes here (`data()` encodes a string first), so this is its byte length.
        enc = session.encoderFor(data.length, !fin);
        if (enc !== undefined) break;
      }
    }
    this.outflow = fin ? undefined : enc;
    if (enc === undefined) return false;
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    const op = first ? opcode | enc.rsv : Opcode.Continuation;
    if (enc.encodeLater !== undefined) {
      this.encodeLater(enc, op, bytes, fin);
      return true;
    }
    this.fragments(op, enc.encode(bytes, fin), fin, true);
    return true;
  }

  /** Queues one frame into `queue` instead of the connection's queue. */
  frameTo(queue: OutgoingQueue, byte0: number, payload: Uint8Array): void {
    this.writeInto(queue, () => this.frame(byte0, payload, false));
  }

  /** Runs `write` with frames going to `queue`, then points back at the connection's queue. */
  private writeInto(queue: OutgoingQueue, write: () => void): void {
    const own = this.out;
    this.out = queue;
    try {
      write();
    } finally {
      this.out = own;
    }
  }

  /**
   * Holds the message's place in the queue while its encoding runs
   * elsewhere; the frames are made when it is done, so a client's mask keys
   * and the fragmentation are those of the sync path.
   */
  private encodeLater(enc: MessageEncoder, op: number, bytes: Uint8Array, fin: boolean): void {
    const queue = this.out;
    const slot = queue.hold(bytes.length);
    (enc.encodeLater as NonNullable<MessageEncoder['encodeLater']>)(bytes, fin, (result) => {
      if (result instanceof Error) {
        this.onFailed?.(slot, result);
        return;
      }
      const frames = new OutgoingQueue();
      this.writeInto(frames, () => this.fragments(op, result, fin, true));
      queue.fill(slot, frames.take());
      this.onReady?.();
    });
  }

  private fragments(op: number, bytes: Uint8Array, fin: boolean, owned: boolean): void {
    const size = this.fragmentSize;
    if (bytes.length <= size) {
      // The common case: one frame, and no view to create.
      this.frame((fin ? FIN : 0) | op, bytes, owned);
      return;
    }
    let at = 0;
    do {
      const end = Math.min(bytes.length, at + size);
      const last = end === bytes.length;
      this.frame((last && fin ? FIN : 0) | (at === 0 ? op : Opcode.Continuation), bytes.subarray(at, end), owned);
      at = end;
    } while (at < bytes.length);
  }
}

function invalidText(): UsageError {
  return new UsageError('ERR_INVALID_ARGUMENT', 'text bytes are not valid UTF-8 (or end inside a character)');
}
