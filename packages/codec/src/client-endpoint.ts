/**
 * The client's endpoint: queues the upgrade request at once, reads the
 * response (skipping interim 1xx, reading a refusal's body), checks a 101
 * against what was offered, agrees the configured extensions, then runs the
 * frame phase. Over HTTP/2 (RFC 8441) the request and response are header
 * fields the host's HTTP/2 stack carries, and the same checks and frame
 * phase follow. The state table is in endpoint.ts.
 */
import { Endpoint, type FrameOptions } from './endpoint.js';
import { UsageError } from './errors.js';
import type { TextAs } from './events.js';
import {
  type ExtendedConnectResponse,
  extendedConnectRequestHeaders,
  readExtendedConnectResponse,
  validateExtendedConnectResponse,
} from './extended-connect.js';
import { type Extension, acceptExtensions, offerExtensions } from './extension.js';
import type { ExtensionElement } from './header-grammar.js';
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
import type { HeaderInit } from './http-write.js';
import { cryptoRandom } from './random.js';
import type { HeadOptions } from './server-endpoint.js';
import { buildUpgradeRequest, toWebSocketUrl } from './upgrade-request.js';
import { HandshakeFailure, type UpgradeResponseVerdict, validateUpgradeResponse } from './upgrade-response.js';

export interface ClientEndpointOptions<T extends TextAs = 'string'> extends FrameOptions<T>, HeadOptions {
  /** Subprotocols to offer, most preferred first: distinct tokens. */
  readonly protocols?: readonly string[];
  /**
   * Extensions to offer, e.g. `[permessageDeflate()]`; the server's answer is
   * validated against them (an answer they refuse fails the handshake).
   * Default none.
   */
  readonly extensions?: readonly Extension[];
  /** `Origin` to send (browsers always do; other clients may). */
  readonly origin?: string;
  /** Extra request fields, e.g. `Authorization`, `Cookie`. */
  readonly headers?: HeaderInit;
  /** Most body bytes kept from a non-101 response (default 64 KiB). */
  readonly maxBodySize?: number;
}

const DEFAULT_MAX_BODY_SIZE = 64 * 1024;
/** 1xx responses tolerated before the real one; each is bounded by the head limits. */
const MAX_INTERIM_RESPONSES = 8;
/**
 * Set by `forExtendedConnect` for the constructor it calls, which reads and
 * clears it at once: the public constructor keeps its HTTP/1.1 meaning.
 */
let bootstrapOverHttp2 = false;

/** `T`: how text messages are received, from the `textAs` option (strings unless it says 'bytes'). */
export class ClientEndpoint<T extends TextAs = 'string'> extends Endpoint<T> {
  /** The target as a ws: or wss: URL. */
  readonly url: URL;
  /** `Sec-WebSocket-Key` sent in the request ('' over HTTP/2, which has none). */
  readonly key: string;
  /** `'1.1'`, or `'2'` for an endpoint made by {@link ClientEndpoint.forExtendedConnect}. */
  readonly httpVersion: '1.1' | '2';
  /**
   * Over HTTP/2: the extended CONNECT's header fields to send, pseudo-header
   * fields first, names in lower case. Null over HTTP/1.1, where the request
   * is bytes in `takeOutgoing()`.
   */
  readonly requestHeaders: Readonly<Record<string, string>> | null;
  /** Subprotocols offered. */
  readonly protocols: readonly string[];
  /** Extension offers sent. */
  readonly offers: readonly ExtensionElement[];
  private readonly offered: readonly Extension[];
  private readonly limits: HeadLimits;
  private readonly maxBodySize: number;
  private parser: HttpHeadParser<StatusLine>;
  private interimResponses = 0;
  private body: { reader: BodyReader; line: StatusLine; headers: HttpHeaders } | undefined;
  /** Over HTTP/2: whether the response head is still to come. */
  private awaitingResponse = false;

  /**
   * Throws {@link UsageError} for a URL that is not ws:, wss:, http: or
   * https: or has a fragment, and for invalid subprotocols, extension offers,
   * Origin, header fields or limits.
   */
  constructor(url: string | URL, options: ClientEndpointOptions<T> = {}) {
    const overHttp2 = bootstrapOverHttp2;
    bootstrapOverHttp2 = false;
    super('client', options);
    this.url = toWebSocketUrl(url);
    this.limits = {
      maxHeadSize: limitOption(options.maxHeadSize, DEFAULT_HEAD_LIMITS.maxHeadSize, 'maxHeadSize'),
      maxHeaderCount: limitOption(options.maxHeaderCount, DEFAULT_HEAD_LIMITS.maxHeaderCount, 'maxHeaderCount'),
      maxStartLineLength: limitOption(
        options.maxStartLineLength,
        DEFAULT_HEAD_LIMITS.maxStartLineLength,
        'maxStartLineLength',
      ),
    };
    this.maxBodySize = limitOption(options.maxBodySize, DEFAULT_MAX_BODY_SIZE, 'maxBodySize');
    this.parser = createResponseHeadParser(this.limits);
    this.protocols = [...(options.protocols ?? [])];
    this.offered = options.extensions ?? [];
    this.offers = offerExtensions(this.offered);
    const fields = {
      protocols: this.protocols,
      extensions: this.offers,
      ...(options.origin !== undefined && { origin: options.origin }),
      ...(options.headers !== undefined && { headers: options.headers }),
    };
    if (overHttp2) {
      this.httpVersion = '2';
      this.key = '';
      this.requestHeaders = Object.freeze(extendedConnectRequestHeaders(this.url, fields));
      this.awaitingResponse = true;
      return;
    }
    this.httpVersion = '1.1';
    this.requestHeaders = null;
    const request = buildUpgradeRequest(this.url, fields, options.random ?? cryptoRandom);
    this.key = request.key;
    this.out.pushBuffer(request.bytes);
  }

  /**
   * A client for an HTTP/2 stream (RFC 8441): send {@link requestHeaders}
   * as the stream's request (e.g. Node's `session.request(headers, {
   * endStream: false })`), then hand the response to
   * {@link receiveResponseHeaders}. A 2xx is checked like a 101 (subprotocol,
   * extensions) and opens; any other status reads the stream's DATA as the
   * refusal's body until `receiveEof()` (END_STREAM) and reports `rejected`.
   * The frames then travel in DATA through `receive()` and
   * `takeOutgoing()`; END_STREAM and RST_STREAM are `receiveEof()` (§5).
   * Needs a server whose SETTINGS enabled extended CONNECT. Throws
   * {@link UsageError} as the constructor does.
   */
  static forExtendedConnect<T extends TextAs = 'string'>(
    url: string | URL,
    options: ClientEndpointOptions<T> = {},
  ): ClientEndpoint<T> {
    bootstrapOverHttp2 = true;
    try {
      return new ClientEndpoint<T>(url, options);
    } finally {
      bootstrapOverHttp2 = false;
    }
  }

  /**
   * Over HTTP/2: the response's status and fields as the host's HTTP/2 stack
   * decoded them (interim 1xx responses may be passed too; they are
   * skipped). Never throws for what the server sent; throws
   * {@link UsageError} `ERR_INVALID_STATE` on an HTTP/1.1 endpoint or once
   * the response head was taken or the stream ended.
   */
  receiveResponseHeaders(response: ExtendedConnectResponse): void {
    if (!this.awaitingResponse) {
      throw new UsageError(
        'ERR_INVALID_STATE',
        this.httpVersion === '1.1'
          ? 'receiveResponseHeaders is for an endpoint made by ClientEndpoint.forExtendedConnect'
          : 'the response headers were already received, or the stream ended',
      );
    }
    const head = readExtendedConnectResponse(response, this.limits.maxHeaderCount);
    if (!head.ok) {
      this.awaitingResponse = false;
      this.failHandshake(head.failure, head.reason, response.status ?? null, null);
      return;
    }
    const { status, headers } = head;
    if (status < 200) {
      // RFC 9113 §8.6: HTTP/2 has no 101; other 1xx precede the real response.
      if (status === 101) {
        this.awaitingResponse = false;
        this.failHandshake(HandshakeFailure.MalformedResponse, 'HTTP/2 has no 101 response', 101, headers);
      } else this.interimResponse(null);
      return;
    }
    this.awaitingResponse = false;
    if (status < 300) {
      this.agree(validateExtendedConnectResponse(headers, this.expectation()), status, headers, new Uint8Array(0));
      return;
    }
    // HTTP/2 frames the body with DATA until END_STREAM, and has no reason phrase.
    const framing = status === 204 || status === 304 ? ({ kind: 'none' } as const) : ({ kind: 'until-eof' } as const);
    this.body = {
      reader: new BodyReader(framing, this.maxBodySize),
      line: { httpVersion: '2.0', status, reason: '' },
      headers,
    };
    if (this.body.reader.done) this.finishBody();
  }

  /** @internal */
  protected receiveHead(chunk: Uint8Array): void {
    if (this.body !== undefined) {
      if (this.body.reader.push(chunk)) this.finishBody();
      return;
    }
    if (this.httpVersion === '2') {
      this.awaitingResponse = false;
      this.failHandshake(HandshakeFailure.MalformedResponse, 'DATA arrived before the response headers', null, null);
      return;
    }
    const result = this.parser.push(chunk);
    if (result.type === 'incomplete') return;
    if (result.type === 'invalid') {
      const failure = result.status === 431 ? HandshakeFailure.ResponseTooLarge : HandshakeFailure.MalformedResponse;
      this.failHandshake(failure, result.reason, null, null);
      return;
    }
    const { startLine, headers, trailing } = result;
    if (startLine.status === 101) this.switchingProtocols(headers, trailing);
    else if (startLine.status < 200) this.interimResponse(trailing);
    else this.otherResponse(startLine, headers, trailing);
  }

  /** @internal */
  protected headEnded(): void {
    if (this.body !== undefined) {
      this.body.reader.receiveEof();
      this.finishBody();
      return;
    }
    this.awaitingResponse = false;
    this.failHandshake(
      HandshakeFailure.ConnectionClosed,
      this.httpVersion === '2'
        ? 'the stream ended before the response headers (END_STREAM or RST_STREAM)'
        : 'the connection closed before the response head was complete',
      null,
      null,
    );
  }

  /** 1xx other than 101 (e.g. 103 Early Hints) precede the real response; null trailing: over HTTP/2. */
  private interimResponse(trailing: Uint8Array | null): void {
    this.interimResponses++;
    if (this.interimResponses > MAX_INTERIM_RESPONSES) {
      this.awaitingResponse = false;
      this.failHandshake(
        HandshakeFailure.MalformedResponse,
        `more than ${MAX_INTERIM_RESPONSES} interim responses`,
        null,
        null,
      );
      return;
    }
    if (trailing === null) return;
    this.parser = createResponseHeadParser(this.limits);
    if (trailing.length > 0) this.receiveHead(trailing);
  }

  private switchingProtocols(headers: HttpHeaders, trailing: Uint8Array): void {
    this.agree(validateUpgradeResponse(headers, { key: this.key, ...this.expectation() }), 101, headers, trailing);
  }

  private expectation(): { protocols: readonly string[]; extensions: readonly string[] } {
    return { protocols: this.protocols, extensions: this.offers.map((offer) => offer.name) };
  }

  /** A 101 (HTTP/1.1) or 2xx (HTTP/2) whose fields were checked: agree the extensions and open, or fail. */
  private agree(verdict: UpgradeResponseVerdict, status: number, headers: HttpHeaders, trailing: Uint8Array): void {
    if (!verdict.ok) {
      this.failHandshake(verdict.failure, verdict.reason, status, headers);
      return;
    }
    // The parameters are each extension's to check (RFC 6455 §9.1, RFC 7692 §7).
    const agreed = acceptExtensions(verdict.extensions, this.offered);
    if (!agreed.ok) {
      this.failHandshake(HandshakeFailure.InvalidExtensions, agreed.reason, status, headers);
      return;
    }
    this.opened('opened', verdict.protocol, agreed.negotiated, headers, trailing);
  }

  private otherResponse(line: StatusLine, headers: HttpHeaders, trailing: Uint8Array): void {
    const reader = new BodyReader(responseBodyFraming(line.status, headers), this.maxBodySize);
    this.body = { reader, line, headers };
    if (reader.done || reader.push(trailing)) this.finishBody();
  }

  private finishBody(): void {
    const { reader, line, headers } = this.body as NonNullable<typeof this.body>;
    const { body, complete } = reader.result();
    this.refused(
      'refuse',
      {
        type: 'rejected',
        status: line.status,
        reason: line.reason,
        httpVersion: line.httpVersion,
        headers,
        body,
        bodyComplete: complete,
      },
      null,
    );
  }

  private failHandshake(
    failure: HandshakeFailure,
    reason: string,
    status: number | null,
    headers: HttpHeaders | null,
  ): void {
    this.refused('refuse', this.handshakeError(failure, reason, status, headers), null);
  }
}
