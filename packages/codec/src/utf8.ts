/**
 * UTF-8 helpers for the receive path: a streaming validator that fails at the
 * first bad byte (so a fragmented text message is rejected in the fragment
 * that breaks it), and decoding that avoids TextDecoder's per-call cost for
 * short ASCII payloads.
 */

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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

  /** True while a multi-byte sequence is unfinished. */
  get incomplete(): boolean {
    return this.need !== 0;
  }

  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  /** Feeds bytes; returns false at the first byte that cannot be valid UTF-8. */
  update(bytes: Uint8Array): boolean {
    let need = this.need;
    let lo = this.lo;
    let hi = this.hi;
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      const b = bytes[i] as number;
      if (need === 0) {
        if (b < 0x80) continue;
        if (b < 0xc2) return this.fail();
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
          return this.fail();
        }
      } else {
        if (b < lo || b > hi) return this.fail();
        lo = 0x80;
        hi = 0xbf;
        need--;
      }
    }
    this.need = need;
    this.lo = lo;
    this.hi = hi;
    return true;
  }

  private fail(): false {
    this.reset();
    return false;
  }
}

// Up to this length a JS loop beats TextDecoder's fixed per-call cost.
const SHORT_TEXT = 24;

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
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** True when `bytes` is entirely valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const v = new Utf8Validator();
  return v.update(bytes) && !v.incomplete;
}
