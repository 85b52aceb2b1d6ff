/**
 * The server side of the opening handshake (RFC 6455 §4.2) as a sans-I/O
 * state machine.
 *
 *   reading-request ──request──▶ awaiting-decision ──accept()──▶ accepted
 *          │                          │        └────reject()──▶ rejected
 *          └──────bad-request─────────┴─(early data overflow)─▶ failed
 *
 * Feed bytes with `receive`, pull events with `nextEvent`, then write the
 * bytes returned by `accept`/`reject` (or carried by a `bad-request` event).
 * Peer input never throws; calling a method in the wrong state does.
 */

import { concat } from 'uint8arrays/concat';
import { fromString } from 'uint8arrays/from-string';
import { computeAcceptKey, isValidClientKey } from './accept-key.js';
import { UsageError } from './errors.js';
import {
  type ExtensionElement,
  isFieldValue,
  isToken,
  listHasToken,
  parseExtensions,
  parseSubprotocols,
  serializeExtensions,
  trimOws,
} from './header-grammar.js';
import {
  DEFAULT_HEAD_LIMITS,
  HttpHeaders,
  type HeadLimits,
  type HttpHeadParser,
  type RequestLine,
  createRequestHeadParser,
  limitOption,
} from './http-head.js';
import { type HeaderField, type HeaderInit, normalizeHeaders, reasonPhrase, serializeMessage } from './http-write.js';

export const ServerHandshakeState = {
  /** Reading the request head. */
  ReadingRequest: 'reading-request',
  /** A `request` event was emitted; waiting for `accept` or `reject`. */
  AwaitingDecision: 'awaiting-decision',
  /** `accept` produced the 101 response; bytes now belong to the connection. */
  Accepted: 'accepted',
  /** `reject` produced an error response. */
  Rejected: 'rejected',
  /** The peer sent a bad request; a `bad-request` event carries the response. */
  Failed: 'failed',
} as const;
export type ServerHandshakeState = (typeof ServerHandshakeState)[keyof typeof ServerHandshakeState];

export interface ServerHandshakeOptions {
  /** Largest request head in bytes (default 16 KiB); beyond it → 431. */
  readonly maxHeadSize?: number;
  /** Most header field lines (default 100); beyond it → 431. */
  readonly maxHeaderCount?: number;
  /** Longest request line in bytes (default 8 KiB); beyond it → 400. */
  readonly maxRequestLineLength?: number;
  /**
   * Most bytes kept from after the request head while the application
   * decides (default 64 KiB). A client should send nothing before the 101
   * (§4.1), so more than this is treated as a bad request.
   */
  readonly maxEarlyDataSize?: number;
}

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
  /** `Sec-WebSocket-Key`, validated as base64 of 16 bytes. */
  readonly key: string;
  /** `Sec-WebSocket-Version`; always 13 once validated. */
  readonly version: 13;
  /** Offered subprotocols in the client's order of preference. */
  readonly protocols: readonly string[];
  /** Offered extensions in order, parameters unescaped, duplicates kept. */
  readonly extensions: readonly ExtensionElement[];
}

/** The request cannot be upgraded; write `response` and close. */
export interface BadRequestEvent {
  readonly type: 'bad-request';
  readonly status: 400 | 426 | 431;
  readonly reason: string;
  readonly response: Uint8Array<ArrayBuffer>;
}

export type ServerHandshakeEvent = UpgradeRequestEvent | BadRequestEvent;

export interface AcceptOptions {
  /** One of the offered subprotocols, or null/undefined for none. */
  readonly protocol?: string | null;
  /** Accepted extensions: a header value, or elements to serialise. Names must have been offered. */
  readonly extensions?: string | readonly ExtensionElement[];
  /** Extra response fields, e.g. `Set-Cookie`. */
  readonly headers?: HeaderInit;
}

export interface AcceptResult {
  /** The 101 response to write. */
  readonly response: Uint8Array<ArrayBuffer>;
  readonly protocol: string | null;
  readonly extensions: readonly ExtensionElement[];
  /** Bytes the client sent after its request head: feed them to the connection first. */
  readonly trailing: Uint8Array<ArrayBuffer>;
}

export interface RejectOptions {
  /** 300–599, e.g. 403 for an untrusted Origin. */
  readonly status: number;
  /** Reason phrase; defaults to the usual one for the status. */
  readonly reason?: string;
  readonly headers?: HeaderInit;
  /** A string is sent as UTF-8 text/plain unless `headers` sets Content-Type. */
  readonly body?: string | Uint8Array;
}

export interface RejectResult {
  readonly response: Uint8Array<ArrayBuffer>;
}

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

const RESERVED_ACCEPT_HEADERS: ReadonlySet<string> = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

const RESERVED_REJECT_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection']);

const DEFAULT_MAX_EARLY_DATA = 64 * 1024;

type Verdict =
  | { readonly ok: true; readonly event: UpgradeRequestEvent }
  | { readonly ok: false; readonly status: 400 | 426; readonly reason: string };

export class ServerHandshake {
  private stateValue: ServerHandshakeState = ServerHandshakeState.ReadingRequest;
  private readonly parser: HttpHeadParser<RequestLine>;
  private readonly maxHeaderCount: number;
  private readonly maxEarlyDataSize: number;
  private readonly events: ServerHandshakeEvent[] = [];
  private request: UpgradeRequestEvent | undefined;
  private earlyData: Uint8Array[] = [];
  private earlyDataSize = 0;

  constructor(options: ServerHandshakeOptions = {}) {
    const limits: HeadLimits = {
      maxHeadSize: limitOption(options.maxHeadSize, DEFAULT_HEAD_LIMITS.maxHeadSize, 'maxHeadSize'),
      maxHeaderCount: limitOption(options.maxHeaderCount, DEFAULT_HEAD_LIMITS.maxHeaderCount, 'maxHeaderCount'),
      maxStartLineLength: limitOption(
        options.maxRequestLineLength,
        DEFAULT_HEAD_LIMITS.maxStartLineLength,
        'maxRequestLineLength',
      ),
    };
    this.parser = createRequestHeadParser(limits);
    this.maxHeaderCount = limits.maxHeaderCount;
    this.maxEarlyDataSize = limitOption(options.maxEarlyDataSize, DEFAULT_MAX_EARLY_DATA, 'maxEarlyDataSize');
  }

  /**
   * Starts from a request the runtime already parsed. The same validation
   * applies, and the resulting event is ready in {@link nextEvent}.
   */
  static fromParsedRequest(request: ParsedRequest, options: ServerHandshakeOptions = {}): ServerHandshake {
    const handshake = new ServerHandshake(options);
    handshake.handleParsed(request);
    return handshake;
  }

  get state(): ServerHandshakeState {
    return this.stateValue;
  }

  /**
   * Feeds bytes from the client. Never throws on their content. After a
   * rejection or a bad request, bytes are ignored; after `accept` they belong
   * to the connection, so passing them here throws.
   */
  receive(chunk: Uint8Array): void {
    switch (this.stateValue) {
      case ServerHandshakeState.ReadingRequest:
        this.receiveHead(chunk);
        return;
      case ServerHandshakeState.AwaitingDecision:
        this.keepEarlyData(chunk, false);
        return;
      case ServerHandshakeState.Accepted:
        throw new UsageError('ERR_INVALID_STATE', 'the handshake is accepted: feed bytes to the connection');
      default:
        return;
    }
  }

  /** The next event, or undefined when there is none yet. */
  nextEvent(): ServerHandshakeEvent | undefined {
    return this.events.shift();
  }

  /** Accepts the upgrade: returns the 101 response and the client's early bytes. */
  accept(options: AcceptOptions = {}): AcceptResult {
    const request = this.decidable('accept');
    const protocol = chooseProtocol(request, options.protocol);
    const extensions = chooseExtensions(request, options.extensions);
    const fields: HeaderField[] = [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Accept', computeAcceptKey(request.key)],
    ];
    if (protocol !== null) fields.push(['Sec-WebSocket-Protocol', protocol]);
    if (extensions.length > 0) fields.push(['Sec-WebSocket-Extensions', serializeExtensions(extensions)]);
    fields.push(...normalizeHeaders(options.headers, RESERVED_ACCEPT_HEADERS));
    const response = serializeMessage('HTTP/1.1 101 Switching Protocols', fields);
    const trailing = concat(this.earlyData, this.earlyDataSize);
    this.earlyData = [];
    this.stateValue = ServerHandshakeState.Accepted;
    return { response, protocol, extensions, trailing };
  }

  /** Refuses the upgrade, e.g. 403 for an untrusted Origin; write the response and close. */
  reject(options: RejectOptions): RejectResult {
    this.decidable('reject');
    const response = errorResponse(options);
    this.earlyData = [];
    this.stateValue = ServerHandshakeState.Rejected;
    return { response };
  }

  private decidable(method: string): UpgradeRequestEvent {
    if (this.stateValue !== ServerHandshakeState.AwaitingDecision || this.request === undefined) {
      throw new UsageError('ERR_INVALID_STATE', `cannot ${method} in state "${this.stateValue}"`);
    }
    return this.request;
  }

  private receiveHead(chunk: Uint8Array): void {
    const result = this.parser.push(chunk);
    if (result.type === 'incomplete') return;
    if (result.type === 'invalid') {
      this.fail(result.status, result.reason);
      return;
    }
    this.decide(validateUpgrade(result.startLine, result.headers), result.trailing, true);
  }

  private handleParsed(request: ParsedRequest): void {
    const parsed = checkParsedRequest(request, this.maxHeaderCount);
    if (!parsed.ok) {
      this.fail(parsed.status, parsed.reason);
      return;
    }
    this.decide(validateUpgrade(parsed.line, parsed.headers), request.trailing ?? new Uint8Array(0), false);
  }

  private decide(verdict: Verdict, trailing: Uint8Array, owned: boolean): void {
    if (!verdict.ok) {
      this.fail(verdict.status, verdict.reason);
      return;
    }
    this.request = verdict.event;
    this.stateValue = ServerHandshakeState.AwaitingDecision;
    this.events.push(verdict.event);
    this.keepEarlyData(trailing, owned);
  }

  /** Keeps bytes for `accept`; `owned` bytes are ours already, others are copied (read buffers get reused). */
  private keepEarlyData(chunk: Uint8Array, owned: boolean): void {
    if (chunk.length === 0) return;
    this.earlyDataSize += chunk.length;
    if (this.earlyDataSize > this.maxEarlyDataSize) {
      this.earlyData = [];
      this.fail(400, `more than ${this.maxEarlyDataSize} bytes sent before the handshake completed`);
      return;
    }
    this.earlyData.push(owned ? chunk : chunk.slice());
  }

  private fail(status: 400 | 426 | 431, reason: string): void {
    this.stateValue = ServerHandshakeState.Failed;
    this.events.push({ type: 'bad-request', status, reason, response: badRequestResponse(status, reason) });
  }
}

/** RFC 6455 §4.2.1, checked in an order that gives the most useful answer first. */
function validateUpgrade(line: RequestLine, headers: HttpHeaders): Verdict {
  if (line.method !== 'GET') return reject400(`method must be GET, not ${preview(line.method)}`);
  if (!isHttp11OrLater(line.httpVersion)) return reject400('HTTP/1.1 or later is required');
  const host = single(headers, 'host');
  if (host === null || host === '') return reject400('missing, empty or repeated Host');
  if (!listHasToken(headers.get('upgrade') ?? '', 'websocket')) return reject400('Upgrade must include "websocket"');
  if (!listHasToken(headers.get('connection') ?? '', 'upgrade')) return reject400('Connection must include "Upgrade"');
  // Before the key: another protocol version may not send a key at all, and
  // 426 tells it which version to speak.
  if (single(headers, 'sec-websocket-version') !== '13') {
    return { ok: false, status: 426, reason: 'Sec-WebSocket-Version must be 13' };
  }
  const key = single(headers, 'sec-websocket-key');
  if (key === null || !isValidClientKey(key)) return reject400('Sec-WebSocket-Key must be base64 of 16 bytes');
  const origins = headers.getAll('origin');
  if (origins.length > 1) return reject400('repeated Origin');
  const target = splitTarget(line.target);
  if (target === null) return reject400('request target must be a path or an absolute URL');
  return withOffers(headers, {
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
    protocols: [],
    extensions: [],
  });
}

function withOffers(headers: HttpHeaders, event: UpgradeRequestEvent): Verdict {
  const protocolHeader = headers.get('sec-websocket-protocol');
  const extensionHeader = headers.get('sec-websocket-extensions');
  let protocols: readonly string[] = [];
  let extensions: readonly ExtensionElement[] = [];
  if (protocolHeader !== undefined) {
    const parsed = parseSubprotocols(protocolHeader);
    if (!parsed.ok) return reject400(parsed.reason);
    protocols = parsed.value;
  }
  if (extensionHeader !== undefined) {
    const parsed = parseExtensions(extensionHeader);
    if (!parsed.ok) return reject400(parsed.reason);
    extensions = parsed.value;
  }
  return { ok: true, event: { ...event, protocols, extensions } };
}

function reject400(reason: string): Verdict {
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

type ParsedCheck =
  | { readonly ok: true; readonly line: RequestLine; readonly headers: HttpHeaders }
  | { readonly ok: false; readonly status: 400 | 431; readonly reason: string };

/**
 * Holds a runtime-parsed request to the same character rules as raw bytes,
 * since not every runtime's parser is as strict.
 */
function checkParsedRequest(request: ParsedRequest, maxHeaderCount: number): ParsedCheck {
  const httpVersion = request.httpVersion.startsWith('HTTP/') ? request.httpVersion.slice(5) : request.httpVersion;
  if (!isToken(request.method)) return { ok: false, status: 400, reason: 'malformed request line: bad method' };
  if (!isVisibleAscii(request.target)) {
    return { ok: false, status: 400, reason: 'malformed request line: bad request target' };
  }
  if (!/^\d\.\d$/.test(httpVersion)) {
    return { ok: false, status: 400, reason: 'malformed request line: bad HTTP version' };
  }
  const pairs = toPairs(request.headers);
  if (pairs === null) return { ok: false, status: 400, reason: 'header list has an odd number of entries' };
  if (pairs.length > maxHeaderCount) {
    return { ok: false, status: 431, reason: `more than ${maxHeaderCount} header fields` };
  }
  for (const [name, value] of pairs) {
    if (!isToken(name)) return { ok: false, status: 400, reason: 'invalid character in header field name' };
    if (!isFieldValue(value)) return { ok: false, status: 400, reason: 'control character in a header field value' };
  }
  return { ok: true, line: { method: request.method, target: request.target, httpVersion }, headers: new HttpHeaders(pairs) };
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

function chooseProtocol(request: UpgradeRequestEvent, protocol: string | null | undefined): string | null {
  if (protocol === undefined || protocol === null) return null;
  if (!request.protocols.includes(protocol)) {
    throw new UsageError('ERR_INVALID_ARGUMENT', `subprotocol ${JSON.stringify(protocol)} was not offered`);
  }
  return protocol;
}

function chooseExtensions(
  request: UpgradeRequestEvent,
  chosen: string | readonly ExtensionElement[] | undefined,
): readonly ExtensionElement[] {
  if (chosen === undefined) return [];
  const elements = typeof chosen === 'string' ? parseChosenExtensions(chosen) : chosen;
  if (elements.length === 0) return [];
  serializeExtensions(elements); // throws on a name or value that is not a token
  const offered = new Set(request.extensions.map((offer) => offer.name.toLowerCase()));
  for (const element of elements) {
    if (!offered.has(element.name.toLowerCase())) {
      throw new UsageError('ERR_INVALID_ARGUMENT', `extension "${element.name}" was not offered`);
    }
  }
  return elements;
}

function parseChosenExtensions(value: string): readonly ExtensionElement[] {
  if (trimOws(value) === '') return [];
  const parsed = parseExtensions(value);
  if (!parsed.ok) throw new UsageError('ERR_INVALID_ARGUMENT', parsed.reason);
  return parsed.value;
}

function badRequestResponse(status: 400 | 426 | 431, reason: string): Uint8Array<ArrayBuffer> {
  const body = fromString(`${reason}\n`, 'utf8');
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

function errorResponse(options: RejectOptions): Uint8Array<ArrayBuffer> {
  const { status } = options;
  if (!Number.isInteger(status) || status < 300 || status > 599) {
    throw new UsageError('ERR_INVALID_ARGUMENT', `reject status must be an integer from 300 to 599, not ${status}`);
  }
  const reason = options.reason ?? reasonPhrase(status);
  if (!isFieldValue(reason)) {
    throw new UsageError('ERR_INVALID_ARGUMENT', 'reason phrase must not contain CR, LF or other control characters');
  }
  const fields = normalizeHeaders(options.headers, RESERVED_REJECT_HEADERS);
  const body = encodeBody(options.body);
  if (typeof options.body === 'string' && !fields.some(([name]) => name.toLowerCase() === 'content-type')) {
    fields.push(['Content-Type', 'text/plain; charset=utf-8']);
  }
  fields.push(['Connection', 'close'], ['Content-Length', String(body.length)]);
  return serializeMessage(`HTTP/1.1 ${status} ${reason}`, fields, body);
}

function encodeBody(body: string | Uint8Array | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  if (typeof body === 'string') return fromString(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  throw new UsageError('ERR_INVALID_ARGUMENT', 'reject body must be a string or a Uint8Array');
}

function preview(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`;
}
