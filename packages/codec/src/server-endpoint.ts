/**
 * The server's endpoint: reads the upgrade request (from raw HTTP/1.1 bytes,
 * or as another HTTP stack parsed it), reports it as a `request` event,
 * answers the application's `accept` (negotiating the configured extensions)
 * or `reject`, then runs the frame phase. The state table is in endpoint.ts.
 */
import { Endpoint, type FrameOptions } from './endpoint.js';
import { UsageError } from './errors.js';
import type { AcceptCommand, RejectCommand, TextAs } from './events.js';
import { type Extension, negotiateExtensions } from './extension.js';
import {
  DEFAULT_HEAD_LIMITS,
  type HeadLimits,
  type HttpHeadParser,
  type RequestLine,
  createRequestHeadParser,
  limitOption,
} from './http-head.js';
import {
  type ExtendedConnectRequest,
  type ParsedRequest,
  type UpgradeRequestEvent,
  type UpgradeRequestVerdict,
  validateExtendedConnect,
  validateParsedRequest,
  validateUpgradeRequest,
} from './upgrade-request.js';
import {
  HandshakeFailure,
  errorResponse,
  extendedConnectErrorResponse,
  extendedConnectResponseFields,
  refusalResponse,
  switchingProtocolsResponse,
} from './upgrade-response.js';
import { copyOf } from './byte-copy.js';

/** Limits on a message head, the same for a request and a response. */
export interface HeadOptions {
  /** Largest head in bytes, from its first byte through the empty line (default 16 KiB); beyond it → 431. */
  readonly maxHeadSize?: number;
  /** Most header field lines (default 100); beyond it → 431. */
  readonly maxHeaderCount?: number;
  /** Longest request or status line in bytes (default 8 KiB); beyond it → 400. */
  readonly maxStartLineLength?: number;
}

export interface ServerEndpointOptions<T extends TextAs = 'string'> extends FrameOptions<T>, HeadOptions {
  /**
   * Extensions this server supports, e.g. `[permessageDeflate()]`: `accept`
   * negotiates them against the request's offers. Default none.
   */
  readonly extensions?: readonly Extension[];
  /**
   * Most bytes kept from after the request head while the application
   * decides (default 64 KiB). A client should send nothing before the 101
   * (§4.1), so more than this is refused with 400.
   */
  readonly maxEarlyDataSize?: number;
}

const DEFAULT_MAX_EARLY_DATA = 64 * 1024;
const NO_BYTES = new Uint8Array(0);
/** One object for every endpoint made without options, so they share one config. */
const DEFAULTS: ServerEndpointOptions<never> = Object.freeze({});

/** `T`: how text messages are received, from the `textAs` option (strings unless it says 'bytes'). */
export class ServerEndpoint<T extends TextAs = 'string'> extends Endpoint<T> {
  /** Made on the first bytes, dropped once the head is read (and the request after the decision): an open connection keeps neither. */
  private parser: HttpHeadParser<RequestLine> | undefined;
  /** Read from the options once per options object: a server's connections share it. */
  private readonly config: ServerConfig;
  private request: UpgradeRequestEvent | undefined;
  /** Bootstrapped on an HTTP/2 stream (RFC 8441): answers are `response` events, not bytes. */
  private overHttp2 = false;

  constructor(options: ServerEndpointOptions<T> = DEFAULTS) {
    super('server', options);
    this.config = configFor(options);
  }

  /**
   * Starts from a request the host's HTTP stack already parsed (e.g. Node's
   * `upgrade` event). The same rules apply; its `request` event (or its
   * refusal) is ready in `nextEvent()`, and `trailing` is the frame phase's
   * first input (it is copied: a host may reuse its read buffer).
   */
  static fromParsedRequest<T extends TextAs = 'string'>(
    request: ParsedRequest,
    options: ServerEndpointOptions<T> = DEFAULTS,
  ): ServerEndpoint<T> {
    const endpoint = new ServerEndpoint<T>(options);
    const trailing =
      request.trailing === undefined || request.trailing.length === 0 ? NO_BYTES : copyOf(request.trailing);
    endpoint.verdict(validateParsedRequest(request, endpoint.config.limits.maxHeaderCount), trailing);
    return endpoint;
  }

  /**
   * Starts from an HTTP/2 extended CONNECT request (RFC 8441) that the
   * host's HTTP/2 stack received. Its `request` event (or refusal) is ready in
   * `nextEvent()`; `accept` and `reject` then produce a `response` event for
   * the host to send on the stream (`:status` 200, or the error) instead of
   * bytes, and the stream's DATA carries the frames through `receive()` and
   * `takeOutgoing()` as usual. Refusals are 400 (HTTP/2 has no 426).
   */
  static fromExtendedConnect<T extends TextAs = 'string'>(
    request: ExtendedConnectRequest,
    options: ServerEndpointOptions<T> = DEFAULTS,
  ): ServerEndpoint<T> {
    const endpoint = new ServerEndpoint<T>(options);
    endpoint.overHttp2 = true;
    endpoint.verdict(validateExtendedConnect(request, endpoint.config.limits.maxHeaderCount), NO_BYTES);
    return endpoint;
  }

  /** @internal */
  protected receiveHead(chunk: Uint8Array): void {
    // Made on the first bytes: a bootstrap from a parsed request never needs one.
    const result = (this.parser ??= createRequestHeadParser(this.config.limits)).push(chunk);
    if (result.type === 'incomplete') return;
    this.parser = undefined;
    if (result.type === 'invalid') {
      this.refuse(result.status, result.reason);
      return;
    }
    this.verdict(validateUpgradeRequest(result.startLine, result.headers), result.trailing);
  }

  /** @internal The client hung up before its request was complete: nothing to answer. */
  protected headEnded(): void {}

  /** @internal */
  protected override checkEarlyData(size: number): void {
    if (size > this.config.maxEarlyDataSize) {
      this.refuse(
        400,
        `more than ${this.config.maxEarlyDataSize} bytes sent before the handshake completed`,
        HandshakeFailure.EarlyDataTooLarge,
      );
    }
  }

  /** @internal */
  protected override accept(command: AcceptCommand): void {
    const request = this.request as UpgradeRequestEvent;
    const protocol = command.protocol ?? null;
    if (protocol !== null && !request.protocols.includes(protocol)) {
      throw new UsageError('ERR_INVALID_ARGUMENT', `subprotocol ${JSON.stringify(protocol)} was not offered`);
    }
    const negotiation =
      this.config.supported.length === 0 || request.extensions.length === 0
        ? NO_NEGOTIATION
        : negotiateExtensions(request.extensions, this.config.supported);
    // Built before any state changes: it throws for a reserved or invalid extra field.
    if (this.overHttp2) {
      const headers = extendedConnectResponseFields(protocol, negotiation.response, command.headers);
      this.report({ type: 'response', status: 200, headers, body: NO_BYTES });
    } else {
      this.out.pushBuffer(switchingProtocolsResponse(request.key, protocol, negotiation.response, command.headers));
    }
    this.request = undefined;
    this.opened('accept', protocol, negotiation.negotiated, request.headers, NO_BYTES);
  }

  /** @internal */
  protected override reject(command: RejectCommand): void {
    if (this.overHttp2) this.refused('reject', { type: 'response', ...extendedConnectErrorResponse(command) }, null);
    else this.refused('reject', null, errorResponse(command));
    this.request = undefined;
  }

  private verdict(verdict: UpgradeRequestVerdict, trailing: Uint8Array): void {
    if (!verdict.ok) {
      this.refuse(verdict.status, verdict.reason);
      return;
    }
    this.request = verdict.request;
    // Held by the frame decoder until the decision; checked there for bytes that come later.
    this.requested(verdict.request, trailing);
  }

  private refuse(status: 400 | 426 | 431, reason: string, failure = failureOf(status)): void {
    const event = this.handshakeError(failure, reason, status, this.request?.headers ?? null);
    this.request = undefined;
    if (!this.overHttp2) {
      this.refused('refuse', event, refusalResponse(status, reason));
      return;
    }
    this.refused('refuse', event, null);
    this.report({
      type: 'response',
      status,
      headers: [['content-type', 'text/plain; charset=utf-8']],
      body: new TextEncoder().encode(`${reason}\n`),
    });
  }
}

function failureOf(status: 400 | 426 | 431): HandshakeFailure {
  return status === 426
    ? HandshakeFailure.UnsupportedVersion
    : status === 431
      ? HandshakeFailure.RequestTooLarge
      : HandshakeFailure.BadRequest;
}

interface ServerConfig {
  readonly limits: HeadLimits;
  readonly maxEarlyDataSize: number;
  readonly supported: readonly Extension[];
}

const configs = new WeakMap<ServerEndpointOptions<TextAs>, ServerConfig>();
const NO_NEGOTIATION = { response: [], negotiated: [] } as const;

/** The options as read once (validated, defaults applied); cached per options object. */
function configFor(options: ServerEndpointOptions<TextAs>): ServerConfig {
  let config = configs.get(options);
  if (config === undefined) {
    config = {
      limits: {
        maxHeadSize: limitOption(options.maxHeadSize, DEFAULT_HEAD_LIMITS.maxHeadSize, 'maxHeadSize'),
        maxHeaderCount: limitOption(options.maxHeaderCount, DEFAULT_HEAD_LIMITS.maxHeaderCount, 'maxHeaderCount'),
        maxStartLineLength: limitOption(
          options.maxStartLineLength,
          DEFAULT_HEAD_LIMITS.maxStartLineLength,
          'maxStartLineLength',
        ),
      },
      maxEarlyDataSize: limitOption(options.maxEarlyDataSize, DEFAULT_MAX_EARLY_DATA, 'maxEarlyDataSize'),
      supported: options.extensions ?? [],
    };
    configs.set(options, config);
  }
  return config;
}
