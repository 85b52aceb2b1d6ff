/**
 * The client's half of RFC 8441: the header fields of an extended CONNECT
 * that opens a WebSocket on an HTTP/2 stream, and what it checks in the
 * response. Pure functions, so a host's HTTP/2 stack sends and receives the
 * fields while the endpoint keeps the rules.
 */
import { computeAcceptKey } from './accept-key.js';
import {
  type ExtensionElement,
  isFieldValue,
  isToken,
  serializeExtensions,
  serializeSubprotocols,
} from './header-grammar.js';
import { HttpHeaders } from './http-head.js';
import { type HeaderInit, checkFieldValue, normalizeHeaders } from './http-write.js';
import { HandshakeFailure, type UpgradeResponseVerdict, validateUpgradeResponse } from './upgrade-response.js';

/** What a client puts in its extended CONNECT besides the fields RFC 8441 fixes. */
export interface ExtendedConnectOptions {
  /** Subprotocols to offer, most preferred first: distinct tokens. */
  readonly protocols?: readonly string[];
  /** Extension offers, in order of preference. */
  readonly extensions?: readonly ExtensionElement[];
  /** `origin` to send. */
  readonly origin?: string;
  /** Extra request fields, e.g. `authorization`, `cookie`; names are sent in lower case. */
  readonly headers?: HeaderInit;
}

/**
 * Request fields the bootstrap writes itself, and those HTTP/2 forbids
 * (RFC 9113 §8.2.2: connection-specific fields; `host` is `:authority`).
 */
const RESERVED: ReadonlySet<string> = new Set([
  'host',
  'origin',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-accept',
  'content-length',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
]);

/**
 * The header fields of the extended CONNECT for `url` (RFC 8441 §4–5):
 * `:method` CONNECT, `:protocol` websocket, `:scheme` https for wss: and
 * http for ws:, `:path`, `:authority`, `sec-websocket-version: 13`, the
 * offers and `origin`, then the application's fields, all names in lower
 * case. A repeated name is joined with ", " (`cookie` with "; ", RFC 9113
 * §8.2.3), so the record can go to an HTTP/2 stack as it is. Throws
 * {@link UsageError} for an invalid subprotocol, extension, Origin or field.
 */
export function extendedConnectRequestHeaders(url: URL, options: ExtendedConnectOptions): Record<string, string> {
  const query = url.search !== '' ? url.search : url.href.endsWith('?') ? '?' : '';
  const headers: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': url.protocol === 'wss:' ? 'https' : 'http',
    ':path': url.pathname + query,
    ':authority': url.host,
    'sec-websocket-version': '13',
  };
  const protocols = options.protocols ?? [];
  if (protocols.length > 0) headers['sec-websocket-protocol'] = serializeSubprotocols(protocols);
  const extensions = options.extensions ?? [];
  if (extensions.length > 0) headers['sec-websocket-extensions'] = serializeExtensions(extensions);
  if (options.origin !== undefined) {
    checkFieldValue('origin', options.origin);
    headers.origin = options.origin;
  }
  for (const [name, value] of normalizeHeaders(options.headers, RESERVED)) {
    const key = name.toLowerCase();
    const before = headers[key];
    headers[key] = before === undefined ? value : `${before}${key === 'cookie' ? '; ' : ', '}${value}`;
  }
  return headers;
}

/**
 * A response to an extended CONNECT as the host's HTTP/2 stack decoded it:
 * its status, and its fields as pairs or as a record like Node's `http2`
 * response headers (pseudo-header fields such as `:status` are skipped).
 */
export interface ExtendedConnectResponse {
  /** The `:status`; default: the `:status` field of `headers`. */
  readonly status?: number;
  readonly headers:
    | ReadonlyArray<readonly [string, string]>
    | Readonly<Record<string, string | number | readonly string[] | undefined>>;
}

/** A response head read into fields, or why it cannot be. */
export type ExtendedConnectHead =
  | { readonly ok: true; readonly status: number; readonly headers: HttpHeaders }
  | { readonly ok: false; readonly failure: HandshakeFailure; readonly reason: string };

/**
 * Reads a decoded response into a status and fields, held to HTTP/2's
 * rules: lower-case token names, no control characters, a three-digit
 * status, at most `maxHeaderCount` fields.
 */
export function readExtendedConnectResponse(
  response: ExtendedConnectResponse,
  maxHeaderCount: number,
): ExtendedConnectHead {
  const pairs: Array<readonly [string, string]> = [];
  let statusField: string | undefined;
  const add = (name: string, value: string): void => {
    if (name === ':status') statusField = value;
    else if (!name.startsWith(':')) pairs.push([name, value]);
  };
  if (Array.isArray(response.headers)) {
    for (const [name, value] of response.headers as ReadonlyArray<readonly [string, string]>) add(name, value);
  } else {
    const record = response.headers as Readonly<Record<string, string | number | readonly string[] | undefined>>;
    for (const [name, value] of Object.entries(record)) {
      if (value === undefined) continue;
      if (typeof value === 'string' || typeof value === 'number') add(name, String(value));
      else for (const v of value) add(name, v);
    }
  }
  const status = response.status ?? (statusField === undefined ? Number.NaN : Number(statusField));
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    return malformed(`the response has no valid :status (got ${String(response.status ?? statusField)})`);
  }
  if (pairs.length > maxHeaderCount) {
    return {
      ok: false,
      failure: HandshakeFailure.ResponseTooLarge,
      reason: `more than ${maxHeaderCount} header fields`,
    };
  }
  for (const [name, value] of pairs) {
    if (!isToken(name) || name !== name.toLowerCase()) return malformed('invalid HTTP/2 header field name');
    if (!isFieldValue(value)) return malformed('control character in a header field value');
  }
  return { ok: true, status, headers: new HttpHeaders(pairs) };
}

/** RFC 8441 has no key; the HTTP/1.1 checks read the rest against a placeholder's accept value. */
const PLACEHOLDER_KEY = 'AAAAAAAAAAAAAAAAAAAAAA==';
const PLACEHOLDER_ACCEPT = computeAcceptKey(PLACEHOLDER_KEY);

/**
 * Checks a 2xx response to an extended CONNECT against what was offered:
 * the subprotocol and the extension names, by the same rules as a 101
 * (RFC 6455 §4.1 steps 5–6; RFC 8441 §5 keeps them). There is no Upgrade,
 * Connection or accept key to check.
 */
export function validateExtendedConnectResponse(
  headers: HttpHeaders,
  expected: { readonly protocols: readonly string[]; readonly extensions: readonly string[] },
): UpgradeResponseVerdict {
  const fields: Array<readonly [string, string]> = [
    ['upgrade', 'websocket'],
    ['connection', 'upgrade'],
    ['sec-websocket-accept', PLACEHOLDER_ACCEPT],
  ];
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (key !== 'upgrade' && key !== 'connection' && key !== 'sec-websocket-accept') fields.push([name, value]);
  }
  return validateUpgradeResponse(new HttpHeaders(fields), { key: PLACEHOLDER_KEY, ...expected });
}

function malformed(reason: string): ExtendedConnectHead {
  return { ok: false, failure: HandshakeFailure.MalformedResponse, reason };
}
