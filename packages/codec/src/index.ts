export { CloseCode, closeCodeName, isValidWireCloseCode } from './close-codes.js';
export { Endpoint, type EndpointState, type FrameOptions } from './endpoint.js';
export { ServerEndpoint, type HeadOptions, type ServerEndpointOptions } from './server-endpoint.js';
export { ClientEndpoint, type ClientEndpointOptions } from './client-endpoint.js';
export { DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';
export type { Role } from './role.js';
export { UsageError, type UsageErrorCode } from './errors.js';
export type {
  AcceptCommand,
  BinaryEvent,
  BinaryPartEvent,
  CloseEvent,
  ClosedEvent,
  Command,
  EndpointEvent,
  FrameCommand,
  FrameErrorEvent,
  FrameEvent,
  HandshakeErrorEvent,
  HandshakeEvent,
  OpenEvent,
  PingEvent,
  PongEvent,
  PreEncodedCommand,
  ProtocolErrorEvent,
  RejectCommand,
  RejectedEvent,
  ResponseEvent,
  TextAs,
  TextData,
  TextEvent,
  TextPartEvent,
} from './events.js';
export type { UpgradeRequestEvent, ParsedRequest } from './upgrade-request.js';
export { HandshakeFailure } from './upgrade-response.js';
export type { ExtendedConnectRequest } from './upgrade-request.js';
export type { ExtendedConnectResponse } from './extended-connect.js';
export type { MessageMode } from './message-assembler.js';
export { Opcode, opcodeName } from './opcode.js';
export { cryptoRandom, type RandomSource } from './random.js';
export { isValidUtf8, Utf8Validator, type TextCodec } from './utf8.js';
export { computeAcceptKey } from './accept-key.js';
export {
  isToken,
  parseExtensions,
  parseSubprotocols,
  serializeExtensions,
  serializeSubprotocols,
  type ExtensionElement,
  type ExtensionParam,
  type HeaderParseResult,
} from './header-grammar.js';
export { HttpHeaders } from './http-head.js';
export type { HeaderInit } from './http-write.js';
export {
  acceptExtensions,
  negotiateExtensions,
  offerExtensions,
  type ClientNegotiation,
  type Extension,
  type ExtensionFailure,
  type ExtensionSession,
  type MessageDecoder,
  type MessageEncoder,
  type NegotiatedExtension,
  type NegotiationResult,
  type ServerNegotiation,
  type SessionLimits,
} from './extension.js';
export {
  PERMESSAGE_DEFLATE,
  deflateOfferElement,
  deflateResponseElement,
  parseDeflateParams,
  permessageDeflate,
  perMessageDeflateAgreement,
  type DeflateOffer,
  type PerMessageDeflateAgreement,
  type PerMessageDeflateOptions,
  type PerMessageDeflateParams,
} from './permessage-deflate.js';
export {
  InflateStatus,
  pakoBackend,
  type CompressionBackend,
  type AsyncDeflater,
  type Deflater,
  type DeflaterOptions,
  type Inflater,
} from './deflate-backend.js';
