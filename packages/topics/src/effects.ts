/**
 * What the topics core asks its embedder to do. The core performs no I/O:
 * every send to a subscriber and every broker request is one of these.
 * Effects must be carried out in the order `takeEffects()` returns them,
 * because a subscriber's `subscribed` reply must precede its deliveries.
 */
import type { Publication } from './identity.js';

/**
 * One live publication for every listed subscriber. The list is the whole
 * audience on this process, so the envelope can be encoded once and the same
 * frames written to each subscriber.
 */
export interface DeliverEffect<S> {
  readonly type: 'deliver';
  readonly topic: string;
  readonly epoch: string;
  readonly publication: Publication;
  readonly subscribers: readonly S[];
}

/**
 * The answer to a subscribe, or a notice that a live subscription's stream
 * broke. `offset` is the subscriber's position once it has applied
 * `publications`; deliveries continue at `offset + 1`.
 *
 * `recovered: true` promises that `publications` continue the `since`
 * position without a gap. `recovered: false` promises nothing about what came
 * before `offset` (no `since` was given, history was trimmed, the epoch
 * changed, or the broker lost a range): the subscriber should reload its state
 * from its source of truth. `publications` is then empty.
 */
export interface SubscribedEffect<S> {
  readonly type: 'subscribed';
  readonly subscriber: S;
  readonly topic: string;
  readonly recovered: boolean;
  readonly epoch: string;
  readonly offset: number;
  readonly publications: readonly Publication[];
}

/** Subscribe this process to the topic's broker channel; call `brokerSubscribed` once it is active. */
export interface BrokerSubscribeEffect {
  readonly type: 'broker-subscribe';
  readonly topic: string;
}

/** The last subscriber left: unsubscribe from the topic's broker channel. */
export interface BrokerUnsubscribeEffect {
  readonly type: 'broker-unsubscribe';
  readonly topic: string;
}

/**
 * Read the topic's history: its current epoch and latest offset and, unless
 * `after` is null, the stored publications with offsets above `after`,
 * ascending, at most `limit` of them. Answer with `historyResult(id, ...)` or
 * `historyFailed(id)`, exactly once, even if the topic was unsubscribed since.
 * Answers may come in any order: only the newest fetch of a topic or of a
 * subscriber is used, older answers are dropped.
 */
export interface FetchEffect {
  readonly type: 'fetch';
  readonly id: number;
  readonly topic: string;
  readonly after: number | null;
  readonly limit: number;
}

export type TopicsEffect<S> =
  | DeliverEffect<S>
  | SubscribedEffect<S>
  | BrokerSubscribeEffect
  | BrokerUnsubscribeEffect
  | FetchEffect;

/** A broker's answer to a {@link FetchEffect}. */
export interface HistoryResult {
  /** The topic's epoch at the time of the read. */
  readonly epoch: string;
  /** The highest offset minted in that epoch, stored or already trimmed; 0 for none. */
  readonly latest: number;
  /** Stored publications above the fetch's `after`, ascending; empty when `after` was null. */
  readonly publications: readonly Publication[];
}
