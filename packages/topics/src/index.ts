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
