/**
 * `@rfc6455/codec/http`: the HTTP layer of the opening handshake on its own —
 * incremental HTTP/1.1 head parsers, the upgrade request and response rules,
 * the fields of an RFC 8441 extended CONNECT on HTTP/2 and the checks of its
 * response, error responses, and URL normalisation — for hosts with an HTTP
 * stack of their own and for tools that check a handshake they observed.
 */
export { computeAcceptKey, WEBSOCKET_GUID } from './accept-key.js';
export { BodyReader, responseBodyFraming, type BodyFraming } from './http-body.js';
export {
  DEFAULT_HEAD_LIMITS,
  HttpHeadParser,
  HttpHeaders,
  createRequestHeadParser,
  createResponseHeadParser,
  type HeadLimits,
  type HeadParseResult,
  type RequestLine,
  type StatusLine,
} from './http-head.js';
export {
  extendedConnectRequestHeaders,
  readExtendedConnectResponse,
  validateExtendedConnectResponse,
  type ExtendedConnectHead,
  type ExtendedConnectOptions,
  type ExtendedConnectResponse,
} from './extended-connect.js';
export type { HeaderInit } from './http-write.js';
export {
  buildUpgradeRequest,
  toWebSocketUrl,
  validateExtendedConnect,
  validateParsedRequest,
  validateUpgradeRequest,
  type ExtendedConnectRequest,
  type ParsedRequest,
  type UpgradeRequest,
  type UpgradeRequestEvent,
  type UpgradeRequestOptions,
  type UpgradeRequestVerdict,
} from './upgrade-request.js';
export {
  HandshakeFailure,
  errorResponse,
  refusalResponse,
  switchingProtocolsResponse,
  validateUpgradeResponse,
  type ErrorResponseOptions,
  type UpgradeExpectation,
  type UpgradeResponseVerdict,
} from './upgrade-response.js';
