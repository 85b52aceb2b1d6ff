/**
 * UTF-8 for text messages: a streaming validator that fails at the first bad
 * byte (so a fragmented text message is rejected in the fragment that breaks
 * it), decoding, and the `TextCodec` seam through which a platform lends the
 * codec faster native validation and decoding (as a deflate backend lends it
 * compression) while the codec itself stays plain JavaScript.
 */

/**
 * Platform accelerators for text, given as the endpoint option `text`. The
 * codec decides when bytes are valid and only then asks for a string, so
 * `decode` never sees invalid UTF-8 and need not check it.
 */
export interface TextCodec {
  /** Turns bytes already found to be valid UTF-8 into a string (a leading U+FEFF is text: keep it). */
  decode(bytes: Uint8Array): string;
  /**
   * True when `bytes` are entirely valid UTF-8 (RFC 3629: no overlongs,
   * surrogates or code points above U+10FFFF, no unfinished sequence at the
   * end). Without it the codec uses its own validator.
   */
  validate?(bytes: Uint8Array): boolean;
  /**
   * Validates and decodes in one step: the string, or undefined when the
   * bytes are not valid UTF-8. For a platform that can do both for less than
   * `validate` and `decode` apart (e.g. ASCII, which needs no validation once
   * found). Without it the codec calls `validate`, then `decode`.
   */
  decodeIfValid?(bytes: Uint8Array): string | undefined;
}

// Never used with `stream: true`: that would switch it to the slow converter for good.
const laxDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
const REPLACEMENT = '\uFFFD';

// Up to this length a JS loop beats TextDecoder's fixed per-call cost.
const SHORT_TEXT = 24;
// Up to this length one TextDecoder call beats two native calls (validate, then decode).
const SMALL_TEXT = 256;
// Ranges shorter than this are checked in JS even with a native validator: the call costs more.
const NATIVE_MIN = 32;
// ASCII runs are skipped four bytes at a time through an Int32Array view once the range is this long.
const WORDS_MIN = 128;

/**
 * Scans `bytes[i..end)` for whole UTF-8 sequences. Returns -1 at the first
 * invalid one; otherwise the index where a sequence that does not fit before
 * `end` begins (`end` when none does). That last sequence is not checked:
 * the caller checks it as the beginning of one.
 */
function scanValid(bytes: Uint8Array, i: number, end: number): number {
  let words: Int32Array | undefined;
  let base = 0;
  while (i < end) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      // Short runs (words between other characters) go byte by byte, long ones a word at a time.
      const stop = Math.min(end, i + 16);
      while (i < stop && (bytes[i] as number) < 0x80) i++;
      if (i === stop && end - i >= WORDS_MIN) {
        if (words === undefined) {
          // A view over the 4-byte-aligned part of `bytes`: ASCII is words with no high bit set.
          base = (4 - (bytes.byteOffset & 3)) & 3;
          words = new Int32Array(bytes.buffer, bytes.byteOffset + base, (bytes.length - base) >>> 2);
        }
        while (i < end && ((i - base) & 3) !== 0 && (bytes[i] as number) < 0x80) i++;
        if (((i - base) & 3) === 0 && i >= base) {
          let w = (i - base) >>> 2;
          const wEnd = (end - base) >>> 2;
          while (
            w + 4 <= wEnd &&
            (((words[w] as number) | (words[w + 1] as number) | (words[w + 2] as number) | (words[w + 3] as number)) &
              0x80808080) ===
              0
          )
            w += 4;
          while (w < wEnd && ((words[w] as number) & 0x80808080) === 0) w++;
          i = base + (w << 2);
        }
        while (i < end && (bytes[i] as number) < 0x80) i++;
      }
      continue;
    }
    if (b < 0xc2) return -1;
    if (b < 0xe0) {
      if (i + 2 > end) return i;
      if (((bytes[i + 1] as number) & 0xc0) !== 0x80) return -1;
      i += 2;
    } else if (b < 0xf0) {
      if (i + 3 > end) return i;
      const c = bytes[i + 1] as number;
      if (b === 0xe0 ? c < 0xa0 || c > 0xbf : b === 0xed ? c < 0x80 || c > 0x9f : (c & 0xc0) !== 0x80) return -1;
      if (((bytes[i + 2] as number) & 0xc0) !== 0x80) return -1;
      i += 3;
    } else if (b < 0xf5) {
      if (i + 4 > end) return i;
      const c = bytes[i + 1] as number;
      if (b === 0xf0 ? c < 0x90 || c > 0xbf : b === 0xf4 ? c < 0x80 || c > 0x8f : (c & 0xc0) !== 0x80) return -1;
      if (((bytes[i + 2] as number) & 0xc0) !== 0x80 || ((bytes[i + 3] as number) & 0xc0) !== 0x80) return -1;
      i += 4;
    } else {
      return -1;
    }
  }
  return end;
}

/**
 * Where an unfinished last sequence of `bytes[from..end)` begins (`end` when
 * the last one is complete, or is not a sequence at all: a whole-input
 * validator then judges it).
 */
export function unfinishedTail(bytes: Uint8Array, from: number, end: number): number {
  for (let k = 1; k <= 3 && end - k >= from; k++) {
    const b = bytes[end - k] as number;
    if ((b & 0xc0) === 0x80) continue;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > k ? end - k : end;
  }
  return end;
}

/**
 * Validator state between pieces: 0 means "at a character boundary".
 * Otherwise the low byte counts the continuation bytes still expected and the
 * next byte's allowed range is kept in `lo`/`hi`, because the second byte of
 * E0, ED, F0 and F4 sequences has a narrower range (no overlongs, surrogates
 * or code points above U+10FFFF).
 */
export class Utf8Validator {
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;

  /**
   * `whole` (optional) checks complete runs of input natively, e.g. a
   * `TextCodec`'s `validate`; the validator keeps the state across pieces.
   */
  constructor(private readonly whole?: (bytes: Uint8Array) => boolean) {}

  /** True while a multi-byte sequence is unfinished. */
  get incomplete(): boolean {
    return this.need !== 0;
  }

  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  /**
   * Feeds bytes; returns false at the first byte that cannot be valid UTF-8,
   * leaving the state as it was before the call.
   */
  update(bytes: Uint8Array): boolean {
    return this.feed(bytes, 0, bytes.length, false);
  }

  /**
   * Feeds `bytes[start..end)`. With `final`, the input must also end at a
   * character boundary (the state is then reset). Returns false, with the
   * state as it was before the call, when the input cannot be valid.
   */
  feed(bytes: Uint8Array, start: number, end: number, final: boolean): boolean {
    let need = this.need;
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    // The end of a sequence begun in earlier input.
    for (; need !== 0 && i < end; i++) {
      const b = bytes[i] as number;
      if (b < lo || b > hi) return false;
      lo = 0x80;
      hi = 0xbf;
      need--;
    }
    if (i < end) {
      let cut: number;
      const whole = this.whole;
      if (whole !== undefined && end - i >= NATIVE_MIN) {
        cut = unfinishedTail(bytes, i, end);
        if (cut > i && !whole(i === 0 && cut === bytes.length ? bytes : bytes.subarray(i, cut))) return false;
      } else {
        cut = scanValid(bytes, i, end);
        if (cut < 0) return false;
      }
      // At most 3 bytes that begin a sequence the next input finishes.
      for (i = cut; i < end; i++) {
        const b = bytes[i] as number;
        if (need === 0) {
          if (b < 0x80) continue;
          if (b < 0xc2) return false;
          if (b < 0xe0) {
            need = 1;
          } else if (b < 0xf0) {
            need = 2;
            if (b === 0xe0) lo = 0xa0;
            else if (b === 0xed) hi = 0x9f;
          } else if (b < 0xf5) {
            need = 3;
            if (b === 0xf0) lo = 0x90;
            else if (b === 0xf4) hi = 0x8f;
          } else {
            return false;
          }
        } else {
          if (b < lo || b > hi) return false;
          lo = 0x80;
          hi = 0xbf;
          need--;
        }
      }
    }
    if (final && need !== 0) return false;
    this.need = need;
    this.lo = lo;
    this.hi = hi;
    return true;
  }
}

/**
 * Decodes UTF-8 bytes into a string, or returns undefined when they are not
 * valid UTF-8 (the caller turns that into close code 1007).
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  const n = bytes.length;
  if (n <= SHORT_TEXT) {
    let s = '';
    let i = 0;
    for (; i < n; i++) {
      const b = bytes[i] as number;
      if (b >= 0x80) break;
      s += String.fromCharCode(b);
    }
    if (i === n) return s;
  }
  // The replacing decoder is faster than the fatal one, and it marks every
  // invalid sequence with U+FFFD, so text without one is valid. Only text that
  // has one (possibly its own) is checked.
  const text = laxDecoder.decode(bytes);
  return text.indexOf(REPLACEMENT) < 0 || isValidUtf8(bytes) ? text : undefined;
}

/** True when `bytes` is entirely valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return scanValid(bytes, 0, bytes.length) === bytes.length;
}

/** Decodes bytes known to be valid UTF-8. */
function decodeValidUtf8(bytes: Uint8Array): string {
  return bytes.length <= SHORT_TEXT ? (decodeUtf8(bytes) as string) : laxDecoder.decode(bytes);
}

/**
 * How one endpoint validates and decodes text: the codec's own way, or with a
 * platform's `TextCodec`.
 */
export class TextRules {
  /** True when `bytes` is entirely valid UTF-8. */
  readonly validate: (bytes: Uint8Array) => boolean;
  /** Decodes bytes already validated. */
  readonly decodeValid: (bytes: Uint8Array) => string;
  /** Validates and decodes in one step: undefined when the bytes are not valid UTF-8. */
  readonly decodeChecked: (bytes: Uint8Array) => string | undefined;
  private readonly native: ((bytes: Uint8Array) => boolean) | undefined;

  constructor(codec?: TextCodec) {
    if (codec === undefined) {
      this.native = undefined;
      this.validate = isValidUtf8;
      this.decodeValid = decodeValidUtf8;
      this.decodeChecked = decodeUtf8;
      return;
    }
    const decode = codec.decode.bind(codec);
    const validate = codec.validate === undefined ? isValidUtf8 : codec.validate.bind(codec);
    const both =
      codec.decodeIfValid === undefined
        ? (bytes: Uint8Array) => (validate(bytes) ? decode(bytes) : undefined)
        : codec.decodeIfValid.bind(codec);
    this.native = codec.validate === undefined ? undefined : validate;
    this.validate = validate;
    this.decodeValid = decode;
    this.decodeChecked = (bytes) => (bytes.length <= SMALL_TEXT ? decodeUtf8(bytes) : both(bytes));
  }

  /** A streaming validator that uses the native one for runs of input. */
  validator(): Utf8Validator {
    return new Utf8Validator(this.native);
  }
}

/** The rules without accelerators, shared by every endpoint that has none. */
export const PLAIN_TEXT = new TextRules();

const rulesByCodec = new WeakMap<TextCodec, TextRules>();

/** The rules for `codec`, made once per codec object: a server's connections share them. */
export function textRules(codec: TextCodec | undefined): TextRules {
  if (codec === undefined) return PLAIN_TEXT;
  let rules = rulesByCodec.get(codec);
  if (rules === undefined) {
    rules = new TextRules(codec);
    rulesByCodec.set(codec, rules);
  }
  return rules;
}

/**
 * Decodes validated UTF-8 that arrives in pieces without splitting a
 * character: the unfinished end of a piece (at most 3 bytes) waits for the
 * next one. Needs no streaming decoder, so the fast whole-input one serves.
 */
export class PartDecoder {
  private readonly carry = new Uint8Array(4);
  private carried = 0;

  constructor(private readonly decode: (bytes: Uint8Array) => string) {}

  reset(): void {
    this.carried = 0;
  }

  /** The text of `bytes` (validated) after what the previous piece left unfinished. */
  push(bytes: Uint8Array): string {
    let head = '';
    let from = 0;
    if (this.carried > 0) {
      const lead = this.carry[0] as number;
      const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      from = Math.min(length - this.carried, bytes.length);
      this.carry.set(bytes.subarray(0, from), this.carried);
      this.carried += from;
      if (this.carried < length) return '';
      head = this.decode(this.carry.subarray(0, length));
      this.carried = 0;
    }
    const cut = unfinishedTail(bytes, from, bytes.length);
    if (cut < bytes.length) {
      this.carry.set(bytes.subarray(cut), 0);
      this.carried = bytes.length - cut;
    }
    if (cut === from) return head;
    const body = this.decode(from === 0 && cut === bytes.length ? bytes : bytes.subarray(from, cut));
    return head === '' ? body : head + body;
  }
}
