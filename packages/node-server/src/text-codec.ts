/**
 * Node's native UTF-8 helpers, lent to the codec as its text accelerators
 * (the endpoint option `text`): `buffer.isUtf8` validates with SIMD, and
 * `Buffer#utf8Slice` (what `Buffer#toString()` runs for UTF-8, without its
 * argument handling) builds strings. Both read any Uint8Array, so no Buffer
 * is made per message.
 */
import { isUtf8 } from 'node:buffer';
import type { TextCodec } from '@rfc6455/codec';

type Utf8Slice = (this: Uint8Array, start: number, end: number) => string;
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice?: Utf8Slice }).utf8Slice;
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** The text accelerators every `WebSocketServer` passes to its endpoints; usable with any codec endpoint in Node. */
export const nodeTextCodec: TextCodec = {
  validate: isUtf8,
  // utf8Slice is not part of Node's documented API: TextDecoder stands in should a release drop it.
  decode: typeof utf8Slice === 'function' ? (bytes) => utf8Slice.call(bytes, 0, bytes.length) : (bytes) => decoder.decode(bytes),
};
