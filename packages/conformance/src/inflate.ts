/**
 * The judge's permessage-deflate reader, on `node:zlib` rather than the
 * codec's inflater, so a decompression bug in the codec cannot vouch for
 * itself. RFC 7692 §7.2.2: append 00 00 ff ff to a message's payload and
 * inflate it as raw DEFLATE.
 *
 * - Context takeover: zlib's sync calls keep no state between messages, so the
 *   LZ77 window is carried as a preset dictionary: the last 2^windowBits bytes
 *   of everything inflated so far. Without takeover there is no dictionary, so
 *   a peer that refers back to an earlier message after promising not to
 *   fails with "invalid distance too far back".
 * - Window bits: zlib's window is set to the agreed size and the output is
 *   produced in chunks of 2^windowBits bytes. zlib checks a distance against
 *   its window only when it reaches past the output of the current call, so a
 *   peer that uses a larger window than agreed is caught once its distances
 *   exceed twice the agreed window (a 15-bit peer on a 9-bit agreement is);
 *   distances between one and two windows can slip through.
 */
import { constants, inflateRawSync } from 'node:zlib';

const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/** Inflates one message's payload; a string says why it does not inflate. */
export type MessageInflater = (payload: Uint8Array) => Uint8Array | string;

export interface InflaterOptions {
  /** The sender's agreed window (its `*_max_window_bits`), 8–15. */
  readonly windowBits: number;
  /** False when the sender agreed `*_no_context_takeover`. */
  readonly takeover: boolean;
  /** Output beyond this fails the message rather than exhausting memory (default 256 MiB). */
  readonly maxOutput?: number;
}

export function messageInflater(options: InflaterOptions): MessageInflater {
  const windowBits = options.windowBits;
  const windowSize = 2 ** windowBits;
  let history: Buffer = Buffer.alloc(0);
  return (payload) => {
    const input = Buffer.concat([payload, TAIL]);
    let out: Buffer;
    try {
      out = inflateRawSync(input, {
        windowBits,
        finishFlush: constants.Z_SYNC_FLUSH,
        chunkSize: Math.max(64, windowSize),
        maxOutputLength: options.maxOutput ?? 256 * 1024 * 1024,
        ...(history.length > 0 ? { dictionary: history } : {}),
      });
    } catch (error) {
      return `compressed data that does not inflate: ${error instanceof Error ? error.message : String(error)}`;
    }
    // A copy of the last window only: a view would keep a whole large message alive.
    if (options.takeover)
      history = Buffer.from((out.length >= windowSize ? out : Buffer.concat([history, out])).subarray(-windowSize));
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  };
}
