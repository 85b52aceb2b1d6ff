// Public surface of the opening handshake (HTTP/1.1 Upgrade, RFC 6455 §4).
export { computeAcceptKey, WEBSOCKET_GUID } from './accept-key.js';
export {
  ClientHandshake,
  ClientHandshakeState,
  HandshakeFailure,
  type ClientHandshakeEvent,
  type ClientHandshakeOptions,
  type HandshakeFailedEvent,
  type HandshakeOpenEvent,
  type UnexpectedResponseEvent,
} from './handshake-client.js';
export {
  ServerHandshake,
  ServerHandshakeState,
  type AcceptOptions,
  type AcceptResult,
  type BadRequestEvent,
  type ParsedRequest,
  type RejectOptions,
  type RejectResult,
  type ServerHandshakeEvent,
  type ServerHandshakeOptions,
  type UpgradeRequestEvent,
} from './handshake-server.js';
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
