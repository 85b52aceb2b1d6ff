export { CloseCode, closeCodeName, isValidWireCloseCode } from './close-codes.js';
export {
  Connection,
  ConnectionState,
  DEFAULT_MAX_MESSAGE_SIZE,
  type ConnectionOptions,
  type Role,
} from './connection.js';
export { UsageError, type UsageErrorCode } from './errors.js';
export type {
  BinaryEvent,
  BinaryPartEvent,
  CloseEvent,
  ClosedEvent,
  ConnectionEvent,
  PingEvent,
  PongEvent,
  ProtocolErrorEvent,
  SendCommand,
  TextEvent,
  TextPartEvent,
} from './events.js';
export { maskInto, unmaskInPlace } from './mask.js';
export type { MessageMode } from './message-assembler.js';
export { Opcode, opcodeName } from './opcode.js';
export { cryptoRandom, type RandomSource } from './random.js';
export { isValidUtf8, Utf8Validator } from './utf8.js';
export * from './handshake.js';
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
  type Deflater,
  type DeflaterOptions,
  type Inflater,
} from './deflate-backend.js';
