/**
 * Encoding a message once for many server endpoints (a broadcast or a
 * publication). Server frames are not masked, so the same bytes can go to
 * every connection whose negotiated encoding they suit: plain frames suit
 * all (RFC 7692 lets any message go uncompressed), and a compressed encoding
 * suits the endpoints whose `sharedEncoding` names it.
 */
import { DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';
import type { ExtensionSession, NegotiatedExtension } from './extension.js';
import { MessageWriter } from './message-writer.js';
import { Opcode } from './opcode.js';
import { OutgoingQueue } from './outgoing.js';
import { UsageError } from './errors.js';

/** A message encoded as server frames, ready to be written to many connections. */
export interface PreEncodedMessage {
  /** The frames, to be written in order. Do not modify them. */
  readonly frames: readonly Uint8Array<ArrayBuffer>[];
  readonly byteLength: number;
  /** '' for plain frames; otherwise the `sharedEncoding` an endpoint needs to send them. */
  readonly encoding: string;
}

/**
 * A data message to pre-encode. Text is a string or its UTF-8 bytes (e.g. a
 * message being forwarded as it arrived): bytes are validated, not decoded,
 * and framed as they are.
 */
export interface DataMessage {
  readonly type: 'text' | 'binary';
  readonly data: string | Uint8Array;
}

export interface MessagePreEncoderOptions {
  /** Split messages into frames of at most this many payload bytes. Default: never split. */
  readonly fragmentSize?: number;
}

export class MessagePreEncoder {
  private readonly fragmentSize: number;
  /** One writer per encoding, made on first use; '' is plain. */
  private readonly writers = new Map<string, { writer: MessageWriter; out: OutgoingQueue }>();

  constructor(options: MessagePreEncoderOptions = {}) {
    const size = options.fragmentSize ?? Infinity;
    if (!(size >= 1))
      throw new UsageError('ERR_INVALID_ARGUMENT', `fragmentSize must be a positive number, got ${size}`);
    this.fragmentSize = size;
  }

  /**
   * Encodes `message` for endpoints that negotiated `extensions` (an
   * endpoint's `extensions`): compressed when one of them has a shared
   * encoding, plain otherwise. Payload bytes (binary, or text given as
   * bytes) of 512 or more are referenced, not copied: do not modify them
   * afterwards. Text bytes that are not UTF-8 throw a {@link UsageError}
   * (`ERR_INVALID_ARGUMENT`), as an endpoint's `send` does, and nothing is
   * encoded.
   */
  encode(message: DataMessage, extensions: readonly NegotiatedExtension[] = []): PreEncodedMessage {
    let shared: NegotiatedExtension | undefined;
    for (const ext of extensions) {
      if (ext.sharedEncoding !== undefined) {
        shared = ext;
        break;
      }
    }
    const encoding = shared?.sharedEncoding ?? '';
    let entry = this.writers.get(encoding);
    if (entry === undefined) {
      const out = new OutgoingQueue();
      const writer = new MessageWriter(out, undefined, this.fragmentSize);
      if (shared !== undefined) {
        const session: ExtensionSession = shared.createSession('server', { maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE });
        writer.sessions = [session];
      }
      entry = { writer, out };
      this.writers.set(encoding, entry);
    }
    const { type, data } = message;
    if (type === 'text' ? typeof data !== 'string' && !(data instanceof Uint8Array) : !(data instanceof Uint8Array)) {
      throw new UsageError(
        'ERR_INVALID_ARGUMENT',
        `a ${type} message needs ${type === 'text' ? 'a string or its UTF-8 bytes' : 'a Uint8Array'}`,
      );
    }
    entry.writer.data(type === 'text' ? Opcode.Text : Opcode.Binary, data, true);
    const frames = entry.out.take();
    let byteLength = 0;
    for (const f of frames) byteLength += f.length;
    return { frames, byteLength, encoding };
  }
}
