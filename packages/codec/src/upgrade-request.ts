/**
 * The upgrade request (RFC 6455 §4.1, §4.2.1): what a server checks in it, and
 * how a client writes it. Pure functions over parsed heads, so an endpoint, a
 * dissector and a host with an HTTP stack of its own all apply the same rules.
 */
import { generateClientKey, isValidClientKey } from './accept-key.js';
import { UsageError } from './errors.js';
import {
  type ExtensionElement,
  isFieldValue,
  isToken,
  listHasToken,
  parseExtensions,
  parseSubprotocols,
  serializeExtensions,
  serializeSubprotocols,
} from './header-grammar.js';
import { HttpHeaders, type RequestLine } from './http-head.js';
import {
  type HeaderField,
  type HeaderInit,
  checkFieldValue,
  normalizeHeaders,
  serializeMessage,
} from './http-write.js';

/** A valid upgrade request, with everything the application decides on. */
export interface UpgradeRequestEvent {
  readonly type: 'request';
  readonly method: string;
  /** The request-target as sent, e.g. `/chat?room=1`. */
  readonly target: string;
  /** The path of the target, e.g. `/chat`. */
  readonly path: string;
  /** The query without `?`, or '' when there is none. */
  readonly query: string;
  /** e.g. "1.1". */
  readonly httpVersion: string;
  readonly headers: HttpHeaders;
  readonly host: string;
  /** The `Origin` header, or null when absent (non-browser clients). */
  readonly origin: string | null;
  /** `Sec-WebSocket-Key`, validated as base64 of 16 bytes ('' over HTTP/2, which has none). */
  readonly key: string;
  /** `Sec-WebSocket-Version`; always 13 once validated. */
  readonly version: 13;
  /** Offered subprotocols in the client's order of preference. */
  readonly protocols: readonly string[];
  /** Offered extensions in order, parameters unescaped, duplicates kept. */
  readonly extensions: readonly ExtensionElement[];
}

/** A request's verdict: the request, or the status and reason to refuse it with. */
export type UpgradeRequestVerdict =
  | { readonly ok: true; readonly request: UpgradeRequestEvent }
  | { readonly ok: false; readonly status: 400 | 426 | 431; readonly reason: string };

/**
 * An HTTP request already parsed by the runtime, e.g. from Node's `upgrade`
 * event: `{ method: req.method, target: req.url, httpVersion: req.httpVersion,
 * headers: req.rawHeaders, trailing: head }`.
 */
export interface ParsedRequest {
  readonly method: string;
  readonly target: string;
  /** "1.1" or "HTTP/1.1". */
  readonly httpVersion: string;
  /** Pairs, or a flat `[name, value, name, value, …]` list like Node's `rawHeaders`. */
  readonly headers: ReadonlyArray<readonly [string, string]> | readonly string[];
  /** Bytes already read after the head (Node's `head` buffer). */
  readonly trailing?: Uint8Array;
}

/** RFC 6455 §4.2.1, checked in an order that gives the most useful answer first. */
export function validateUpgradeRequest(line: RequestLine, headers: HttpHeaders): UpgradeRequestVerdict {
  if (line.method !== 'GET') return refuse400(`method must be GET, not ${preview(line.method)}`);
  if (!isHttp11OrLater(line.httpVersion)) return refuse400('HTTP/1.1 or later is required');
  const host = single(headers, 'host');
  if (host === null || host === '') return refuse400('missing, empty or repeated Host');
  if (!listHasToken(headers.get('upgrade') ?? '', 'websocket')) return refuse400('Upgrade must include "websocket"');
  if (!listHasToken(headers.get('connection') ?? '', 'upgrade')) return refuse400('Connection must include "Upgrade"');
  // Before the key: another protocol version may not send a key at all, and
  // 426 tells it which version to speak.
  if (single(headers, 'sec-websocket-version') !== '13') {
    return { ok: false, status: 426, reason: 'Sec-WebSocket-Version must be 13' };
  }
  const key = single(headers, 'sec-websocket-key');
  if (key === null || !isValidClientKey(key)) return refuse400('Sec-WebSocket-Key must be base64 of 16 bytes');
  const origins = headers.getAll('origin');
  if (origins.length > 1) return refuse400('repeated Origin');
  const target = splitTarget(line.target);
  if (target === null) return refuse400('request target must be a path or an absolute URL');
  let protocols: readonly string[] = [];
  let extensions: readonly ExtensionElement[] = [];
  const protocolHeader = headers.get('sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    const parsed = parseSubprotocols(protocolHeader);
    if (!parsed.ok) return refuse400(parsed.reason);
    protocols = parsed.value;
  }
  const extensionHeader = headers.get('sec-websocket-extensions');
  if (extensionHeader !== undefined) {
    const parsed = parseExtensions(extensionHeader);
    if (!parsed.ok) return refuse400(parsed.reason);
    extensions = parsed.value;
  }
  return {
    ok: true,
    request: {
      type: 'request',
      method: line.method,
      target: line.target,
      path: target.path,
      query: target.query,
      httpVersion: line.httpVersion,
      headers,
      host,
      origin: origins[0] ?? null,
      key,
      version: 13,
      protocols,
      extensions,
    },
  };
}

/**
 * Holds a runtime-parsed request to the same character rules as raw bytes,
 * since not every runtime's parser is as strict, then validates it.
 */
export function validateParsedRequest(request: ParsedRequest, maxHeaderCount: number): UpgradeRequestVerdict {
  const httpVersion = request.httpVersion.startsWith('HTTP/') ? request.httpVersion.slice(5) : request.httpVersion;
  if (!isToken(request.method)) return refuse400('malformed request line: bad method');
  if (!isVisibleAscii(request.target)) return refuse400('malformed request line: bad request target');
  if (!/^\d\.\d$/.test(httpVersion)) return refuse400('malformed request line: bad HTTP version');
  const pairs = toPairs(request.headers);
  if (pairs === null) return refuse400('header list has an odd number of entries');
  if (pairs.length > maxHeaderCount)
    return { ok: false, status: 431, reason: `more than ${maxHeaderCount} header fields` };
  for (const [name, value] of pairs) {
    if (!isToken(name)) return refuse400('invalid character in header field name');
    if (!isFieldValue(value)) return refuse400('control character in a header field value');
  }
  return validateUpgradeRequest(
    { method: request.method, target: request.target, httpVersion },
    new HttpHeaders(pairs),
  );
}

/**
 * An HTTP/2 extended CONNECT request (RFC 8441 §4) as the host's HTTP/2
 * stack decoded it: its header fields, pseudo-header fields (`:method`,
 * `:protocol`, `:scheme`, `:path`, `:authority`) included, as pairs or as a
 * record like Node's `http2` stream headers.
 */
export interface ExtendedConnectRequest {
  readonly headers:
    | ReadonlyArray<readonly [string, string]>
    | Readonly<Record<string, string | readonly string[] | undefined>>;
}

/**
 * RFC 8441 §4–5: a WebSocket bootstrapped on an HTTP/2 stream. `:method`
 * CONNECT with `:protocol` websocket, `:scheme`, `:path` and `:authority`,
 * and `sec-websocket-version: 13`; there is no key (the stream itself proves
 * the server speaks WebSocket). Offers and Origin are read as in HTTP/1.1.
 */
export function validateExtendedConnect(
  request: ExtendedConnectRequest,
  maxHeaderCount: number,
): UpgradeRequestVerdict {
  const pairs: Array<readonly [string, string]> = [];
  if (Array.isArray(request.headers)) {
    for (const [name, value] of request.headers as ReadonlyArray<readonly [string, string]>) pairs.push([name, value]);
  } else {
    for (const [name, value] of Object.entries(
      request.headers as Readonly<Record<string, string | readonly string[] | undefined>>,
    )) {
      if (value === undefined) continue;
      for (const v of typeof value === 'string' ? [value] : value) pairs.push([name, v]);
    }
  }
  if (pairs.length > maxHeaderCount)
    return { ok: false, status: 431, reason: `more than ${maxHeaderCount} header fields` };
  for (const [name, value] of pairs) {
    const bare = name.startsWith(':') ? name.slice(1) : name;
    if (!isToken(bare) || bare !== bare.toLowerCase()) return refuse400('invalid HTTP/2 header field name');
    if (!isFieldValue(value)) return refuse400('control character in a header field value');
  }
  const headers = new HttpHeaders(pairs);
  const pseudo = (name: string): string | null => single(headers, name);
  if (pseudo(':method') !== 'CONNECT') return refuse400('an extended CONNECT needs :method CONNECT');
  if (pseudo(':protocol') !== 'websocket')
    return refuse400('an extended CONNECT for WebSocket needs :protocol websocket');
  const scheme = pseudo(':scheme');
  const path = pseudo(':path');
  const authority = pseudo(':authority');
  if (scheme === null || path === null || authority === null || path === '' || authority === '') {
    return refuse400('an extended CONNECT needs :scheme, :path and :authority');
  }
  // RFC 8441 §5 leaves the version field as in RFC 6455; HTTP/2 has no 426 (no Upgrade), so 400 names it.
  if (single(headers, 'sec-websocket-version') !== '13') return refuse400('sec-websocket-version must be 13');
  const verdict = validateUpgradeRequest(
    { method: 'GET', target: path, httpVersion: '2.0' },
    new HttpHeaders([
      ['host', authority],
      ['upgrade', 'websocket'],
      ['connection', 'upgrade'],
      // RFC 8441 has no key; a placeholder lets the HTTP/1.1 rules read the rest.
      ['sec-websocket-key', 'AAAAAAAAAAAAAAAAAAAAAA=='],
      ...pairs.filter(([name]) => !name.startsWith(':') && name !== 'host' && name !== 'sec-websocket-key'),
    ]),
  );
  if (!verdict.ok) return verdict;
  return { ok: true, request: { ...verdict.request, method: 'CONNECT', httpVersion: '2.0', headers, key: '' } };
}

/** What a client puts in its upgrade request besides the fields RFC 6455 fixes. */
export interface UpgradeRequestOptions {
  /** Subprotocols to offer, most preferred first: distinct tokens. */
  readonly protocols?: readonly string[];
  /** Extension offers, in order of preference. */
  readonly extensions?: readonly ExtensionElement[];
  /** `Origin` to send (browsers always do; other clients may). */
  readonly origin?: string;
  /** Extra request fields, e.g. `Authorization`, `Cookie`. */
  readonly headers?: HeaderInit;
}

/** A client's upgrade request: the bytes to write and the key its response must answer. */
export interface UpgradeRequest {
  readonly key: string;
  readonly bytes: Uint8Array<ArrayBuffer>;
}

const RESERVED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'upgrade',
  'connection',
  'origin',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-accept',
  'content-length',
  'transfer-encoding',
]);

/**
 * Writes a client's upgrade request for `url` (already normalised by
 * {@link toWebSocketUrl}). Throws {@link UsageError} for an invalid
 * subprotocol, extension, Origin or header field.
 */
export function buildUpgradeRequest(
  url: URL,
  options: UpgradeRequestOptions,
  random: (bytes: Uint8Array) => void,
): UpgradeRequest {
  const key = generateClientKey(random);
  const fields: HeaderField[] = [
    ['Host', url.host],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ];
  if (options.origin !== undefined) {
    checkFieldValue('Origin', options.origin);
    fields.push(['Origin', options.origin]);
  }
  const protocols = options.protocols ?? [];
  if (protocols.length > 0) fields.push(['Sec-WebSocket-Protocol', serializeSubprotocols(protocols)]);
  const extensions = options.extensions ?? [];
  if (extensions.length > 0) fields.push(['Sec-WebSocket-Extensions', serializeExtensions(extensions)]);
  fields.push(...normalizeHeaders(options.headers, RESERVED_REQUEST_HEADERS));
  return { key, bytes: serializeMessage(`GET ${requestTarget(url)} HTTP/1.1`, fields) };
}

/**
 * Parses and normalises a URL as the WHATWG WebSocket constructor does:
 * http(s) maps to ws(s), other schemes and fragments are refused with
 * {@link UsageError} `ERR_INVALID_URL`.
 */
export function toWebSocketUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new UsageError('ERR_INVALID_URL', `not an absolute URL: ${String(input)}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new UsageError('ERR_INVALID_URL', `scheme must be ws:, wss:, http: or https:, not ${url.protocol}`);
  }
  // `hash` is '' for both "no fragment" and an empty one; the serialisation tells them apart.
  if (url.href.includes('#')) throw new UsageError('ERR_INVALID_URL', 'a WebSocket URL must not have a fragment');
  return url;
}

/** Path and query; `search` is '' for an empty query too, but "?" must be kept as sent. */
function requestTarget(url: URL): string {
  const query = url.search !== '' ? url.search : url.href.endsWith('?') ? '?' : '';
  return url.pathname + query;
}

function refuse400(reason: string): UpgradeRequestVerdict {
  return { ok: false, status: 400, reason };
}

/** The only value of a field that must appear once; null when absent or repeated. */
function single(headers: HttpHeaders, name: string): string | null {
  const values = headers.getAll(name);
  return values.length === 1 ? (values[0] ?? null) : null;
}

function isHttp11OrLater(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 1);
}

/**
 * Path and query of an origin-form (`/a?b`) or absolute-form
 * (`ws://host/a?b`, RFC 7230 §5.3.2) target; null for anything else.
 */
function splitTarget(target: string): { path: string; query: string } | null {
  let pathAndQuery = target;
  if (!target.startsWith('/')) {
    const schemeEnd = target.indexOf('://');
    if (schemeEnd <= 0 || !isToken(target.slice(0, schemeEnd))) return null;
    const authorityStart = schemeEnd + 3;
    let pathStart = authorityStart;
    while (pathStart < target.length && target[pathStart] !== '/' && target[pathStart] !== '?') pathStart++;
    pathAndQuery = target.slice(pathStart);
    if (!pathAndQuery.startsWith('/')) pathAndQuery = `/${pathAndQuery}`;
  }
  const question = pathAndQuery.indexOf('?');
  if (question === -1) return { path: pathAndQuery, query: '' };
  return { path: pathAndQuery.slice(0, question), query: pathAndQuery.slice(question + 1) };
}

function toPairs(headers: ParsedRequest['headers']): Array<readonly [string, string]> | null {
  const pairs: Array<readonly [string, string]> = [];
  if (headers.length === 0) return pairs;
  if (typeof headers[0] !== 'string') {
    for (const pair of headers as ReadonlyArray<readonly [string, string]>) pairs.push([pair[0], pair[1]]);
    return pairs;
  }
  const flat = headers as readonly string[];
  if (flat.length % 2 !== 0) return null;
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] ?? '', flat[i + 1] ?? '']);
  return pairs;
}

function isVisibleAscii(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

function preview(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`;
}
