/**
 * Where a topic lives in Redis. Every key and the channel of one topic share
 * the hash tag `{<topic>}`, so on Redis Cluster they hash to one slot and one
 * Lua script may touch them all:
 *
 *   <prefix>{<topic>}:meta          hash: e = epoch, o = last offset minted
 *   <prefix>{<topic>}:stream        stream: entry ID `<offset>-0`, fields d = data, t = publish time (ms)
 *   <prefix>{<topic>}:idem:<key>    string `<epoch>:<offset>`, expires after the idempotency window
 *   <prefix>{<topic>}:pub           pub/sub channel: `<epoch>:<offset>:<data>`
 *
 * The topic inside the braces has `%`, `{` and `}` percent-encoded: Cluster
 * hashes what lies between the first `{` and the first `}` after it, so a
 * brace inside a topic would otherwise cut the tag short.
 */
import { TopicsUsageError } from '@rfc6455/topics';

export const DEFAULT_KEY_PREFIX = 'rfc6455:topics:';

/** The keys and channel of one topic. */
export interface TopicKeys {
  readonly meta: string;
  readonly stream: string;
  readonly channel: string;
  /** `idempotency(key)` is the key that remembers a publish made with that idempotency key. */
  idempotency(key: string): string;
}

export function assertKeyPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'a key prefix must be a string without { or }');
  }
}

/** The topic as it appears inside the hash tag. */
export function hashTag(topic: string): string {
  return `{${topic.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}}`;
}

export function topicKeys(prefix: string, topic: string): TopicKeys {
  const base = `${prefix}${hashTag(topic)}`;
  return {
    meta: `${base}:meta`,
    stream: `${base}:stream`,
    channel: `${base}:pub`,
    idempotency: (key) => `${base}:idem:${key}`,
  };
}
