// Public surface of the opening handshake (HTTP/1.1 Upgrade, RFC 6455 §4).

export {
  ClientHandshake,
  ClientHandshakeState,
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
  type RejectOptions,
  type RejectResult,
  type ServerHandshakeEvent,
  type ServerHandshakeOptions,
} from './handshake-server.js';



export { computeAcceptKey } from './accept-key.js';
export { HandshakeFailure } from './upgrade-response.js';
export type { ParsedRequest, UpgradeRequestEvent } from './upgrade-request.js';
export type { ExtensionElement } from './header-grammar.js';
