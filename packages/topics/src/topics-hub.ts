/**
 * What a server's topic layer needs from a topics backend, whether it runs in
 * one process (`MemoryTopics`) or across processes (`RedisTopics` in
 * `@rfc6455/topics-redis`). Both take `onDeliver` and `onSubscribed`
 * callbacks when they are made; a server layer can take a factory of hubs and
 * pass its own.
 */
import type { DeliverEffect, SubscribedEffect } from './effects.js';
import type { StreamPosition } from './identity.js';

export interface PublishOptions {
  /**
   * Makes the publish safe to retry: within the backend's idempotency window,
   * a publish with the same key on the same topic returns the first one's
   * offset and publishes nothing. 1–256 characters.
   */
  readonly idempotencyKey?: string;
}

export interface PublishResult {
  readonly epoch: string;
  readonly offset: number;
  /** True when the idempotency key was seen before and nothing new was published. */
  readonly duplicate: boolean;
}

/** Where a hub sends what its subscribers are to receive. */
export interface TopicsHubHandlers<S> {
  /** One publication for all the listed subscribers: encode it once. */
  readonly onDeliver: (effect: DeliverEffect<S>) => void;
  /** A subscribe's answer, or `recovered: false` when a live subscription's stream broke. */
  readonly onSubscribed: (effect: SubscribedEffect<S>) => void;
}

export interface TopicsHub<S> {
  subscribe(subscriber: S, topic: string, since?: StreamPosition): void;
  unsubscribe(subscriber: S, topic: string): void;
  /** The subscriber's connection closed: it leaves every topic. */
  disconnect(subscriber: S): void;
  publish(topic: string, data: Uint8Array, options?: PublishOptions): PublishResult | Promise<PublishResult>;
  /** No more callbacks after this. */
  close(): void;
}
