/**
 * The server's endpoint: reads the upgrade request (from raw HTTP/1.1 bytes,
 * or as another HTTP stack parsed it), reports it as a `request` event,
 * answers the application's `accept` (negotiating the configured extensions)
 * or `reject`, then runs the frame phase. The state table is in endpoint.ts.
 */
import { Endpoint, type FrameOptions } from './endpoint.js';
import { UsageError } from './errors.js';
import type { AcceptCommand, RejectCommand } from './events.js';
import { type Extension, negotiateExtensions } from './extension.js';
import { DEFAULT_HEAD_LIMITS, type HttpHeadParser, type RequestLine, createRequestHeadParser, limitOption } from './http-head.js';
import {
  type ParsedRequest,
  type UpgradeRequestEvent,
  type UpgradeRequestVerdict,
  validateParsedRequest,
  validateUpgradeRequest,
} from './upgrade-request.js';
import { HandshakeFailure, errorResponse, refusalResponse, switchingProtocolsResponse } from './upgrade-response.js';

/** Limits on a message head, the same for a request and a response. */
export interface HeadOptions {
  /** Largest head in bytes, from its first byte through the empty line (default 16 KiB); beyond it → 431. */
  readonly maxHeadSize?: number;
  /** Most header field lines (default 100); beyond it → 431. */
  readonly maxHeaderCount?: number;
  /** Longest request or status line in bytes (default 8 KiB); beyond it → 400. */
  readonly maxStartLineLength?: number;
}

export interface ServerEndpointOptions extends FrameOptions, HeadOptions {
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

export class ServerEndpoint extends Endpoint {
  /** Dropped once the head is read, with the request after the decision: an open connection keeps neither. */
  private parser: HttpHeadParser<RequestLine> | undefined;
  private readonly supported: readonly Extension[];
  private readonly maxEarlyDataSize: number;
  private readonly maxHeaderCount: number;
  private request: UpgradeRequestEvent | undefined;

  constructor(options: ServerEndpointOptions = {}) {
    super('server', options);
    const limits = {
      maxHeadSize: limitOption(options.maxHeadSize, DEFAULT_HEAD_LIMITS.maxHeadSize, 'maxHeadSize'),
      maxHeaderCount: limitOption(options.maxHeaderCount, DEFAULT_HEAD_LIMITS.maxHeaderCount, 'maxHeaderCount'),
      maxStartLineLength: limitOption(options.maxStartLineLength, DEFAULT_HEAD_LIMITS.maxStartLineLength, 'maxStartLineLength'),
    };
    this.parser = createRequestHeadParser(limits);
    this.maxHeaderCount = limits.maxHeaderCount;
    this.maxEarlyDataSize = limitOption(options.maxEarlyDataSize, DEFAULT_MAX_EARLY_DATA, 'maxEarlyDataSize');
    this.supported = options.extensions ?? [];
  }

  /**
   * Starts from a request the host's HTTP stack already parsed (e.g. Node's
   * `upgrade` event). The same rules apply; its `request` event (or its
   * refusal) is ready in `nextEvent()`, and `trailing` is the frame phase's
   * first input (it is copied: a host may reuse its read buffer).
   */
  static fromParsedRequest(request: ParsedRequest, options: ServerEndpointOptions = {}): ServerEndpoint {
    const endpoint = new ServerEndpoint(options);
    endpoint.parser = undefined;
    const trailing = request.trailing === undefined || request.trailing.length === 0 ? NO_BYTES : request.trailing.slice();
    endpoint.verdict(validateParsedRequest(request, endpoint.maxHeaderCount), trailing);
    return endpoint;
  }

  /** @internal */
  protected receiveHead(chunk: Uint8Array): void {
    const result = (this.parser as HttpHeadParser<RequestLine>).push(chunk);
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
    if (size > this.maxEarlyDataSize) {
      const reason = `more than ${this.maxEarlyDataSize} bytes sent before the handshake completed`;
      this.refused('refuse', this.handshakeError(HandshakeFailure.EarlyDataTooLarge, reason, 400, this.request?.headers ?? null), refusalResponse(400, reason));
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
      this.supported.length === 0 || request.extensions.length === 0
        ? { response: [], negotiated: [] }
        : negotiateExtensions(request.extensions, this.supported);
    // Built before any state changes: it throws for a reserved or invalid extra field.
    const response = switchingProtocolsResponse(request.key, protocol, negotiation.response, command.headers);
    this.out.pushBuffer(response);
    this.request = undefined;
    this.opened('accept', protocol, negotiation.negotiated, request.headers, NO_BYTES);
  }

  /** @internal */
  protected override reject(command: RejectCommand): void {
    this.refused('reject', null, errorResponse(command));
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

  private refuse(status: 400 | 426 | 431, reason: string): void {
    const failure =
      status === 426 ? HandshakeFailure.UnsupportedVersion : status === 431 ? HandshakeFailure.RequestTooLarge : HandshakeFailure.BadRequest;
    this.refused('refuse', this.handshakeError(failure, reason, status, null), refusalResponse(status, reason));
  }
}
