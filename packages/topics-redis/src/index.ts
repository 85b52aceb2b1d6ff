export { DEFAULT_KEY_PREFIX, hashTag, type TopicKeys, topicKeys } from './key-layout.js';
