export {
  WebSocketServer,
  type AcceptDecision,
  type CloseOptions,
  type RejectDecision,
  type ServerOptions,
  type UpgradeDecision,
  type UpgradeHook,
  type UpgradeInfo,
  type WebSocketServerEvents,
} from './server.js';
export {
  CLOSED,
  CLOSING,
  OPEN,
  WebSocket,
  WebSocketProtocolError,
  type OverflowPolicy,
  type SendData,
  type SendOptions,
  type StreamSource,
  type WebSocketEvents,
} from './websocket.js';
export { CloseCode, UsageError } from '@rfc6455/codec';
export type { AttachableServer, Transport } from './transport.js';
export { zlibBackend, zlibBackendAvailable } from './zlib-backend.js';
export { nodeTextCodec } from './text-codec.js';
export type { TextAs, TextCodec } from '@rfc6455/codec';
