/**
 * The client's endpoint: queues the upgrade request at once, reads the
 * response (skipping interim 1xx, reading a refusal's body), checks a 101
 * against what was offered, agrees the configured extensions, then runs the
 * frame phase. The state table is in endpoint.ts.
 */
import { Endpoint, type FrameOptions } from './endpoint.js';
import type { TextAs } from './events.js';
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
import { HandshakeFailure, validateUpgradeResponse } from './upgrade-response.js';

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

/** `T`: how text messages are received, from the `textAs` option (strings unless it says 'bytes'). */
export class ClientEndpoint<T extends TextAs = 'string'> extends Endpoint<T> {
  /** The target as a ws: or wss: URL. */
  readonly url: URL;
  /** `Sec-WebSocket-Key` sent in the request. */
  readonly key: string;
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

  /**
   * Throws {@link UsageError} for a URL that is not ws:, wss:, http: or
   * https: or has a fragment, and for invalid subprotocols, extension offers,
   * Origin, header fields or limits.
   */
  constructor(url: string | URL, options: ClientEndpointOptions<T> = {}) {
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
    const request = buildUpgradeRequest(
      this.url,
      {
        protocols: this.protocols,
        extensions: this.offers,
        ...(options.origin !== undefined && { origin: options.origin }),
        ...(options.headers !== undefined && { headers: options.headers }),
      },
      options.random ?? cryptoRandom,
    );
    this.key = request.key;
    this.out.pushBuffer(request.bytes);
  }

  /** @internal */
  protected receiveHead(chunk: Uint8Array): void {
    if (this.body !== undefined) {
      if (this.body.reader.push(chunk)) this.finishBody();
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
    this.failHandshake(
      HandshakeFailure.ConnectionClosed,
      'the connection closed before the response head was complete',
      null,
      null,
    );
  }

  /** 1xx other than 101 (e.g. 103 Early Hints) precede the real response. */
  private interimResponse(trailing: Uint8Array): void {
    this.interimResponses++;
    if (this.interimResponses > MAX_INTERIM_RESPONSES) {
      this.failHandshake(
        HandshakeFailure.MalformedResponse,
        `more than ${MAX_INTERIM_RESPONSES} interim responses`,
        null,
        null,
      );
      return;
    }
    this.parser = createResponseHeadParser(this.limits);
    if (trailing.length > 0) this.receiveHead(trailing);
  }

  private switchingProtocols(headers: HttpHeaders, trailing: Uint8Array): void {
    const verdict = validateUpgradeResponse(headers, {
      key: this.key,
      protocols: this.protocols,
      extensions: this.offers.map((offer) => offer.name),
    });
    if (!verdict.ok) {
      this.failHandshake(verdict.failure, verdict.reason, 101, headers);
      return;
    }
    // The parameters are each extension's to check (RFC 6455 §9.1, RFC 7692 §7).
    const agreed = acceptExtensions(verdict.extensions, this.offered);
    if (!agreed.ok) {
      this.failHandshake(HandshakeFailure.InvalidExtensions, agreed.reason, 101, headers);
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
