/**
 * Turns outgoing messages into frames (RFC 6455 §5.4): fragmentation, the
 * streamed-message rule (no data message inside another), and the negotiated
 * extensions' message encoders. Shared by an endpoint and by the broadcast
 * pre-encoder, so both put the same bytes on the wire.
 */
import { UsageError } from './errors.js';
import type { ExtensionSession, MessageEncoder } from './extension.js';
import { FrameEncoder } from './frame-encoder.js';
import type { OutgoingQueue } from './outgoing.js';
import type { MaskKeyPool } from './random.js';
import { Opcode } from './opcode.js';

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

  constructor(
    out: OutgoingQueue,
    keys: MaskKeyPool | undefined,
    private readonly fragmentSize: number,
  ) {
    super(out, keys);
  }

  /** True while a message sent with `fin: false` is unfinished. */
  get streaming(): boolean {
    return this.sending !== 0;
  }

  /** Queues a data message or a chunk of a streamed one. */
  data(opcode: number, data: string | Uint8Array, fin: boolean): void {
    const first = this.sending === 0;
    if (!first && this.sending !== opcode) {
      throw new UsageError('ERR_MESSAGE_INTERLEAVED', 'a data message was started before the streamed message was finished');
    }
    this.sending = fin ? 0 : opcode;
    if (this.sessions !== undefined && this.sendEncoded(this.sessions, first, opcode, data, fin)) return;
    const op = first ? opcode : Opcode.Continuation;
    if (typeof data === 'string') {
      if (data.length * 3 <= this.fragmentSize) {
        this.text((fin ? FIN : 0) | op, data);
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
