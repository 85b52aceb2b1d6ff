/**
 * Topics inside one process, with no broker: a `TopicsCore` and an in-memory
 * history per topic. It gives a single-process server the same API and the
 * same promises as `RedisTopics` from `@rfc6455/topics-redis` (offsets,
 * recovery with `since`, idempotent publish), so the server layer can take
 * either. Its epoch is drawn when it is created: after a process restart every
 * `since` is answered with `recovered: false`, as history is gone.
 */
import type { DeliverEffect, HistoryResult, SubscribedEffect, TopicsEffect } from './effects.js';
import { TopicsUsageError } from './errors.js';
import { assertTopic, DEFAULT_MAX_TOPIC_BYTES, type Publication, type StreamPosition } from './identity.js';
import { TopicsCore, type TopicsCoreOptions } from './topics-core.js';
import type { PublishOptions, PublishResult, TopicsHub, TopicsHubHandlers } from './topics-hub.js';

export interface MemoryTopicsOptions<S> extends TopicsHubHandlers<S> {
  /** Publications kept per topic for recovery. Default 1 000. */
  readonly maxLength?: number;
  /** How long a publication is kept for recovery, in ms; 0 keeps it until `maxLength` pushes it out. Default 0. */
  readonly maxAgeMs?: number;
  /** How long an idempotency key is remembered, in ms. Default 5 minutes. */
  readonly idempotencyTtlMs?: number;
  /** Milliseconds, for `maxAgeMs` and `idempotencyTtlMs`. Default `Date.now`. */
  readonly clock?: () => number;
  /** This process's epoch, 1–64 of [0-9A-Za-z_-]. Default: drawn at random. */
  readonly epoch?: string;
  readonly core?: TopicsCoreOptions;
}

interface StoredPublication extends Publication {
  readonly time: number;
}

interface TopicHistory {
  latest: number;
  /** Stored publications are `entries[start..]`: dropping from the front moves `start`, not the array. */
  entries: StoredPublication[];
  start: number;
  /** Idempotency key → offset and expiry, in insertion order, which is expiry order. */
  readonly keys: Map<string, { readonly offset: number; readonly expires: number }>;
}

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < min) {
    throw new TopicsUsageError('ERR_INVALID_ARGUMENT', `${name} must be an integer >= ${min}, got ${result}`);
  }
  return result;
}

function randomEpoch(): string {
  let epoch = '';
  while (epoch.length < 16) epoch += Math.floor(Math.random() * 36).toString(36);
  return epoch;
}

export class MemoryTopics<S> implements TopicsHub<S> {
  readonly core: TopicsCore<S>;
  readonly epoch: string;
  private readonly histories = new Map<string, TopicHistory>();
  private readonly maxLength: number;
  private readonly maxAgeMs: number;
  private readonly idempotencyTtlMs: number;
  private readonly maxTopicBytes: number;
  private readonly clock: () => number;
  private readonly onDeliver: (effect: DeliverEffect<S>) => void;
  private readonly onSubscribed: (effect: SubscribedEffect<S>) => void;
  private pumping = false;
  private closed = false;

  constructor(options: MemoryTopicsOptions<S>) {
    this.core = new TopicsCore<S>(options.core);
    this.maxLength = count('maxLength', options.maxLength, 1_000, 1);
    this.maxAgeMs = count('maxAgeMs', options.maxAgeMs, 0, 0);
    this.idempotencyTtlMs = count('idempotencyTtlMs', options.idempotencyTtlMs, 300_000, 1);
    this.maxTopicBytes = options.core?.maxTopicBytes ?? DEFAULT_MAX_TOPIC_BYTES;
    this.clock = options.clock ?? Date.now;
    this.epoch = options.epoch ?? randomEpoch();
    if (!/^[0-9A-Za-z_-]{1,64}$/.test(this.epoch)) {
      throw new TopicsUsageError('ERR_INVALID_EPOCH', 'an epoch must be 1-64 characters of [0-9A-Za-z_-]');
    }
    this.onDeliver = options.onDeliver;
    this.onSubscribed = options.onSubscribed;
  }

  /** See `TopicsCore.subscribe`; the answer comes to `onSubscribed`, synchronously. */
  subscribe(subscriber: S, topic: string, since?: StreamPosition): void {
    this.assertOpen();
    this.core.subscribe(subscriber, topic, since);
    this.pump();
  }

  unsubscribe(subscriber: S, topic: string): void {
    this.core.unsubscribe(subscriber, topic);
    this.pump();
  }

  disconnect(subscriber: S): void {
    this.core.disconnect(subscriber);
    this.pump();
  }

  /** Publishes `data` on `topic`; its subscribers get it before this returns. */
  publish(topic: string, data: Uint8Array, options: PublishOptions = {}): PublishResult {
    this.assertOpen();
    assertTopic(topic, this.maxTopicBytes);
    if (!(data instanceof Uint8Array)) throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'data must be a Uint8Array');
    const key = options.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 256)) {
      throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'an idempotency key must be 1-256 characters');
    }
    const now = this.clock();
    let history = this.histories.get(topic);
    if (history === undefined) {
      history = { latest: 0, entries: [], start: 0, keys: new Map() };
      this.histories.set(topic, history);
    }
    for (const [seen, entry] of history.keys) {
      if (entry.expires > now) break;
      history.keys.delete(seen);
    }
    const seen = key === undefined ? undefined : history.keys.get(key);
    if (seen !== undefined) return { epoch: this.epoch, offset: seen.offset, duplicate: true };
    const publication: StoredPublication = { offset: ++history.latest, data, time: now };
    history.entries.push(publication);
    if (key !== undefined) history.keys.set(key, { offset: publication.offset, expires: now + this.idempotencyTtlMs });
    this.trim(history, now);
    this.core.brokerPublication(topic, this.epoch, publication);
    this.pump();
    return { epoch: this.epoch, offset: publication.offset, duplicate: false };
  }

  /** The topic's epoch, latest offset and up to `limit` kept publications after `after` (null: none). */
  history(topic: string, after: number | null, limit: number): HistoryResult {
    const history = this.histories.get(topic);
    if (history === undefined || after === null) {
      return { epoch: this.epoch, latest: history?.latest ?? 0, publications: [] };
    }
    this.trim(history, this.clock());
    // Offsets are contiguous from the first kept entry, so `after` maps to an index.
    const first = history.entries[history.start]?.offset ?? history.latest + 1;
    const from = history.start + Math.max(0, after + 1 - first);
    const publications = history.entries
      .slice(from, from + limit)
      .map(({ offset, data }): Publication => ({ offset, data }));
    return { epoch: this.epoch, latest: history.latest, publications };
  }

  /** Stops: no more callbacks. */
  close(): void {
    this.closed = true;
  }

  private trim(history: TopicHistory, now: number): void {
    const cutoff = this.maxAgeMs > 0 ? now - this.maxAgeMs : -Infinity;
    while (history.entries.length - history.start > this.maxLength) history.start++;
    while (history.start < history.entries.length && history.entries[history.start]!.time < cutoff) history.start++;
    if (history.start > 64 && history.start * 2 > history.entries.length) {
      history.entries = history.entries.slice(history.start);
      history.start = 0;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new TopicsUsageError('ERR_INVALID_STATE', 'this MemoryTopics is closed');
  }

  /**
   * Carries out the core's effects; broker requests are answered at once. Not
   * re-entrant. A callback that throws does not cost the effects after it (they
   * are already taken from the core): the first error is thrown once all ran.
   */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    let failure: { error: unknown } | undefined;
    try {
      for (let effects = this.core.takeEffects(); effects.length > 0; effects = this.core.takeEffects()) {
        for (const effect of effects) {
          if (this.closed) return;
          try {
            this.carryOut(effect);
          } catch (error) {
            failure ??= { error };
          }
        }
      }
    } finally {
      this.pumping = false;
    }
    if (failure !== undefined) throw failure.error;
  }

  private carryOut(effect: TopicsEffect<S>): void {
    switch (effect.type) {
      case 'deliver':
        this.onDeliver(effect);
        return;
      case 'subscribed':
        this.onSubscribed(effect);
        return;
      case 'broker-subscribe':
        this.core.brokerSubscribed(effect.topic);
        return;
      case 'fetch':
        this.core.historyResult(effect.id, this.history(effect.topic, effect.after, effect.limit));
        return;
      case 'broker-unsubscribe':
        return;
    }
  }
}
