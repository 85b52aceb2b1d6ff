/**
 * Finds and splits an HTTP/1.1 head (start line + header lines) at the front
 * of a byte stream, for display. Validation of an upgrade request is the
 * codec's (`ServerHandshake`); this only needs to show the lines as sent.
 */

/** Largest head looked for before giving up (the codec's server default). */
export const MAX_HEAD = 16 * 1024;

export interface SplitHead {
  readonly startLine: string;
  /** Header lines as sent: original case and order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Bytes of the head including the blank line. */
  readonly length: number;
}

export type HeadSplit =
  | { readonly type: 'head'; readonly head: SplitHead }
  | { readonly type: 'incomplete' }
  | { readonly type: 'invalid'; readonly reason: string };

const decoder = new TextDecoder('latin1');

export function splitHead(bytes: Uint8Array): HeadSplit {
  const end = indexOfBlankLine(bytes);
  if (end < 0) {
    return bytes.length > MAX_HEAD
      ? { type: 'invalid', reason: `no end of the HTTP head (CRLF CRLF) in the first ${MAX_HEAD} bytes` }
      : { type: 'incomplete' };
  }
  const lines = decoder.decode(bytes.subarray(0, end)).split('\r\n');
  const headers: Array<readonly [string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon <= 0) return { type: 'invalid', reason: `header line ${i} has no "name:": ${JSON.stringify(line)}` };
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { type: 'head', head: { startLine: lines[0] ?? '', headers, length: end + 4 } };
}

/** The value of a header (names compared case-insensitively; repeats joined as HTTP says). */
export function headerValue(head: SplitHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  const values = head.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(', ');
}

/** Whether bytes look like the start of an HTTP request or response rather than frames. */
export function looksLikeHttp(bytes: Uint8Array): 'request' | 'response' | null {
  const start = decoder.decode(bytes.subarray(0, 8));
  if (/^HTTP\/\d/.test(start)) return 'response';
  if (/^(GET|POST|PUT|HEAD|OPTIONS|DELETE|PATCH|CONNECT) /.test(start)) return 'request';
  return null;
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}
