/**
 * Hex text ↔ bytes. Input is forgiving about layout (what people paste from
 * Wireshark, xxd -p, DevTools or a C array: spaces, newlines, colons, commas,
 * `0x` prefixes) and strict about content, so a typo is reported with its
 * position instead of silently dropping a nibble.
 */

export type HexParseResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly position: number; readonly reason: string };

const SEPARATOR = /[\s,:;]/;

export function parseHex(text: string): HexParseResult {
  const out: number[] = [];
  let high = -1;
  let highAt = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (SEPARATOR.test(ch)) {
      if (high >= 0)
        return { ok: false, position: highAt, reason: `odd hex digit "${text[highAt]}" not followed by its pair` };
      continue;
    }
    // `0x` only where a byte starts; a 0 inside a byte is a digit.
    if (high < 0 && ch === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      i++;
      continue;
    }
    const value = Number.parseInt(ch, 16);
    if (Number.isNaN(value)) return { ok: false, position: i, reason: `"${ch}" is not a hex digit` };
    if (high < 0) {
      high = value;
      highAt = i;
    } else {
      out.push((high << 4) | value);
      high = -1;
    }
  }
  if (high >= 0) return { ok: false, position: highAt, reason: 'odd number of hex digits' };
  return { ok: true, bytes: Uint8Array.from(out) };
}

/** `de ad be ef`, cut after `max` bytes with a count of what was left out. */
export function toHex(bytes: Uint8Array, max = Number.POSITIVE_INFINITY): string {
  const shown = bytes.length > max ? bytes.subarray(0, max) : bytes;
  let text = '';
  for (let i = 0; i < shown.length; i++)
    text += (i === 0 ? '' : ' ') + (shown[i] as number).toString(16).padStart(2, '0');
  return bytes.length > max ? `${text} … (+${bytes.length - max} bytes)` : text;
}
