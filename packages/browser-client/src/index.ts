/**
 * @rfc6455/browser-client — a WebSocket client on web standards only
 * (streams, EventTarget, TextEncoder, crypto), running the codec over any
 * duplex byte stream. This entry has no runtime-specific imports; the
 * `/node`, `/deno` and `/bun` entries add a socket dialer as default transport.
 */
export { HandshakeError, type HandshakeErrorCode, WebSocketError } from './errors.js';
export {
  CloseEvent,
  type CloseEventInit,
  MessageEvent,
  type MessageEventInit,
  type WebSocketCloseEvent,
  WebSocketErrorEvent,
  type WebSocketMessageData,
} from './events.js';
export { createByteStreamPair } from './memory.js';
export {
  backoffDelay,
  ReconnectEvent,
  type ReconnectOptions,
  ReconnectingWebSocket,
  type ReconnectingWebSocketOptions,
} from './reconnecting.js';
export { ProtocolError } from './protocol-error.js';
export type { ClientOptions } from './session.js';
export type {
  ByteStream,
  Dialed,
  DialInit,
  ExtendedConnectDialer,
  ExtendedConnectStream,
  HttpVersionInfo,
  Transport,
} from './transport.js';
export { type TunnelOptions, webSocketTunnel } from './tunnel.js';
export { type BinaryType, WebSocket, type WebSocketData, type WebSocketOptions } from './websocket.js';
export {
  type WebSocketCloseInfo,
  type WebSocketMessagePart,
  WebSocketStream,
  type WebSocketStreamChunk,
  type WebSocketStreamOpenInfo,
  type WebSocketStreamOptions,
} from './websocket-stream.js';
