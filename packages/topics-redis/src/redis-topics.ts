/**
 * Topics across processes on Redis: the I/O around a `TopicsCore`. Each
 * process runs one `RedisTopics`. Publishing is one Lua script (append to
 * the topic's stream, publish on its channel, remember the idempotency key);
 * every process subscribed to the topic hears it on pub/sub and hands it to
 * its own subscribers. What pub/sub loses (a dropped connection, a gap) is
 * read back from the stream; what the stream lost (trimmed, a new epoch) is
 * reported to the subscribers as `recovered: false`.
 *
 * The core decides; this class only carries out its effects and feeds back
 * Redis's answers. Deliveries and subscribe replies go to the two callbacks,
 * which the WebSocket layer turns into envelopes.
 */
import { randomBytes } from 'node:crypto';
import {
  type DeliverEffect,
  type HistoryResult,
  isValidOffset,
  isValidTopic,
  type Publication,
  type PublishOptions,
  type PublishResult,
  type StreamPosition,
  type SubscribedEffect,
  TopicsCore,
  type TopicsCoreOptions,
  type TopicsHub,
  type TopicsHubHandlers,
  TopicsUsageError,
} from '@rfc6455/topics';
import { assertKeyPrefix, DEFAULT_KEY_PREFIX, type TopicKeys, topicKeys } from './key-layout.js';
import { PUBLISH_SCRIPT, READ_SCRIPT } from './lua-scripts.js';
import type { TopicsRedisConnection } from './redis-connection.js';

export interface RedisTopicsOptions<S> extends TopicsHubHandlers<S> {
  /** The Redis connection; `close()` leaves it open for its owner to close. */
  readonly connection: TopicsRedisConnection;
  /** Prefix of every key and channel, without `{` or `}`. Default `rfc6455:topics:`. */
  readonly keyPrefix?: string;
  /** Most entries a topic's stream keeps (XADD MAXLEN). Default 10 000; 0 keeps any number. */
  readonly maxLength?: number;
  /**
   * How long an entry is kept, in ms (trimmed with XTRIM MINID); an idle
   * stream expires whole after it, while the epoch and offset carry on.
   * Default one day; 0 keeps entries until `maxLength` pushes them out.
   */
  readonly maxAgeMs?: number;
  /** How long a publish's idempotency key is remembered, in ms. Default 5 minutes. */
  readonly idempotencyTtlMs?: number;
  /** Expire a topic's epoch and offset after this many idle ms (a new epoch follows). Default 0: never. */
  readonly metaTtlMs?: number;
  /** Options of the core: history page size, buffer limits, topic length. */
  readonly core?: TopicsCoreOptions;
  /**
   * Redis failures the adapter retries on its own (reads, channel subscribes),
   * malformed broker messages, and errors thrown by `onDeliver`/`onSubscribed`.
   */
  readonly onError?: (error: Error) => void;
  /** Delay before retry `attempt` (1, 2, ...) of a failed read or subscribe. Default 50 ms doubling to 2 s. */
  readonly retryDelayMs?: (attempt: number) => number;
  /** The time stamped on entries for age retention, in ms. Default `Date.now`. */
  readonly clock?: () => number;
}

interface Channel {
  readonly keys: TopicKeys;
  /** Which broker-subscribe this is: an answer for an older one is stale. */
  readonly generation: number;
}

const COLON = 0x3a;
/**
 * How long the epoch of a topic that was read but never published on is kept
 * (reads start epochs too, and clients can name any topic). If it expires
 * under a subscriber, the next publish starts a new epoch and the subscriber
 * is told `recovered: false`, though nothing was lost.
 */
const IDLE_TOPIC_TTL_MS = 86_400_000;
const latin1 = new TextDecoder('latin1');

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < 0) {
    throw new TopicsUsageError('ERR_INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${result}`);
  }
  return result;
}

function asBytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

/** Reads the read script's reply: epoch, latest, then offset and data pairs. */
function parseHistory(reply: unknown): HistoryResult | undefined {
  if (!Array.isArray(reply) || reply.length < 2 || reply.length % 2 !== 0) return undefined;
  const epoch = asBytes(reply[0]);
  const latest = reply[1];
  if (epoch === undefined || !isValidOffset(latest)) return undefined;
  const publications: Publication[] = [];
  for (let i = 2; i < reply.length; i += 2) {
    const offset = reply[i];
    const data = asBytes(reply[i + 1]) ?? (reply[i + 1] === '' ? new Uint8Array(0) : undefined);
    if (!isValidOffset(offset) || data === undefined) return undefined;
    publications.push({ offset, data });
  }
  return { epoch: latin1.decode(epoch), latest, publications };
}

/** Reads a pub/sub message, `<epoch>:<offset>:<data>`, without copying the data. */
function parseMessage(message: Uint8Array): { epoch: string; publication: Publication } | undefined {
  const first = message.indexOf(COLON);
  const second = first < 0 ? -1 : message.indexOf(COLON, first + 1);
  if (second < 0) return undefined;
  const digits = latin1.decode(message.subarray(first + 1, second));
  const offset = /^[0-9]{1,16}$/.test(digits) ? Number(digits) : Number.NaN;
  if (!isValidOffset(offset)) return undefined;
  return {
    epoch: latin1.decode(message.subarray(0, first)),
    publication: { offset, data: message.subarray(second + 1) },
  };
}

function newEpoch(): string {
  return randomBytes(12).toString('base64url');
}

export class RedisTopics<S> implements TopicsHub<S> {
  /** The state machine this adapter drives; read-only use (positions, subscriptions) is fine. */
  readonly core: TopicsCore<S>;
  private readonly connection: TopicsRedisConnection;
  private readonly prefix: string;
  private readonly maxLength: number;
  private readonly maxAgeMs: number;
  private readonly idempotencyTtlMs: number;
  private readonly metaTtlMs: number;
  private readonly maxTopicBytes: number | undefined;
  private readonly onDeliver: (effect: DeliverEffect<S>) => void;
  private readonly onSubscribed: (effect: SubscribedEffect<S>) => void;
  private readonly onError: (error: Error) => void;
  private readonly retryDelay: (attempt: number) => number;
  private readonly clock: () => number;
  private readonly channels = new Map<string, Channel>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  /** Reads failed in a row, per topic: the retry delay grows with it. */
  private readonly readFailures = new Map<string, number>();
  private generation = 0;
  private pumping = false;
  private closed = false;

  constructor(options: RedisTopicsOptions<S>) {
    this.connection = options.connection;
    this.prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    assertKeyPrefix(this.prefix);
    this.maxLength = nonNegative('maxLength', options.maxLength, 10_000);
    this.maxAgeMs = nonNegative('maxAgeMs', options.maxAgeMs, 86_400_000);
    this.idempotencyTtlMs = nonNegative('idempotencyTtlMs', options.idempotencyTtlMs, 300_000);
    if (this.idempotencyTtlMs === 0) throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'idempotencyTtlMs must be > 0');
    this.metaTtlMs = nonNegative('metaTtlMs', options.metaTtlMs, 0);
    this.core = new TopicsCore<S>(options.core);
    this.maxTopicBytes = options.core?.maxTopicBytes;
    this.onDeliver = options.onDeliver;
    this.onSubscribed = options.onSubscribed;
    this.onError = options.onError ?? (() => {});
    this.retryDelay = options.retryDelayMs ?? ((attempt) => Math.min(50 * 2 ** (attempt - 1), 2000));
    this.clock = options.clock ?? Date.now;
    this.connection.onPubSubState((state) => {
      if (state !== 'up' || this.closed) return;
      // Every channel is subscribed again: read what was published while it was down.
      this.core.brokerReconnected();
      this.pump();
    });
  }

  /** Subscribes `subscriber` on this process; the answer comes to `onSubscribed`. See `TopicsCore.subscribe`. */
  subscribe(subscriber: S, topic: string, since?: StreamPosition): void {
    this.assertOpen();
    this.core.subscribe(subscriber, topic, since);
    this.pump();
  }

  unsubscribe(subscriber: S, topic: string): void {
    this.core.unsubscribe(subscriber, topic);
    this.pump();
  }

  /** Removes `subscriber` from all its topics (its connection closed). */
  disconnect(subscriber: S): void {
    this.core.disconnect(subscriber);
    this.pump();
  }

  /**
   * Publishes `data` on `topic` to every process: appends it to the topic's
   * stream and publishes it in one atomic step. Resolves with its position.
   * A rejected publish may or may not have happened: retry it with the same
   * idempotency key to be sure it happens exactly once.
   */
  async publish(topic: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    this.assertOpen();
    this.assertTopic(topic);
    if (!(data instanceof Uint8Array)) throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'data must be a Uint8Array');
    const key = options.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 256)) {
      throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'an idempotency key must be 1-256 characters');
    }
    const keys = topicKeys(this.prefix, topic);
    const reply = await this.connection.runScript(
      PUBLISH_SCRIPT,
      [keys.meta, keys.stream, key === undefined ? keys.meta : keys.idempotency(key)],
      [
        data,
        newEpoch(),
        String(Math.floor(this.clock())),
        String(this.maxLength),
        String(this.maxAgeMs),
        String(this.idempotencyTtlMs),
        keys.channel,
        key === undefined ? '0' : '1',
        String(this.metaTtlMs),
      ],
    );
    if (!Array.isArray(reply) || reply.length !== 3) throw new Error('the publish script gave an unexpected reply');
    const epoch = asBytes(reply[0]);
    const offset = reply[1];
    if (epoch === undefined || !isValidOffset(offset)) throw new Error('the publish script gave an unexpected reply');
    return { epoch: latin1.decode(epoch), offset, duplicate: reply[2] === 1 };
  }

  /** Reads a topic's epoch, latest offset and up to `limit` stored publications after `after` (null: none). */
  async history(topic: string, after: number | null, limit: number): Promise<HistoryResult> {
    this.assertOpen();
    this.assertTopic(topic);
    if (after !== null && !isValidOffset(after)) throw new TopicsUsageError('ERR_INVALID_OFFSET', 'after: bad offset');
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TopicsUsageError('ERR_INVALID_ARGUMENT', 'limit < 1');
    const keys = topicKeys(this.prefix, topic);
    const reply = await this.connection.runScript(
      READ_SCRIPT,
      [keys.meta, keys.stream],
      [
        after === null ? '' : String(after),
        String(limit),
        newEpoch(),
        String(Math.floor(this.clock())),
        String(this.maxAgeMs),
        String(this.metaTtlMs > 0 ? this.metaTtlMs : IDLE_TOPIC_TTL_MS),
      ],
    );
    const result = parseHistory(reply);
    if (result === undefined) throw new Error('the read script gave an unexpected reply');
    return result;
  }

  /** Stops: no more callbacks, retries or channel subscribes. The connection stays open for its owner. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const channel of this.channels.values()) this.connection.unsubscribe(channel.keys.channel).catch(() => {});
    this.channels.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new TopicsUsageError('ERR_INVALID_STATE', 'this RedisTopics is closed');
  }

  private assertTopic(topic: string): void {
    if (!isValidTopic(topic, this.maxTopicBytes)) {
      throw new TopicsUsageError(
        'ERR_INVALID_TOPIC',
        'a topic must be a non-empty, well-formed string within the limit',
      );
    }
  }

  /** Carries out the core's effects. Not re-entrant: effects a callback causes run after the current ones, in order. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      for (let effects = this.core.takeEffects(); effects.length > 0; effects = this.core.takeEffects()) {
        for (const effect of effects) {
          if (this.closed) return;
          switch (effect.type) {
            // A throwing callback must not cost the effects after it: they are already taken from the core.
            case 'deliver':
              try {
                this.onDeliver(effect);
              } catch (error) {
                this.onError(error instanceof Error ? error : new Error(String(error)));
              }
              break;
            case 'subscribed':
              try {
                this.onSubscribed(effect);
              } catch (error) {
                this.onError(error instanceof Error ? error : new Error(String(error)));
              }
              break;
            case 'broker-subscribe':
              this.subscribeChannel(effect.topic, 1);
              break;
            case 'broker-unsubscribe': {
              const channel = this.channels.get(effect.topic);
              this.channels.delete(effect.topic);
              if (channel !== undefined) this.connection.unsubscribe(channel.keys.channel).catch(this.onError);
              break;
            }
            case 'fetch':
              this.read(effect.id, effect.topic, effect.after, effect.limit);
              break;
          }
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private subscribeChannel(topic: string, attempt: number): void {
    const channel: Channel = { keys: topicKeys(this.prefix, topic), generation: ++this.generation };
    this.channels.set(topic, channel);
    const current = () => !this.closed && this.channels.get(topic) === channel;
    this.connection
      .subscribe(channel.keys.channel, (message) => {
        if (!current()) return;
        const parsed = parseMessage(message);
        if (parsed === undefined) {
          this.onError(new Error(`a malformed message on ${channel.keys.channel}`));
          return;
        }
        this.core.brokerPublication(topic, parsed.epoch, parsed.publication);
        this.pump();
      })
      .then(
        () => {
          if (!current()) return;
          this.core.brokerSubscribed(topic);
          this.pump();
        },
        (error: Error) => {
          this.onError(error);
          this.later(attempt, () => {
            if (current()) this.subscribeChannel(topic, attempt + 1);
          });
        },
      );
  }

  private read(id: number, topic: string, after: number | null, limit: number): void {
    this.history(topic, after, limit).then(
      (result) => {
        if (this.closed) return;
        this.readFailures.delete(topic);
        this.core.historyResult(id, result);
        this.pump();
      },
      (error: Error) => {
        if (this.closed) return;
        this.onError(error);
        const attempt = (this.readFailures.get(topic) ?? 0) + 1;
        this.readFailures.set(topic, attempt);
        // The core makes the read again (as a new fetch) when told it failed: tell it after a pause.
        this.later(attempt, () => {
          this.core.historyFailed(id);
          this.pump();
        });
      },
    );
  }

  private later(attempt: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) run();
    }, this.retryDelay(attempt));
    this.timers.add(timer);
  }
}
