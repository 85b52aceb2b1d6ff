/**
 * The small interface the adapter needs from a Redis client library: run a
 * script, and subscribe one connection to channels with word of when that
 * connection went down and came back. `connectNodeRedis` implements it with
 * node-redis; a test can wrap it to inject faults, and another library can
 * stand in for it.
 */
import type { LuaScript } from './lua-scripts.js';

export type PubSubState = 'down' | 'up';

export interface TopicsRedisConnection {
  /**
   * Runs `script` with `keys` and `args` on the command connection. Bulk
   * strings in the reply come back as bytes (Uint8Array), integers as numbers,
   * arrays as arrays. Rejects when Redis does not answer or answers an error.
   */
  runScript(script: LuaScript, keys: readonly string[], args: readonly (string | Uint8Array)[]): Promise<unknown>;
  /** Subscribes the pub/sub connection to `channel`; resolves once Redis has confirmed it. */
  subscribe(channel: string, listener: (message: Uint8Array) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /**
   * Sets the one listener told when the pub/sub connection is lost (`down`)
   * and when it is back with every channel subscribed again (`up`): publications
   * between the two were lost to pub/sub and must be read from history.
   */
  onPubSubState(listener: (state: PubSubState) => void): void;
  /** Closes both connections. */
  close(): Promise<void>;
}
