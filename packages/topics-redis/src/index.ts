export { assertKeyPrefix, DEFAULT_KEY_PREFIX, hashTag, type TopicKeys, topicKeys } from './key-layout.js';
export { type LuaScript, PUBLISH_SCRIPT, READ_SCRIPT } from './lua-scripts.js';
export { connectNodeRedis, type NodeRedisConnectionOptions } from './node-redis-connection.js';
export type { PubSubState, TopicsRedisConnection } from './redis-connection.js';
export type { PublishOptions, PublishResult } from '@rfc6455/topics';
export { RedisTopics, type RedisTopicsOptions } from './redis-topics.js';
