/**
 * Writing HTTP/1.1 heads for the handshake, and checking the header fields an
 * application adds to them. Application input is validated strictly and
 * throws: a CR or LF in a name or value would let it (or whoever controls the
 * value) split the message and forge fields or a whole response.
 */

import { concat } from 'uint8arrays/concat';
import { UsageError } from './errors.js';
import { isFieldValue, isToken } from './header-grammar.js';
import { encodeLatin1 } from './latin1.js';

/**
 * Header fields supplied by the application: ordered pairs (repeat a name for
 * several lines, e.g. `Set-Cookie`), or a record whose array values become
 * one line each.
 */
export type HeaderInit =
  | ReadonlyArray<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[]>>;

/** A field line ready to be written. */
export type HeaderField = readonly [name: string, value: string];

/**
 * Flattens and validates application header fields. `reserved` holds
 * lower-case names the handshake writes itself; supplying one throws, because
 * a second copy would contradict the first.
 */
export function normalizeHeaders(init: HeaderInit | undefined, reserved: ReadonlySet<string>): HeaderField[] {
  if (init === undefined) return [];
  const fields: HeaderField[] = [];
  // Values are checked at run time too: JavaScript callers can pass anything.
  const add = (name: unknown, value: unknown): void => {
    assertFieldName(name);
    checkField(name, value, reserved);
    fields.push([name, value]);
  };
  if (isPairList(init)) {
    for (const pair of init) add(pair[0], pair[1]);
    return fields;
  }
  for (const [name, value] of Object.entries(init)) {
    const values: readonly unknown[] = Array.isArray(value) ? value : [value];
    for (const item of values) add(name, item);
  }
  return fields;
}

function isPairList(init: HeaderInit): init is ReadonlyArray<readonly [string, string]> {
  return Array.isArray(init);
}

function checkField(name: unknown, value: unknown, reserved: ReadonlySet<string>): asserts value is string {
  assertFieldName(name);
  if (typeof value !== 'string' || !isFieldValue(value)) {
    throw new UsageError(
      'ERR_INVALID_ARGUMENT',
      `value of header "${name}" must be a string without CR, LF or other control characters`,
    );
  }
  if (reserved.has(name.toLowerCase())) {
    throw new UsageError('ERR_INVALID_ARGUMENT', `header "${name}" is set by the handshake and cannot be supplied`);
  }
}

function assertFieldName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !isToken(name)) {
    throw new UsageError('ERR_INVALID_ARGUMENT', `header name ${JSON.stringify(name)} is not an HTTP token`);
  }
}

/** Validates a single value the application passes for a known field (e.g. Origin). */
export function checkFieldValue(name: string, value: string): void {
  checkField(name, value, new Set());
}

/** `startLine CRLF *(name ": " value CRLF) CRLF`, then `body`; one byte per char. */
export function serializeMessage(
  startLine: string,
  fields: readonly HeaderField[],
  body?: Uint8Array,
): Uint8Array<ArrayBuffer> {
  let text = `${startLine}\r\n`;
  for (const [name, value] of fields) text += `${name}: ${value}\r\n`;
  text += '\r\n';
  const head = encodeLatin1(text);
  return body === undefined || body.length === 0 ? head : concat([head, body]);
}

const REASON_PHRASES: Readonly<Record<number, string>> = {
  101: 'Switching Protocols',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  414: 'URI Too Long',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The usual reason phrase for `status`, or '' (an empty phrase is valid). */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? '';
}
