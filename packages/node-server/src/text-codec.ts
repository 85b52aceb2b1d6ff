/**
 * Node's native UTF-8 helpers, lent to the codec as its text accelerators
 * (the endpoint option `text`). Validation is `buffer.isUtf8` (SIMD). Strings
 * are made the fastest way Node has for the text at hand: ASCII (and short
 * text) by `Buffer#utf8Slice`, what `Buffer#toString()` runs, minus its
 * argument handling; other text by transcoding to UTF-16 natively and copying
 * that into a string, several times faster than V8's own UTF-8 decoding for
 * non-ASCII text (e.g. 16 KiB of mixed scripts: ~20 µs against ~150 µs here).
 * Every helper reads any Uint8Array, so no Buffer is made per message.
 */
import { isAscii, isUtf8, transcode } from 'node:buffer';
import type { TextCodec } from '@rfc6455/codec';

type Slice = (this: Uint8Array, start: number, end: number) => string;
// Not part of Node's documented API: TextDecoder stands in should a release drop them.
const { utf8Slice, ucs2Slice } = Buffer.prototype as unknown as { utf8Slice?: Slice; ucs2Slice?: Slice };
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
// Shorter non-ASCII text is made as fast by utf8Slice, without the UTF-16 copy.
const TRANSCODE_MIN = 1024;

/** Whether this Node can transcode (builds without ICU cannot) and its result reads back. */
const transcodes = ((): boolean => {
  if (typeof ucs2Slice !== 'function') return false;
  try {
    const utf16 = transcode(Uint8Array.of(0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80), 'utf8', 'ucs2');
    return ucs2Slice.call(utf16, 0, utf16.length) === '\ufeffé😀';
  } catch {
    return false;
  }
})();

function decodeUtf8(bytes: Uint8Array): string {
  return utf8Slice === undefined ? decoder.decode(bytes) : utf8Slice.call(bytes, 0, bytes.length);
}

function decode(bytes: Uint8Array): string {
  if (!transcodes || bytes.length < TRANSCODE_MIN || isAscii(bytes)) return decodeUtf8(bytes);
  const utf16 = transcode(bytes, 'utf8', 'ucs2');
  return (ucs2Slice as Slice).call(utf16, 0, utf16.length);
}

function decodeIfValid(bytes: Uint8Array): string | undefined {
  // ASCII is valid UTF-8: one scan instead of two.
  if (isAscii(bytes)) return decodeUtf8(bytes);
  return isUtf8(bytes) ? decode(bytes) : undefined;
}

/** The text accelerators every `WebSocketServer` passes to its endpoints; usable with any codec endpoint in Node. */
export const nodeTextCodec: TextCodec = { validate: isUtf8, decode, decodeIfValid };
