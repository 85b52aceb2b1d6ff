/**
 * RFC 7230 §3.2.6 field-value grammar (token, quoted-string, comma lists) and
 * the two WebSocket list headers built on it: `Sec-WebSocket-Protocol`
 * (RFC 6455 §11.3.4, `1#token`) and `Sec-WebSocket-Extensions` (§9.1).
 *
 * Every parser is a single left-to-right pass with an index cursor and no
 * regular expressions, so crafted input costs time linear in its length.
 */

import { UsageError } from './errors.js';

/** One extension parameter; `value` is null for a bare `name` parameter. */
export interface ExtensionParam {
  readonly name: string;
  readonly value: string | null;
}

/**
 * One element of a `Sec-WebSocket-Extensions` list. Parameters keep their order
 * and duplicates, so an extension can decline an offer that repeats one
 * (RFC 7692 §7).
 */
export interface ExtensionElement {
  readonly name: string;
  readonly params: readonly ExtensionParam[];
}

/** The outcome of parsing peer input: a value, or why it was rejected. */
export type HeaderParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

const HTAB = 0x09;
const SP = 0x20;
const DQUOTE = 0x22;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

/** Whether a character code is an RFC 7230 `tchar`. */
export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** Whether `text` is a non-empty RFC 7230 `token`. */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    if (!isTokenChar(text.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * Whether `text` may be written as a field value: HTAB, SP, visible ASCII and
 * obs-text (0x80–0xFF, written as one byte each). Anything else (CR, LF, NUL,
 * other controls, code points above 0xFF) could split or corrupt the head.
 */
export function isFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === HTAB) continue;
    if (c < SP || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** A position in a header value, advanced by the parsers below. */
class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  skipOws(): void {
    while (this.peek() === SP || this.peek() === HTAB) this.pos++;
  }

  /** Consumes a token; returns '' when none starts here. */
  token(): string {
    const start = this.pos;
    while (isTokenChar(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /**
   * Consumes a quoted-string starting at the opening quote and returns the
   * unescaped content, or null when it is unterminated or holds a control byte.
   */
  quotedString(): string | null {
    this.pos++;
    let out = '';
    let runStart = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === DQUOTE) {
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c === BACKSLASH) {
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        const escaped = this.peek();
        if (escaped === -1 || !isQuotedPairChar(escaped)) return null;
        runStart = this.pos;
        this.pos++;
        continue;
      }
      if (c === -1 || !isQdtextChar(c)) return null;
      this.pos++;
    }
  }
}

// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
function isQdtextChar(c: number): boolean {
  return c === HTAB || (c >= SP && c <= 0xff && c !== DQUOTE && c !== BACKSLASH && c !== 0x7f);
}

// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
function isQuotedPairChar(c: number): boolean {
  return c === HTAB || (c >= SP && c <= 0xff && c !== 0x7f);
}

/**
 * Skips empty list elements (RFC 7230 §7: a recipient accepts `, ,`) and the
 * whitespace around them. Returns false at the end of the value.
 */
function skipEmptyElements(cur: Cursor): boolean {
  for (;;) {
    cur.skipOws();
    if (cur.peek() !== COMMA) return !cur.done;
    cur.pos++;
  }
}

/** After an element: end of value, or a comma starting the next one. */
function expectElementEnd(cur: Cursor): boolean {
  cur.skipOws();
  if (cur.done) return true;
  if (cur.peek() !== COMMA) return false;
  cur.pos++;
  return true;
}

/**
 * Parses `#token` (a comma list of tokens, empty elements allowed). An empty
 * list is a valid result; callers decide whether they need `1#`.
 */
export function parseTokenList(value: string): HeaderParseResult<string[]> {
  const cur = new Cursor(value);
  const tokens: string[] = [];
  while (skipEmptyElements(cur)) {
    const token = cur.token();
    if (token === '') return fail(`unexpected character at offset ${cur.pos}`);
    if (!expectElementEnd(cur)) return fail(`expected "," after "${preview(token)}"`);
    tokens.push(token);
  }
  return { ok: true, value: tokens };
}

/**
 * Whether a comma-separated header value has an element equal to `token`,
 * ignoring ASCII case. Elements that are not tokens simply do not match, so
 * this never fails: `Connection: keep-alive, Upgrade` is the common case.
 */
export function listHasToken(value: string, token: string): boolean {
  const wanted = token.toLowerCase();
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end === -1) end = value.length;
    if (trimOws(value.slice(start, end)).toLowerCase() === wanted) return true;
    start = end + 1;
  }
  return false;
}

/** Removes leading and trailing SP / HTAB. */
export function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/**
 * Parses `Sec-WebSocket-Protocol` from a request: `1#token`, each subprotocol
 * at most once (as `ws` does: a repeated offer is ambiguous).
 */
export function parseSubprotocols(value: string): HeaderParseResult<string[]> {
  const parsed = parseTokenList(value);
  if (!parsed.ok) return fail(`invalid Sec-WebSocket-Protocol: ${parsed.reason}`);
  if (parsed.value.length === 0) return fail('empty Sec-WebSocket-Protocol');
  const seen = new Set<string>();
  for (const protocol of parsed.value) {
    if (seen.has(protocol)) return fail(`duplicate subprotocol "${preview(protocol)}"`);
    seen.add(protocol);
  }
  return parsed;
}

/**
 * Parses `Sec-WebSocket-Extensions` (RFC 6455 §9.1):
 *
 *     1#( extension-token *( OWS ";" OWS name [ OWS "=" OWS ( token / quoted-string ) ] ) )
 *
 * A quoted value must be a token once unescaped (§9.1). Extension and
 * parameter names are kept as sent; their meaning belongs to each extension.
 */
export function parseExtensions(value: string): HeaderParseResult<ExtensionElement[]> {
  const cur = new Cursor(value);
  const elements: ExtensionElement[] = [];
  while (skipEmptyElements(cur)) {
    const element = parseExtensionElement(cur);
    if (!element.ok) return fail(`invalid Sec-WebSocket-Extensions: ${element.reason}`);
    elements.push(element.value);
    if (!expectElementEnd(cur)) {
      return fail(`invalid Sec-WebSocket-Extensions: unexpected character at offset ${cur.pos}`);
    }
  }
  if (elements.length === 0) return fail('empty Sec-WebSocket-Extensions');
  return { ok: true, value: elements };
}

function parseExtensionElement(cur: Cursor): HeaderParseResult<ExtensionElement> {
  const name = cur.token();
  if (name === '') return fail(`expected an extension name at offset ${cur.pos}`);
  const params: ExtensionParam[] = [];
  for (;;) {
    cur.skipOws();
    if (cur.peek() !== SEMICOLON) return { ok: true, value: { name, params } };
    cur.pos++;
    cur.skipOws();
    const param = parseExtensionParam(cur);
    if (!param.ok) return param;
    params.push(param.value);
  }
}

function parseExtensionParam(cur: Cursor): HeaderParseResult<ExtensionParam> {
  const name = cur.token();
  if (name === '') return fail(`expected a parameter name at offset ${cur.pos}`);
  const afterName = cur.pos;
  cur.skipOws();
  if (cur.peek() !== EQUALS) {
    cur.pos = afterName;
    return { ok: true, value: { name, value: null } };
  }
  cur.pos++;
  cur.skipOws();
  if (cur.peek() !== DQUOTE) {
    const token = cur.token();
    if (token === '') return fail(`expected a value for "${preview(name)}" at offset ${cur.pos}`);
    return { ok: true, value: { name, value: token } };
  }
  const quoted = cur.quotedString();
  if (quoted === null) return fail(`unterminated or invalid quoted value for "${preview(name)}"`);
  if (!isToken(quoted)) return fail(`quoted value of "${preview(name)}" is not a token`);
  return { ok: true, value: { name, value: quoted } };
}

/**
 * Serialises extension elements for a `Sec-WebSocket-Extensions` header.
 * Throws {@link UsageError} when a name or value is not a token, since only
 * tokens survive the grammar (§9.1) and anything else could inject fields.
 */
export function serializeExtensions(elements: readonly ExtensionElement[]): string {
  if (elements.length === 0) {
    throw new UsageError('ERR_INVALID_ARGUMENT', 'an extension list must not be empty');
  }
  return elements.map(serializeExtension).join(', ');
}

function serializeExtension(element: ExtensionElement): string {
  assertToken(element.name, 'extension name');
  let out = element.name;
  for (const param of element.params) {
    assertToken(param.name, 'extension parameter name');
    out += `; ${param.name}`;
    if (param.value !== null) {
      assertToken(param.value, `value of extension parameter "${param.name}"`);
      out += `=${param.value}`;
    }
  }
  return out;
}

/**
 * Validates subprotocol names offered or chosen by the application and joins
 * them for a `Sec-WebSocket-Protocol` header. Throws {@link UsageError} on a
 * non-token or a duplicate.
 */
export function serializeSubprotocols(protocols: readonly string[]): string {
  const seen = new Set<string>();
  for (const protocol of protocols) {
    assertToken(protocol, 'subprotocol');
    if (seen.has(protocol)) {
      throw new UsageError('ERR_INVALID_ARGUMENT', `duplicate subprotocol "${protocol}"`);
    }
    seen.add(protocol);
  }
  return protocols.join(', ');
}

function assertToken(text: string, what: string): void {
  if (typeof text !== 'string' || !isToken(text)) {
    throw new UsageError('ERR_INVALID_ARGUMENT', `${what} ${JSON.stringify(text)} is not an HTTP token`);
  }
}

/** Shortens peer-controlled text quoted in a reason, which may end up in a response body. */
function preview(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`;
}

function fail(reason: string): { readonly ok: false; readonly reason: string } {
  return { ok: false, reason };
}
