/**
 * The server's answer to an upgrade request (RFC 6455 §4.2.2, §4.1): how a
 * server writes a 101 or an error response, and what a client checks in a
 * 101. Pure functions, so a tool that saw a handshake elsewhere (a capture, a
 * proxy) can check a response against the key it observed.
 */
import { computeAcceptKey } from './accept-key.js';
import { UsageError } from './errors.js';
import {
  type ExtensionElement,
  isFieldValue,
  isToken,
  listHasToken,
  parseExtensions,
  serializeExtensions,
  trimOws,
} from './header-grammar.js';
import type { HttpHeaders } from './http-head.js';
import { type HeaderField, type HeaderInit, normalizeHeaders, reasonPhrase, serializeMessage } from './http-write.js';

const utf8 = new TextEncoder();

/** Why an opening handshake failed; stable strings for programs, the event's `reason` for people. */
export const HandshakeFailure = {
  /** Server: the request broke HTTP/1.1 or RFC 6455 §4.2.1 (answered 400). */
  BadRequest: 'bad-request',
  /** Server: `Sec-WebSocket-Version` was not 13 (answered 426 with the version spoken). */
  UnsupportedVersion: 'unsupported-version',
  /** Server: the request head exceeded a size or header-count limit (answered 431). */
  RequestTooLarge: 'request-too-large',
  /** Server: more bytes arrived after the request head than `maxEarlyDataSize` (answered 400). */
  EarlyDataTooLarge: 'early-data-too-large',
  /** Client: the response head broke HTTP/1.1 syntax. */
  MalformedResponse: 'malformed-response',
  /** Client: the response head exceeded a size or header-count limit. */
  ResponseTooLarge: 'response-too-large',
  /** Client: the transport ended before the response head was complete. */
  ConnectionClosed: 'connection-closed',
  /** Client: 101 without `Upgrade: websocket`. */
  InvalidUpgrade: 'invalid-upgrade',
  /** Client: 101 without the `upgrade` token in `Connection`. */
  InvalidConnection: 'invalid-connection',
  /** Client: `Sec-WebSocket-Accept` missing, repeated, or not derived from the key. */
  InvalidAccept: 'invalid-accept',
  /** Client: a subprotocol that was not offered, or several. */
  InvalidProtocol: 'invalid-protocol',
  /** Client: malformed `Sec-WebSocket-Extensions`, an extension not offered, or parameters its rules refuse. */
  InvalidExtensions: 'invalid-extensions',
} as const;
export type HandshakeFailure = (typeof HandshakeFailure)[keyof typeof HandshakeFailure];

/** What the client offered, for checking a response against it. */
export interface UpgradeExpectation {
  /** The `Sec-WebSocket-Key` the request carried (sent by this side or observed elsewhere). */
  readonly key: string;
  /** Subprotocols offered. */
  readonly protocols: readonly string[];
  /** Names of the extensions offered. */
  readonly extensions: readonly string[];
}

/** A 101 response's verdict. */
export type UpgradeResponseVerdict =
  | { readonly ok: true; readonly protocol: string | null; readonly extensions: readonly ExtensionElement[] }
  | { readonly ok: false; readonly failure: HandshakeFailure; readonly reason: string };

/**
 * Checks the fields of a 101 response against what was offered (RFC 6455
 * §4.1, client steps 2–6): Upgrade, Connection, the accept key, the
 * subprotocol, and the extension names. Extension parameters are each
 * extension's to validate.
 */
export function validateUpgradeResponse(headers: HttpHeaders, expected: UpgradeExpectation): UpgradeResponseVerdict {
  const upgrade = headers.getAll('upgrade');
  if (upgrade.length !== 1 || trimOws(upgrade[0] ?? '').toLowerCase() !== 'websocket') {
    return failed(HandshakeFailure.InvalidUpgrade, `Upgrade must be "websocket", got ${describe(upgrade)}`);
  }
  if (!listHasToken(headers.get('connection') ?? '', 'upgrade')) {
    return failed(
      HandshakeFailure.InvalidConnection,
      `Connection must include "Upgrade", got ${describe(headers.getAll('connection'))}`,
    );
  }
  const accept = headers.getAll('sec-websocket-accept');
  const wanted = computeAcceptKey(expected.key);
  if (accept.length !== 1 || accept[0] !== wanted) {
    return failed(HandshakeFailure.InvalidAccept, `Sec-WebSocket-Accept must be "${wanted}", got ${describe(accept)}`);
  }
  const protocols = headers.getAll('sec-websocket-protocol');
  let protocol: string | null = null;
  if (protocols.length > 0) {
    const value = protocols[0] ?? '';
    if (protocols.length > 1 || !isToken(value)) {
      return failed(
        HandshakeFailure.InvalidProtocol,
        `Sec-WebSocket-Protocol must be one token, got ${describe(protocols)}`,
      );
    }
    if (!expected.protocols.includes(value)) {
      const offered = expected.protocols.length === 0 ? 'but none was offered' : 'which was not offered';
      return failed(HandshakeFailure.InvalidProtocol, `the server selected subprotocol "${value}", ${offered}`);
    }
    protocol = value;
  }
  const value = headers.get('sec-websocket-extensions');
  if (value === undefined) return { ok: true, protocol, extensions: [] };
  const parsed = parseExtensions(value);
  if (!parsed.ok) return failed(HandshakeFailure.InvalidExtensions, parsed.reason);
  const offered = new Set(expected.extensions.map((name) => name.toLowerCase()));
  for (const element of parsed.value) {
    if (!offered.has(element.name.toLowerCase())) {
      return failed(
        HandshakeFailure.InvalidExtensions,
        `the server accepted extension "${element.name}", which was not offered`,
      );
    }
  }
  return { ok: true, protocol, extensions: parsed.value };
}

const RESERVED_ACCEPT_HEADERS: ReadonlySet<string> = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

const RESERVED_ERROR_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection']);

/** The 101 a server writes to accept. Throws {@link UsageError} for a reserved or invalid extra field. */
export function switchingProtocolsResponse(
  key: string,
  protocol: string | null,
  extensions: readonly ExtensionElement[],
  headers: HeaderInit | undefined,
): Uint8Array<ArrayBuffer> {
  const fields: HeaderField[] = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', computeAcceptKey(key)],
  ];
  if (protocol !== null) fields.push(['Sec-WebSocket-Protocol', protocol]);
  if (extensions.length > 0) fields.push(['Sec-WebSocket-Extensions', serializeExtensions(extensions)]);
  fields.push(...normalizeHeaders(headers, RESERVED_ACCEPT_HEADERS));
  return serializeMessage('HTTP/1.1 101 Switching Protocols', fields);
}

/**
 * The fields of an RFC 8441 response (HTTP/2 has no 101 and no accept key):
 * the agreed subprotocol and extensions, then the application's fields, all
 * names in lower case. Throws {@link UsageError} for a reserved or invalid field.
 */
export function extendedConnectResponseFields(
  protocol: string | null,
  extensions: readonly ExtensionElement[],
  headers: HeaderInit | undefined,
): Array<readonly [string, string]> {
  const fields: Array<readonly [string, string]> = [];
  if (protocol !== null) fields.push(['sec-websocket-protocol', protocol]);
  if (extensions.length > 0) fields.push(['sec-websocket-extensions', serializeExtensions(extensions)]);
  for (const [name, value] of normalizeHeaders(headers, RESERVED_ACCEPT_HEADERS))
    fields.push([name.toLowerCase(), value]);
  return fields;
}

/** An error response's parts for an HTTP/2 stream: the status, lower-case fields and the body. */
export function extendedConnectErrorResponse(options: ErrorResponseOptions): {
  status: number;
  headers: Array<readonly [string, string]>;
  body: Uint8Array;
} {
  errorResponse(options); // the same checks as over HTTP/1.1
  const headers: Array<readonly [string, string]> = normalizeHeaders(options.headers, RESERVED_ERROR_HEADERS).map(
    ([n, v]) => [n.toLowerCase(), v],
  );
  const body = encodeBody(options.body);
  if (typeof options.body === 'string' && !headers.some(([name]) => name === 'content-type'))
    headers.push(['content-type', 'text/plain; charset=utf-8']);
  return { status: options.status, headers, body };
}

/** An error response chosen by the application. */
export interface ErrorResponseOptions {
  /** 300–599, e.g. 403 for an untrusted Origin. */
  readonly status: number;
  /** Reason phrase; defaults to the usual one for the status. */
  readonly reason?: string;
  readonly headers?: HeaderInit;
  /** A string is sent as UTF-8 text/plain unless `headers` sets Content-Type. */
  readonly body?: string | Uint8Array;
}

/**
 * A complete error response with `Connection: close` and a Content-Length.
 * Throws {@link UsageError} for a status outside 300–599, a reason phrase with
 * control characters, a reserved or invalid field, or a body of another type.
 */
export function errorResponse(options: ErrorResponseOptions): Uint8Array<ArrayBuffer> {
  const { status } = options;
  if (!Number.isInteger(status) || status < 300 || status > 599) {
    throw new UsageError('ERR_INVALID_ARGUMENT', `reject status must be an integer from 300 to 599, not ${status}`);
  }
  const reason = options.reason ?? reasonPhrase(status);
  if (!isFieldValue(reason)) {
    throw new UsageError('ERR_INVALID_ARGUMENT', 'reason phrase must not contain CR, LF or other control characters');
  }
  const fields = normalizeHeaders(options.headers, RESERVED_ERROR_HEADERS);
  const body = encodeBody(options.body);
  if (typeof options.body === 'string' && !fields.some(([name]) => name.toLowerCase() === 'content-type')) {
    fields.push(['Content-Type', 'text/plain; charset=utf-8']);
  }
  fields.push(['Connection', 'close'], ['Content-Length', String(body.length)]);
  return serializeMessage(`HTTP/1.1 ${status} ${reason}`, fields, body);
}

/**
 * The answer to a request the server refuses on its own (400, 426 or 431),
 * with the reason as a plain-text body; a 426 names the version spoken.
 */
export function refusalResponse(status: 400 | 426 | 431, reason: string): Uint8Array<ArrayBuffer> {
  const body = utf8.encode(`${reason}\n`);
  const fields: HeaderField[] = [];
  if (status === 426) {
    // RFC 7231 §6.5.15: a 426 names the protocol to upgrade to; RFC 6455 §4.4
    // adds the versions this server speaks.
    fields.push(['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'], ['Connection', 'Upgrade, close']);
  } else {
    fields.push(['Connection', 'close']);
  }
  fields.push(['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(body.length)]);
  return serializeMessage(`HTTP/1.1 ${status} ${reasonPhrase(status)}`, fields, body);
}

function encodeBody(body: string | Uint8Array | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  if (typeof body === 'string') return utf8.encode(body);
  if (body instanceof Uint8Array) return body;
  throw new UsageError('ERR_INVALID_ARGUMENT', 'reject body must be a string or a Uint8Array');
}

function failed(failure: HandshakeFailure, reason: string): UpgradeResponseVerdict {
  return { ok: false, failure, reason };
}

/** Quotes received values for a reason, briefly. */
function describe(values: readonly string[]): string {
  if (values.length === 0) return 'none';
  const text = values.map((value) => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)).join(', ');
  return values.length > 1 ? `${values.length} fields: ${text}` : text;
}
