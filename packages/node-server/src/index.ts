export {
  WebSocketServer,
  type AcceptDecision,
  type CloseOptions,
  type CoreOptions,
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
  type SubscribeOptions,
  type WebSocketEvents,
} from './websocket.js';
export { CloseCode, UsageError } from '@rfc6455/codec';
export type { AttachableServer, Transport } from './transport.js';
export type { ByteStream, ByteStreamEvents } from './byte-stream.js';
export { type Clock, systemClock, type TimerHandle } from './clock.js';
export { zlibBackend, zlibBackendAvailable } from './zlib-backend.js';
export { zlibThreadPoolBackend } from './zlib-thread-pool.js';
export { nodeTextCodec } from './text-codec.js';
export type { TextAs, TextCodec } from '@rfc6455/codec';
export {
  type SubscribeAuthorizer,
  type TopicsHubFactory,
  UNSUBSCRIBED_NOT_ALLOWED,
  UNSUBSCRIBED_TOO_MANY_TOPICS,
} from './topics.js';
export {
  type PublishOptions,
  type PublishResult,
  type StreamPosition,
  TOPICS_SUBPROTOCOL,
  type TopicsHub,
  type TopicsHubHandlers,
  TopicsUsageError,
} from '@rfc6455/topics';
