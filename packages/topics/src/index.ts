export type {
  BrokerSubscribeEffect,
  BrokerUnsubscribeEffect,
  DeliverEffect,
  FetchEffect,
  HistoryResult,
  SubscribedEffect,
  TopicsEffect,
} from './effects.js';
export { TopicsUsageError, type TopicsUsageErrorCode } from './errors.js';
export {
  DEFAULT_MAX_TOPIC_BYTES,
  isValidEpoch,
  isValidOffset,
  isValidTopic,
  MAX_EPOCH_LENGTH,
  MAX_TOPIC_BYTES,
  type Publication,
  type StreamPosition,
  utf8Length,
} from './identity.js';
export { TopicsCore, type TopicsCoreOptions } from './topics-core.js';
export {
  ENVELOPE_HEADER_BYTES,
  EnvelopeFlag,
  EnvelopeKind,
  type MalformedEnvelope,
  type MalformedEnvelopeCode,
  type PublicationMessage,
  type SubscribedMessage,
  type SubscribeMessage,
  TOPICS_SUBPROTOCOL,
  type TopicsMessage,
  type UnsubscribedMessage,
  type UnsubscribeMessage,
} from './envelope.js';
export { type DecodeEnvelopeOptions, decodeTopicsMessage } from './envelope-decoder.js';
export { encodePublication, encodeTopicsMessage } from './envelope-encoder.js';
export { TopicsClientState, type TopicsClientEvent, UNSUBSCRIBED_BY_REQUEST } from './topics-client.js';
export { MemoryTopics, type MemoryTopicsOptions } from './memory-topics.js';
export type { PublishOptions, PublishResult, TopicsHub, TopicsHubHandlers } from './topics-hub.js';
