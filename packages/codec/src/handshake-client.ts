/**
 * The client side of the opening handshake (RFC 6455 §4.1) as a sans-I/O
 * state machine.
 *
 *   awaiting-response ──101 valid──▶ open
 *          │  │    └──101 invalid / malformed / EOF──▶ failed
 *          │  └──other status──▶ reading-body ──body read / EOF──▶ rejected
 *          └──other status, no body──────────────────────────────▶ rejected
 *
 * Write `request`, feed the response with `receive` (and `receiveEof` when
 * the transport ends), and pull the single outcome with `nextEvent`.
 */

import { UsageError } from './errors.js';
import { HandshakeFailure } from './upgrade-response.js';
import { computeAcceptKey, generateClientKey } from './accept-key.js';
import {
  type ExtensionElement,
  isToken,
  listHasToken,
  parseExtensions,
  serializeExtensions,
  serializeSubprotocols,
  trimOws,
} from './header-grammar.js';
import { BodyReader, responseBodyFraming } from './http-body.js';
import {
  DEFAULT_HEAD_LIMITS,
  type HeadLimits,
  type HttpHeadParser,
  type HttpHeaders,
  type StatusLine,
  createResponseHeadParser,
  limitOption,
} from './http-head.js';
import {
  type HeaderField,
  type HeaderInit,
  checkFieldValue,
  normalizeHeaders,
  serializeMessage,
} from './http-write.js';

export const ClientHandshakeState = {
  /** The request is ready; reading the response head. */
  AwaitingResponse: 'awaiting-response',
  /** A non-101 response head arrived; reading its body for the application. */
  ReadingBody: 'reading-body',
  /** The server accepted; bytes now belong to the connection. */
  Open: 'open',
  /** The server answered with another status (`unexpected-response`). */
  Rejected: 'rejected',
  /** The response was malformed or broke RFC 6455 (`failed`). */
  Failed: 'failed',
} as const;
export type ClientHandshakeState = (typeof ClientHandshakeState)[keyof typeof ClientHandshakeState];

export { HandshakeFailure };

export interface ClientHandshakeOptions {
  /** Subprotocols to offer, most preferred first: distinct tokens. */
  readonly protocols?: readonly string[];
  /** Extensions to offer: a header value, or elements to serialise. */
  readonly extensions?: string | readonly ExtensionElement[];
  /** `Origin` to send (browsers always do; other clients may). */
  readonly origin?: string;
  /** Extra request fields, e.g. `Authorization`, `Cookie`. */
  readonly headers?: HeaderInit;
  /** Fills bytes with randomness for the key; default `crypto.getRandomValues`. */
  readonly random?: (bytes: Uint8Array) => void;
  /** Largest response head in bytes (default 16 KiB). */
  readonly maxHeadSize?: number;
  /** Most header field lines in the response (default 100). */
  readonly maxHeaderCount?: number;
  /** Longest status line in bytes (default 8 KiB). */
  readonly maxStatusLineLength?: number;
  /** Most body bytes kept from a non-101 response (default 64 KiB). */
  readonly maxBodySize?: number;
}

/** The server accepted: hand `trailing` to the frame decoder before anything else. */
export interface HandshakeOpenEvent {
  readonly type: 'open';
  /** The subprotocol the server selected, or null. */
  readonly protocol: string | null;
  /**
   * Extensions the server accepted, as parsed. Names were checked against the
   * offer; the parameters are for each extension to validate.
   */
  readonly extensions: readonly ExtensionElement[];
  readonly headers: HttpHeaders;
  readonly trailing: Uint8Array<ArrayBuffer>;
}

/** The server answered with something other than 101, e.g. 401, 403 or 503. */
export interface UnexpectedResponseEvent {
  readonly type: 'unexpected-response';
  readonly status: number;
  /** The reason phrase, e.g. "Forbidden". */
  readonly reason: string;
  readonly httpVersion: string;
  readonly headers: HttpHeaders;
  /** The body, at most `maxBodySize` bytes. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** False when the body was capped, malformed, or cut off by the transport. */
  readonly bodyComplete: boolean;
}

/** The response was not a valid WebSocket handshake; close the transport. */
export interface HandshakeFailedEvent {
  readonly type: 'failed';
  readonly failure: HandshakeFailure;
  /** What exactly was wrong, for logs and error messages. */
  readonly reason: string;
  /** The response fields when a head was parsed. */
  readonly headers: HttpHeaders | null;
}

export type ClientHandshakeEvent = HandshakeOpenEvent | UnexpectedResponseEvent | HandshakeFailedEvent;

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

const DEFAULT_MAX_BODY_SIZE = 64 * 1024;
/** 1xx responses tolerated before the real one; each is bounded by the head limits. */
const MAX_INTERIM_RESPONSES = 8;

const defaultRandom = (bytes: Uint8Array): void => {
  crypto.getRandomValues(bytes);
};

type Check = { readonly ok: true } | { readonly ok: false; readonly failure: HandshakeFailure; readonly reason: string };

export class ClientHandshake {
  /** The target as a ws: or wss: URL. */
  readonly url: URL;
  /** `Sec-WebSocket-Key` sent in the request. */
  readonly key: string;
  /** The request bytes to write to the transport. */
  readonly request: Uint8Array<ArrayBuffer>;
  /** Offered subprotocols. */
  readonly protocols: readonly string[];
  /** Offered extensions. */
  readonly extensions: readonly ExtensionElement[];

  private stateValue: ClientHandshakeState = ClientHandshakeState.AwaitingResponse;
  private readonly limits: HeadLimits;
  private readonly maxBodySize: number;
  private parser: HttpHeadParser<StatusLine>;
  private interimResponses = 0;
  private body: { reader: BodyReader; line: StatusLine; headers: HttpHeaders } | undefined;
  private readonly events: ClientHandshakeEvent[] = [];

  constructor(url: string | URL, options: ClientHandshakeOptions = {}) {
    this.url = toWebSocketUrl(url);
    this.limits = {
      maxHeadSize: limitOption(options.maxHeadSize, DEFAULT_HEAD_LIMITS.maxHeadSize, 'maxHeadSize'),
      maxHeaderCount: limitOption(options.maxHeaderCount, DEFAULT_HEAD_LIMITS.maxHeaderCount, 'maxHeaderCount'),
      maxStartLineLength: limitOption(
        options.maxStatusLineLength,
        DEFAULT_HEAD_LIMITS.maxStartLineLength,
        'maxStatusLineLength',
      ),
    };
    this.maxBodySize = limitOption(options.maxBodySize, DEFAULT_MAX_BODY_SIZE, 'maxBodySize');
    this.parser = createResponseHeadParser(this.limits);
    this.protocols = [...(options.protocols ?? [])];
    this.extensions = offeredExtensions(options.extensions);
    this.key = generateClientKey(options.random ?? defaultRandom);
    this.request = this.buildRequest(options);
  }

  get state(): ClientHandshakeState {
    return this.stateValue;
  }

  /**
   * Feeds response bytes. Never throws on their content. After `open` the
   * bytes belong to the connection, so passing them here throws; after a
   * failure or rejection they are ignored.
   */
  receive(chunk: Uint8Array): void {
    switch (this.stateValue) {
      case ClientHandshakeState.AwaitingResponse:
        this.receiveHead(chunk);
        return;
      case ClientHandshakeState.ReadingBody:
        if (this.body?.reader.push(chunk)) this.finishBody();
        return;
      case ClientHandshakeState.Open:
        throw new UsageError('ERR_INVALID_STATE', 'the handshake is open: feed bytes to the connection');
      default:
        return;
    }
  }

  /** The transport ended (read side closed). */
  receiveEof(): void {
    switch (this.stateValue) {
      case ClientHandshakeState.AwaitingResponse:
        this.fail(HandshakeFailure.ConnectionClosed, 'the connection closed before the response head was complete', null);
        return;
      case ClientHandshakeState.ReadingBody:
        this.body?.reader.receiveEof();
        this.finishBody();
        return;
      case ClientHandshakeState.Open:
        throw new UsageError('ERR_INVALID_STATE', 'the handshake is open: report EOF to the connection');
      default:
        return;
    }
  }

  /** The next event, or undefined when there is none yet. */
  nextEvent(): ClientHandshakeEvent | undefined {
    return this.events.shift();
  }

  private buildRequest(options: ClientHandshakeOptions): Uint8Array<ArrayBuffer> {
    const fields: HeaderField[] = [
      ['Host', this.url.host],
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', this.key],
      ['Sec-WebSocket-Version', '13'],
    ];
    if (options.origin !== undefined) {
      checkFieldValue('Origin', options.origin);
      fields.push(['Origin', options.origin]);
    }
    if (this.protocols.length > 0) fields.push(['Sec-WebSocket-Protocol', serializeSubprotocols(this.protocols)]);
    if (this.extensions.length > 0) fields.push(['Sec-WebSocket-Extensions', serializeExtensions(this.extensions)]);
    fields.push(...normalizeHeaders(options.headers, RESERVED_REQUEST_HEADERS));
    return serializeMessage(`GET ${requestTarget(this.url)} HTTP/1.1`, fields);
  }

  private receiveHead(chunk: Uint8Array): void {
    const result = this.parser.push(chunk);
    if (result.type === 'incomplete') return;
    if (result.type === 'invalid') {
      const failure = result.status === 431 ? HandshakeFailure.ResponseTooLarge : HandshakeFailure.MalformedResponse;
      this.fail(failure, result.reason, null);
      return;
    }
    const { startLine, headers, trailing } = result;
    if (startLine.status === 101) this.onSwitchingProtocols(headers, trailing);
    else if (startLine.status < 200) this.onInterimResponse(trailing);
    else this.onOtherResponse(startLine, headers, trailing);
  }

  /** 1xx other than 101 (e.g. 103 Early Hints) precede the real response. */
  private onInterimResponse(trailing: Uint8Array): void {
    this.interimResponses++;
    if (this.interimResponses > MAX_INTERIM_RESPONSES) {
      this.fail(HandshakeFailure.MalformedResponse, `more than ${MAX_INTERIM_RESPONSES} interim responses`, null);
      return;
    }
    this.parser = createResponseHeadParser(this.limits);
    if (trailing.length > 0) this.receiveHead(trailing);
  }

  private onSwitchingProtocols(headers: HttpHeaders, trailing: Uint8Array<ArrayBuffer>): void {
    const check = this.checkUpgrade(headers);
    if (!check.ok) {
      this.fail(check.failure, check.reason, headers);
      return;
    }
    const protocol = selectedProtocol(headers);
    const extensions = this.acceptedExtensions(headers);
    if (!extensions.ok) {
      this.fail(extensions.failure, extensions.reason, headers);
      return;
    }
    this.stateValue = ClientHandshakeState.Open;
    this.events.push({ type: 'open', protocol, extensions: extensions.value, headers, trailing });
  }

  private checkUpgrade(headers: HttpHeaders): Check {
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
    const expected = computeAcceptKey(this.key);
    if (accept.length !== 1 || accept[0] !== expected) {
      return failed(HandshakeFailure.InvalidAccept, `Sec-WebSocket-Accept must be "${expected}", got ${describe(accept)}`);
    }
    return this.checkProtocol(headers);
  }

  private checkProtocol(headers: HttpHeaders): Check {
    const values = headers.getAll('sec-websocket-protocol');
    if (values.length === 0) return { ok: true };
    const value = values[0] ?? '';
    if (values.length > 1 || !isToken(value)) {
      return failed(HandshakeFailure.InvalidProtocol, `Sec-WebSocket-Protocol must be one token, got ${describe(values)}`);
    }
    if (this.protocols.length === 0) {
      return failed(HandshakeFailure.InvalidProtocol, `the server selected subprotocol "${value}" but none was offered`);
    }
    if (!this.protocols.includes(value)) {
      return failed(HandshakeFailure.InvalidProtocol, `the server selected subprotocol "${value}", which was not offered`);
    }
    return { ok: true };
  }

  private acceptedExtensions(
    headers: HttpHeaders,
  ): { ok: true; value: readonly ExtensionElement[] } | { ok: false; failure: HandshakeFailure; reason: string } {
    const value = headers.get('sec-websocket-extensions');
    if (value === undefined) return { ok: true, value: [] };
    const parsed = parseExtensions(value);
    if (!parsed.ok) return failed(HandshakeFailure.InvalidExtensions, parsed.reason);
    const offered = new Set(this.extensions.map((offer) => offer.name.toLowerCase()));
    for (const element of parsed.value) {
      if (!offered.has(element.name.toLowerCase())) {
        return failed(HandshakeFailure.InvalidExtensions, `the server accepted extension "${element.name}", which was not offered`);
      }
    }
    return { ok: true, value: parsed.value };
  }

  private onOtherResponse(line: StatusLine, headers: HttpHeaders, trailing: Uint8Array): void {
    const reader = new BodyReader(responseBodyFraming(line.status, headers), this.maxBodySize);
    this.body = { reader, line, headers };
    this.stateValue = ClientHandshakeState.ReadingBody;
    if (reader.done || reader.push(trailing)) this.finishBody();
  }

  private finishBody(): void {
    if (this.body === undefined) return;
    const { reader, line, headers } = this.body;
    const { body, complete } = reader.result();
    this.body = undefined;
    this.stateValue = ClientHandshakeState.Rejected;
    this.events.push({
      type: 'unexpected-response',
      status: line.status,
      reason: line.reason,
      httpVersion: line.httpVersion,
      headers,
      body,
      bodyComplete: complete,
    });
  }

  private fail(failure: HandshakeFailure, reason: string, headers: HttpHeaders | null): void {
    this.stateValue = ClientHandshakeState.Failed;
    this.events.push({ type: 'failed', failure, reason, headers });
  }
}

/**
 * Parses and normalises the URL as the WHATWG WebSocket constructor does:
 * http(s) maps to ws(s), other schemes and fragments are refused.
 */
function toWebSocketUrl(input: string | URL): URL {
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

function offeredExtensions(offer: string | readonly ExtensionElement[] | undefined): readonly ExtensionElement[] {
  if (offer === undefined) return [];
  if (typeof offer !== 'string') {
    if (offer.length > 0) serializeExtensions(offer); // throws on a non-token
    return [...offer];
  }
  if (trimOws(offer) === '') return [];
  const parsed = parseExtensions(offer);
  if (!parsed.ok) throw new UsageError('ERR_INVALID_ARGUMENT', parsed.reason);
  return parsed.value;
}

function selectedProtocol(headers: HttpHeaders): string | null {
  return headers.getAll('sec-websocket-protocol')[0] ?? null;
}

function failed(failure: HandshakeFailure, reason: string): { ok: false; failure: HandshakeFailure; reason: string } {
  return { ok: false, failure, reason };
}

/** Quotes received values for a reason, briefly. */
function describe(values: readonly string[]): string {
  if (values.length === 0) return 'none';
  const text = values.map((value) => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)).join(', ');
  return values.length > 1 ? `${values.length} fields: ${text}` : text;
}
