/**
 * An incremental HTTP/1.1 message-head parser (RFC 7230 §3) for the opening
 * handshake: a request line or status line, header fields, and the empty line.
 *
 * It reads bytes in any split, looks at each byte once, buffers at most
 * `maxHeadSize` bytes, and never throws on peer input: a malformed or oversized
 * head becomes an `invalid` result carrying the HTTP status a server would send
 * (400 or 431). It is deliberately stricter than a general-purpose HTTP parser:
 * every leniency (bare LF, obs-fold, whitespace before the colon) has been a
 * request-smuggling vector somewhere, and a WebSocket handshake needs none.
 */

import { UsageError } from './errors.js';
import { isTokenChar } from './header-grammar.js';
import { copyOf } from './byte-copy.js';

/** Header fields in received order, looked up by case-insensitive name. */
export class HttpHeaders implements Iterable<readonly [string, string]> {
  private readonly list: ReadonlyArray<readonly [string, string]>;
  private readonly byName = new Map<string, string[]>();

  constructor(entries: Iterable<readonly [string, string]>) {
    const list: Array<readonly [string, string]> = [];
    for (const [name, value] of entries) {
      list.push([name, value]);
      const key = name.toLowerCase();
      const values = this.byName.get(key);
      if (values === undefined) this.byName.set(key, [value]);
      else values.push(value);
    }
    this.list = list;
  }

  /**
   * The field's value; repeated fields are joined with ", " (RFC 7230 §3.2.2).
   * Use {@link getAll} for `Set-Cookie`, which must not be joined.
   */
  get(name: string): string | undefined {
    return this.byName.get(name.toLowerCase())?.join(', ');
  }

  /** Every value of the field, in received order. */
  getAll(name: string): readonly string[] {
    return this.byName.get(name.toLowerCase()) ?? [];
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  /** Number of field lines (not distinct names). */
  get size(): number {
    return this.list.length;
  }

  /** Field lines as received: original name case, received order. */
  entries(): ReadonlyArray<readonly [string, string]> {
    return this.list;
  }

  [Symbol.iterator](): Iterator<readonly [string, string]> {
    return this.list[Symbol.iterator]();
  }
}

/** Limits on a message head; all are byte or line counts. */
export interface HeadLimits {
  /** Bytes from the first byte through the terminating empty line. */
  readonly maxHeadSize: number;
  /** Header field lines. */
  readonly maxHeaderCount: number;
  /** Bytes in the request line or status line, without its CRLF. */
  readonly maxStartLineLength: number;
}

/** Safe defaults, close to h11's (16 KiB) and tungstenite's header count. */
export const DEFAULT_HEAD_LIMITS: HeadLimits = {
  maxHeadSize: 16 * 1024,
  maxHeaderCount: 100,
  maxStartLineLength: 8 * 1024,
};

export interface RequestLine {
  readonly method: string;
  /** The request-target exactly as sent. */
  readonly target: string;
  /** e.g. "1.1". */
  readonly httpVersion: string;
}

export interface StatusLine {
  /** e.g. "1.1". */
  readonly httpVersion: string;
  readonly status: number;
  readonly reason: string;
}

/** Where parsing of one head stands after the bytes given so far. */
export type HeadParseResult<T> =
  | { readonly type: 'incomplete' }
  | {
      readonly type: 'complete';
      readonly startLine: T;
      readonly headers: HttpHeaders;
      /** Bytes received after the head: the peer's next data, never dropped. */
      readonly trailing: Uint8Array<ArrayBuffer>;
    }
  | { readonly type: 'invalid'; readonly status: 400 | 431; readonly reason: string };

type LineResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** How one kind of start line is named in reasons and parsed. */
interface StartLineSyntax<T> {
  /** The start line, in reasons about it. */
  readonly name: string;
  /** The whole message, in reasons about the head. */
  readonly message: string;
  parse(bytes: Uint8Array, start: number, end: number): LineResult<T>;
}

const HTAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const COLON = 0x3a;

const Phase = {
  StartLine: 'start-line',
  Headers: 'headers',
  Done: 'done',
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

const INCOMPLETE = { type: 'incomplete' } as const;

/** Parses one message head from bytes pushed in any split. */
export class HttpHeadParser<T> {
  private buffer = new Uint8Array(0);
  private length = 0;
  /** Next byte to look at; bytes before it were already scanned. */
  private scanPos = 0;
  private lineStart = 0;
  private phase: Phase = Phase.StartLine;
  private startLine: T | undefined;
  private readonly fields: Array<readonly [string, string]> = [];
  private result: HeadParseResult<T> = INCOMPLETE;

  constructor(
    private readonly syntax: StartLineSyntax<T>,
    private readonly limits: HeadLimits,
  ) {}

  /**
   * Feeds bytes. Once the result is `complete` or `invalid` it stays so and
   * further bytes are ignored (they belong to whoever handles the result).
   */
  push(chunk: Uint8Array): HeadParseResult<T> {
    if (this.done) return this.result;
    const take = Math.min(chunk.length, this.limits.maxHeadSize - this.length);
    this.append(chunk, take);
    const headEnd = this.scan();
    if (this.done) {
      if (headEnd >= 0) this.attachTrailing(chunk, take, headEnd);
      return this.result;
    }
    if (this.length >= this.limits.maxHeadSize) {
      return this.finish(invalid(431, `${this.syntax.message} head larger than ${this.limits.maxHeadSize} bytes`));
    }
    return INCOMPLETE;
  }

  /** Whether the head is complete or invalid; later bytes are not its business. */
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  private append(chunk: Uint8Array, take: number): void {
    if (take === 0) return;
    const needed = this.length + take;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.min(Math.max(needed, this.buffer.length * 2, 1024), this.limits.maxHeadSize));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(chunk.subarray(0, take), this.length);
    this.length = needed;
  }

  /** Scans new bytes line by line; returns the head's end offset, or -1. */
  private scan(): number {
    const buf = this.buffer;
    for (let i = this.scanPos; i < this.length; i++) {
      if (buf[i] !== LF) continue;
      this.scanPos = i + 1;
      if (i === this.lineStart || buf[i - 1] !== CR) {
        this.finish(invalid(400, 'line ending is a bare LF, not CRLF'));
        return -1;
      }
      const end = this.onLine(this.lineStart, i - 1);
      this.lineStart = i + 1;
      if (this.phase === Phase.Done) return end ? i + 1 : -1;
    }
    this.scanPos = this.length;
    if (this.phase === Phase.StartLine && this.length - this.lineStart > this.limits.maxStartLineLength + 1) {
      this.finish(invalid(400, `${this.syntax.name} longer than ${this.limits.maxStartLineLength} bytes`));
    }
    return -1;
  }

  /** Handles the line [start, end) without CRLF; true when it ended the head. */
  private onLine(start: number, end: number): boolean {
    if (this.phase === Phase.StartLine) {
      this.onStartLine(start, end);
      return false;
    }
    if (start === end) {
      this.finish({
        type: 'complete',
        startLine: this.startLine as T,
        headers: new HttpHeaders(this.fields),
        trailing: new Uint8Array(0),
      });
      return true;
    }
    if (this.fields.length >= this.limits.maxHeaderCount) {
      this.finish(invalid(431, `more than ${this.limits.maxHeaderCount} header fields`));
      return false;
    }
    const field = parseFieldLine(this.buffer, start, end);
    if (!field.ok) this.finish(invalid(400, field.reason));
    else this.fields.push(field.value);
    return false;
  }

  private onStartLine(start: number, end: number): void {
    // RFC 7230 §3.5: ignore empty lines before the start line; the head size
    // limit still counts them.
    if (start === end) return;
    if (end - start > this.limits.maxStartLineLength) {
      this.finish(invalid(400, `${this.syntax.name} longer than ${this.limits.maxStartLineLength} bytes`));
      return;
    }
    const parsed = this.syntax.parse(this.buffer, start, end);
    if (!parsed.ok) {
      this.finish(invalid(400, parsed.reason));
      return;
    }
    this.startLine = parsed.value;
    this.phase = Phase.Headers;
  }

  /** The bytes after the head: the rest of this chunk, copied so the caller owns it. */
  private attachTrailing(chunk: Uint8Array, take: number, headEnd: number): void {
    if (this.result.type !== 'complete') return;
    const firstTrailing = take - (this.length - headEnd);
    this.result = { ...this.result, trailing: copyOf(chunk, firstTrailing) };
  }

  private finish(result: HeadParseResult<T>): HeadParseResult<T> {
    this.phase = Phase.Done;
    this.result = result;
    this.release();
    return result;
  }

  private release(): void {
    this.buffer = new Uint8Array(0);
  }
}

function invalid(status: 400 | 431, reason: string): HeadParseResult<never> {
  return { type: 'invalid', status, reason };
}

/**
 * `field-name ":" OWS field-value OWS` with a token name, no whitespace before
 * the colon (RFC 7230 §3.2.4 requires a 400), no obs-fold, and no control
 * bytes other than HTAB in the value.
 */
function parseFieldLine(buf: Uint8Array, start: number, end: number): LineResult<readonly [string, string]> {
  const first = buf[start] ?? 0;
  if (first === SP || first === HTAB) return fail('obsolete line folding in a header field');
  let colon = start;
  while (colon < end && isTokenChar(buf[colon] ?? 0)) colon++;
  if (colon === end) return fail('header field without a colon');
  const stop = buf[colon] ?? 0;
  if (stop !== COLON) {
    if (stop === SP || stop === HTAB) return fail('whitespace between header field name and colon');
    return fail('invalid character in header field name');
  }
  if (colon === start) return fail('empty header field name');
  let valueStart = colon + 1;
  let valueEnd = end;
  while (valueStart < valueEnd && isOws(buf[valueStart] ?? 0)) valueStart++;
  while (valueEnd > valueStart && isOws(buf[valueEnd - 1] ?? 0)) valueEnd--;
  for (let i = valueStart; i < valueEnd; i++) {
    if (!isFieldValueByte(buf[i] ?? 0)) return fail('control character in a header field value');
  }
  return { ok: true, value: [latin1(buf, start, colon), latin1(buf, valueStart, valueEnd)] };
}

function isOws(b: number): boolean {
  return b === SP || b === HTAB;
}

// field-vchar / SP / HTAB, with obs-text (0x80–0xFF) kept as one char per byte.
function isFieldValueByte(b: number): boolean {
  return b === HTAB || (b >= SP && b !== 0x7f);
}

/** Request line: `method SP request-target SP HTTP-version` (RFC 7230 §3.1.1). */
const requestLineSyntax: StartLineSyntax<RequestLine> = {
  name: 'request line',
  message: 'request',
  parse(buf, start, end) {
    const methodEnd = scanWhile(buf, start, end, isTokenChar);
    if (methodEnd === start || buf[methodEnd] !== SP) return fail('malformed request line: bad method');
    const targetStart = methodEnd + 1;
    const targetEnd = scanWhile(buf, targetStart, end, isVisibleAscii);
    if (targetEnd === targetStart || buf[targetEnd] !== SP) return fail('malformed request line: bad request target');
    const version = parseHttpVersion(buf, targetEnd + 1, end);
    if (version === null || targetEnd + 1 + 8 !== end) return fail('malformed request line: bad HTTP version');
    return {
      ok: true,
      value: {
        method: latin1(buf, start, methodEnd),
        target: latin1(buf, targetStart, targetEnd),
        httpVersion: version,
      },
    };
  },
};

/**
 * Status line: `HTTP-version SP status-code SP reason-phrase` (RFC 7230
 * §3.1.2). A missing `SP reason-phrase` is tolerated: some servers omit it and
 * it carries no meaning.
 */
const statusLineSyntax: StartLineSyntax<StatusLine> = {
  name: 'status line',
  message: 'response',
  parse(buf, start, end) {
    const version = parseHttpVersion(buf, start, end);
    if (version === null || start + 8 >= end || buf[start + 8] !== SP) {
      return fail('malformed status line: bad HTTP version');
    }
    const codeStart = start + 9;
    const codeEnd = scanWhile(buf, codeStart, end, isDigit);
    if (codeEnd - codeStart !== 3) return fail('malformed status line: status code is not three digits');
    if (codeEnd !== end && buf[codeEnd] !== SP) return fail('malformed status line: junk after status code');
    const reasonStart = Math.min(codeEnd + 1, end);
    for (let i = reasonStart; i < end; i++) {
      if (!isFieldValueByte(buf[i] ?? 0)) return fail('control character in the reason phrase');
    }
    const status = Number(latin1(buf, codeStart, codeEnd));
    return { ok: true, value: { httpVersion: version, status, reason: latin1(buf, reasonStart, end) } };
  },
};

/** `HTTP/` DIGIT `.` DIGIT at `start` (exactly 8 bytes); returns "x.y" or null. */
function parseHttpVersion(buf: Uint8Array, start: number, end: number): string | null {
  if (end - start < 8) return null;
  const prefix = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"
  for (let i = 0; i < prefix.length; i++) {
    if (buf[start + i] !== prefix[i]) return null;
  }
  const major = buf[start + 5] ?? 0;
  const minor = buf[start + 7] ?? 0;
  if (!isDigit(major) || buf[start + 6] !== 0x2e || !isDigit(minor)) return null;
  return `${major - 0x30}.${minor - 0x30}`;
}

function scanWhile(buf: Uint8Array, from: number, end: number, accept: (b: number) => boolean): number {
  let i = from;
  while (i < end && accept(buf[i] ?? 0)) i++;
  return i;
}

function isVisibleAscii(b: number): boolean {
  return b > SP && b < 0x7f;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** Bytes as a string of the same length, one char per byte (ISO-8859-1). */
function latin1(buf: Uint8Array, start: number, end: number): string {
  let out = '';
  // Chunked so the argument list stays far below engine limits.
  for (let i = start; i < end; i += 4096) {
    out += String.fromCharCode(...buf.subarray(i, Math.min(i + 4096, end)));
  }
  return out;
}

function fail(reason: string): { readonly ok: false; readonly reason: string } {
  return { ok: false, reason };
}

/** Reads a size or count option: a positive integer, or the default when absent. */
export function limitOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError('ERR_INVALID_ARGUMENT', `${name} must be a positive integer, not ${String(value)}`);
  }
  return value;
}

/** A parser for one HTTP request head. */
export function createRequestHeadParser(limits: HeadLimits = DEFAULT_HEAD_LIMITS): HttpHeadParser<RequestLine> {
  return new HttpHeadParser(requestLineSyntax, limits);
}

/** A parser for one HTTP response head. */
export function createResponseHeadParser(limits: HeadLimits = DEFAULT_HEAD_LIMITS): HttpHeadParser<StatusLine> {
  return new HttpHeadParser(statusLineSyntax, limits);
}
