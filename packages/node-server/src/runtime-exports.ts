/** What the Bun and Deno entry points export besides their `WebSocketServer`. */
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
export type {
  AcceptDecision,
  CloseOptions,
  CoreOptions,
  RejectDecision,
  UpgradeDecision,
  UpgradeHook,
  UpgradeInfo,
  WebSocketServerEvents,
} from './server-core.js';
export { type Clock, systemClock, type TimerHandle } from './clock.js';
export { zlibBackend, zlibBackendAvailable } from './zlib-backend.js';
export { zlibThreadPoolBackend } from './zlib-thread-pool.js';
export { CloseCode, UsageError } from '@rfc6455/codec';
export type { TextAs, TextCodec } from '@rfc6455/codec';
export {
  type PublishOptions,
  type PublishResult,
  type StreamPosition,
  TOPICS_SUBPROTOCOL,
  type TopicsHub,
  type TopicsHubHandlers,
  TopicsUsageError,
} from '@rfc6455/topics';
