/**
 * The topics core: one process's view of its subscribers and of the broker's
 * topic streams, as a sans-I/O state machine. Inputs are method calls (a
 * subscriber came or went, the broker delivered a publication, a history read
 * came back); outputs are effects taken with `takeEffects()`.
 *
 * Two positions are kept apart:
 * - the process's position in each topic (`epoch`, `position`): the highest
 *   offset it has seen without a gap. It advances only contiguously; a live
 *   publication past a gap waits in `pending` while history fills the gap.
 * - each subscriber's position (`last`). A live subscriber receives offset
 *   `last + 1` and nothing else; anything at or below `last` is a duplicate
 *   and is dropped.
 *
 * A subscribe with `since` recovers in the Centrifugo way: live publications
 * are buffered for the subscriber while history after `since` is read; the two
 * are merged by offset; the subscriber goes live only when the merged run
 * reaches the process's position with no gap. If it cannot (history trimmed,
 * epoch changed, `since` unknown), the reply says `recovered: false` and the
 * subscriber restarts from the process's position, or from the end of what its
 * read saw when the process is behind that. A read that saw another epoch than
 * the process holds is not answered until a topic read made after it says
 * which epoch is current, so one loss is announced once. Nothing is ever
 * skipped silently: every jump in a subscriber's offsets follows a `subscribed`
 * effect with `recovered: false`.
 */
import type { FetchEffect, HistoryResult, TopicsEffect } from './effects.js';
import { TopicsUsageError } from './errors.js';
import {
  assertEpoch,
  assertOffset,
  assertTopic,
  DEFAULT_MAX_TOPIC_BYTES,
  isValidEpoch,
  isValidOffset,
  MAX_TOPIC_BYTES,
  type Publication,
  type StreamPosition,
} from './identity.js';

export interface TopicsCoreOptions {
  /** Most publications one history read may return. Default 100. */
  readonly fetchLimit?: number;
  /**
   * Most live publications one topic holds past a gap while history fills it.
   * Beyond that they are dropped and read from history instead. Default 10 000.
   */
  readonly maxPendingPublications?: number;
  /**
   * Most live publications buffered ahead of a recovering subscriber's
   * position. Beyond that they are read from history instead. Default 1 000.
   */
  readonly maxBufferedPerSubscriber?: number;
  /** Longest topic, in UTF-8 bytes. Default 1024; at most 65 535. */
  readonly maxTopicBytes?: number;
}

interface PendingPublication {
  readonly epoch: string;
  readonly publication: Publication;
  /** When it arrived, on the core's input clock (see `arrivals`). */
  readonly arrival: number;
}

interface TopicFetch {
  readonly id: number;
  readonly after: number | null;
  /** The input clock when the fetch was made: publications that arrived before it are covered by its read. */
  readonly issuedAt: number;
  /** How many reads had been answered when it was made: it reads the broker as it was after all of them. */
  readonly answersBefore: number;
}

interface LiveSubscriber {
  readonly phase: 'live';
  readonly epoch: string;
  last: number;
}

interface RecoveringSubscriber {
  readonly phase: 'recovering';
  /** False once recovery is known to be impossible, or when no `since` was given. */
  recoverable: boolean;
  readonly epoch: string;
  last: number;
  readonly publications: Publication[];
  /** Live publications past `last + 1`, waiting for history to fill the gap before them. */
  readonly ahead: Map<number, Publication>;
  fetchId: number | undefined;
  /** What the subscriber's last history read saw of the topic. */
  read: SubscriberRead | undefined;
  /** The process's fetch this subscriber waits for, when its epoch and the process's disagree. */
  awaitingTopicFetch: number | undefined;
}

interface SubscriberRead {
  readonly epoch: string;
  readonly latest: number;
  /** When the answer came, on the answer clock (see `answers`). */
  readonly at: number;
}

type SubscriberState = LiveSubscriber | RecoveringSubscriber;

interface TopicState<S> {
  readonly name: string;
  /** True once the broker channel is known to be active. */
  brokerActive: boolean;
  /** Undefined until the first history read answers. */
  epoch: string | undefined;
  position: number;
  readonly pending: Map<number, PendingPublication>;
  fetch: TopicFetch | undefined;
  /** The foreign epoch the outstanding fetch was made to learn about. */
  resyncEpoch: string | undefined;
  readonly subscribers: Map<S, SubscriberState>;
}

type FetchOwner<S> =
  | { readonly kind: 'topic'; readonly topic: string; readonly after: number | null }
  | { readonly kind: 'subscriber'; readonly topic: string; readonly subscriber: S; readonly after: number };

function positiveInteger(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER) {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < 1 || result > max) {
    throw new TopicsUsageError('ERR_INVALID_ARGUMENT', `${name} must be an integer from 1 to ${max}, got ${result}`);
  }
  return result;
}

export class TopicsCore<S> {
  private readonly fetchLimit: number;
  private readonly maxPending: number;
  private readonly maxBuffered: number;
  private readonly maxTopicBytes: number;
  private readonly topics = new Map<string, TopicState<S>>();
  private readonly fetches = new Map<number, FetchOwner<S>>();
  private readonly bySubscriber = new Map<S, Set<string>>();
  private effects: TopicsEffect<S>[] = [];
  private nextFetchId = 1;
  /** Counts broker publications, to tell which arrived before a fetch was made. */
  private arrivals = 0;
  /** Counts history answers, to tell which topic fetches were made after a subscriber's read came back. */
  private answers = 0;

  constructor(options: TopicsCoreOptions = {}) {
    this.fetchLimit = positiveInteger('fetchLimit', options.fetchLimit, 100);
    this.maxPending = positiveInteger('maxPendingPublications', options.maxPendingPublications, 10_000);
    this.maxBuffered = positiveInteger('maxBufferedPerSubscriber', options.maxBufferedPerSubscriber, 1_000);
    this.maxTopicBytes = positiveInteger(
      'maxTopicBytes',
      options.maxTopicBytes,
      DEFAULT_MAX_TOPIC_BYTES,
      MAX_TOPIC_BYTES,
    );
  }

  /** The effects produced since the last call, in the order they must be carried out. */
  takeEffects(): TopicsEffect<S>[] {
    const taken = this.effects;
    this.effects = [];
    return taken;
  }

  /**
   * Subscribes `subscriber` to `topic`. With `since`, recovers what it missed
   * after that position; without, it starts at this process's position. A
   * subscriber already on the topic is resubscribed. The answer is a
   * `subscribed` effect, possibly after broker round trips.
   */
  subscribe(subscriber: S, topic: string, since?: StreamPosition): void {
    assertTopic(topic, this.maxTopicBytes);
    if (since !== undefined) {
      assertEpoch(since.epoch);
      assertOffset(since.offset);
    }
    let state = this.topics.get(topic);
    if (state === undefined) {
      state = {
        name: topic,
        brokerActive: false,
        epoch: undefined,
        position: 0,
        pending: new Map(),
        fetch: undefined,
        resyncEpoch: undefined,
        subscribers: new Map(),
      };
      this.topics.set(topic, state);
      this.effects.push({ type: 'broker-subscribe', topic });
    }
    let topics = this.bySubscriber.get(subscriber);
    if (topics === undefined) this.bySubscriber.set(subscriber, (topics = new Set()));
    topics.add(topic);
    const sub: RecoveringSubscriber = {
      phase: 'recovering',
      recoverable: since !== undefined,
      epoch: since?.epoch ?? '',
      last: since?.offset ?? 0,
      publications: [],
      ahead: new Map(),
      fetchId: undefined,
      read: undefined,
      awaitingTopicFetch: undefined,
    };
    // Replacing the entry drops any earlier state, so a late answer to its fetch is ignored.
    state.subscribers.set(subscriber, sub);
    if (sub.recoverable) this.fetchForSubscriber(state, subscriber, sub);
    else this.tryJoin(state, subscriber, sub);
  }

  /** Removes `subscriber` from `topic`; the last one out unsubscribes the broker channel. */
  unsubscribe(subscriber: S, topic: string): void {
    const state = this.topics.get(topic);
    if (state === undefined || !state.subscribers.delete(subscriber)) return;
    const topics = this.bySubscriber.get(subscriber);
    topics?.delete(topic);
    if (topics?.size === 0) this.bySubscriber.delete(subscriber);
    if (state.subscribers.size === 0) {
      this.topics.delete(topic);
      this.effects.push({ type: 'broker-unsubscribe', topic });
    }
  }

  /** Removes `subscriber` from every topic (its connection closed). */
  disconnect(subscriber: S): void {
    const topics = this.bySubscriber.get(subscriber);
    if (topics === undefined) return;
    for (const topic of [...topics]) this.unsubscribe(subscriber, topic);
  }

  /** The topics `subscriber` is on. */
  subscriptionsOf(subscriber: S): string[] {
    return [...(this.bySubscriber.get(subscriber) ?? [])];
  }

  /** This process's position in `topic`, once known. */
  positionOf(topic: string): StreamPosition | undefined {
    const state = this.topics.get(topic);
    return state?.epoch === undefined ? undefined : { epoch: state.epoch, offset: state.position };
  }

  /** The topic's broker channel is active: from now on its publications reach `brokerPublication`. */
  brokerSubscribed(topic: string): void {
    const state = this.topics.get(topic);
    if (state === undefined || state.brokerActive) return;
    state.brokerActive = true;
    // Read the position only now: a read made before the channel was live could miss what was published in between.
    this.fetchForTopic(state);
  }

  /**
   * The broker connection came back and every channel asked for is active
   * again. What was published while it was down is read from history, which
   * plain pub/sub would lose.
   */
  brokerReconnected(): void {
    for (const state of this.topics.values()) {
      state.brokerActive = true;
      this.fetchForTopic(state);
    }
  }

  /** A publication from the topic's broker channel. Publications for topics not subscribed are ignored. */
  brokerPublication(topic: string, epoch: string, publication: Publication): void {
    const state = this.topics.get(topic);
    if (state === undefined || !isValidEpoch(epoch) || !isValidOffset(publication.offset) || publication.offset === 0)
      return;
    const arrival = ++this.arrivals;
    if (state.epoch === undefined) {
      this.hold(state, epoch, publication, arrival);
      return;
    }
    if (epoch !== state.epoch) {
      // Another epoch: the topic's history was lost and restarted. Learn the new position from history.
      this.hold(state, epoch, publication, arrival);
      if (state.fetch === undefined || state.resyncEpoch !== epoch) {
        this.fetchForTopic(state);
        state.resyncEpoch = epoch;
      }
      return;
    }
    if (publication.offset <= state.position) return;
    if (publication.offset === state.position + 1) {
      this.advance(state, publication);
      this.drainPending(state);
      return;
    }
    // A gap: pub/sub lost something. Hold this one and read the gap from history.
    this.hold(state, epoch, publication, arrival);
    if (state.fetch === undefined) this.fetchForTopic(state);
  }

  /** The answer to a fetch effect. */
  historyResult(id: number, result: HistoryResult): void {
    const owner = this.fetches.get(id);
    if (owner === undefined) return;
    this.fetches.delete(id);
    this.answers++;
    const state = this.topics.get(owner.topic);
    if (state === undefined) return;
    // An answer that is not one is a failed read, not a reason to throw.
    if (!isValidEpoch(result.epoch) || !isValidOffset(result.latest) || !Array.isArray(result.publications)) {
      this.retry(state, id, owner);
    } else if (owner.kind === 'subscriber') {
      this.subscriberHistory(state, owner.subscriber, id, owner.after, result);
    } else this.topicHistory(state, id, owner.after, result);
  }

  /** A fetch could not be answered. It is made again at once: pace the retries by delaying this call. */
  historyFailed(id: number): void {
    const owner = this.fetches.get(id);
    if (owner === undefined) return;
    this.fetches.delete(id);
    const state = this.topics.get(owner.topic);
    if (state !== undefined) this.retry(state, id, owner);
  }

  private retry(state: TopicState<S>, id: number, owner: FetchOwner<S>): void {
    if (owner.kind === 'topic') {
      if (state.fetch?.id === id) this.fetchForTopic(state);
      return;
    }
    const sub = state.subscribers.get(owner.subscriber);
    if (sub?.phase === 'recovering' && sub.fetchId === id) this.fetchForSubscriber(state, owner.subscriber, sub);
  }

  private fetchForTopic(state: TopicState<S>): void {
    if (!state.brokerActive) return;
    const id = this.nextFetchId++;
    const after = state.epoch === undefined ? null : state.position;
    state.fetch = { id, after, issuedAt: this.arrivals, answersBefore: this.answers };
    state.resyncEpoch = undefined;
    this.fetches.set(id, { kind: 'topic', topic: state.name, after });
    this.effects.push(this.fetchEffect(id, state.name, after));
  }

  private fetchForSubscriber(state: TopicState<S>, subscriber: S, sub: RecoveringSubscriber): void {
    const id = this.nextFetchId++;
    sub.fetchId = id;
    this.fetches.set(id, { kind: 'subscriber', topic: state.name, subscriber, after: sub.last });
    this.effects.push(this.fetchEffect(id, state.name, sub.last));
  }

  private fetchEffect(id: number, topic: string, after: number | null): FetchEffect {
    return { type: 'fetch', id, topic, after, limit: this.fetchLimit };
  }

  private hold(state: TopicState<S>, epoch: string, publication: Publication, arrival: number): void {
    if (state.pending.size >= this.maxPending && !state.pending.has(publication.offset)) return;
    state.pending.set(publication.offset, { epoch, publication, arrival });
  }

  /** Moves the process's position to `publication.offset` (= position + 1) and hands it to its subscribers. */
  private advance(state: TopicState<S>, publication: Publication): void {
    const epoch = state.epoch!;
    state.position = publication.offset;
    const audience: S[] = [];
    for (const [subscriber, sub] of state.subscribers) {
      if (sub.phase === 'live') {
        if (sub.last === publication.offset - 1) {
          sub.last = publication.offset;
          audience.push(subscriber);
        } else if (sub.last < publication.offset - 1) {
          // Not reachable while live subscribers join at or past the position; never skip silently if it were.
          this.restart(state, subscriber);
        }
      } else this.offer(sub, epoch, publication);
    }
    if (audience.length > 0) {
      this.effects.push({ type: 'deliver', topic: state.name, epoch, publication, subscribers: audience });
    }
  }

  private drainPending(state: TopicState<S>): void {
    for (;;) {
      const next = state.pending.get(state.position + 1);
      if (next === undefined || next.epoch !== state.epoch) return;
      state.pending.delete(state.position + 1);
      this.advance(state, next.publication);
    }
  }

  /** A live publication seen while `sub` recovers: merged into its run, buffered, or a duplicate. */
  private offer(sub: RecoveringSubscriber, epoch: string, publication: Publication): void {
    if (!sub.recoverable || epoch !== sub.epoch || publication.offset <= sub.last) return;
    if (publication.offset === sub.last + 1) this.append(sub, publication);
    else if (sub.ahead.size < this.maxBuffered) sub.ahead.set(publication.offset, publication);
  }

  /** Extends the subscriber's run by `publication` (= last + 1), then by what was buffered after it. */
  private append(sub: RecoveringSubscriber, publication: Publication): void {
    sub.publications.push(publication);
    sub.last = publication.offset;
    for (;;) {
      const next = sub.ahead.get(sub.last + 1);
      if (next === undefined) break;
      sub.ahead.delete(next.offset);
      sub.publications.push(next);
      sub.last = next.offset;
    }
    for (const offset of sub.ahead.keys()) if (offset <= sub.last) sub.ahead.delete(offset);
  }

  private topicHistory(state: TopicState<S>, id: number, after: number | null, result: HistoryResult): void {
    // Only the newest fetch speaks for the topic: an older answer may predate what the newer one was made to learn.
    if (state.fetch?.id !== id) return;
    const issuedAt = state.fetch.issuedAt;
    state.fetch = undefined;
    state.resyncEpoch = undefined;
    if (state.epoch !== result.epoch) {
      const known = state.epoch !== undefined;
      state.epoch = result.epoch;
      state.position = result.latest;
      // Live subscribers were on the old epoch: they restart here, and are told so.
      if (known)
        for (const [subscriber, sub] of state.subscribers) if (sub.phase === 'live') this.restart(state, subscriber);
    } else if (after !== null) {
      let lastSeen = after;
      for (const publication of result.publications) {
        if (!isValidOffset(publication.offset) || publication.offset <= lastSeen) break;
        lastSeen = publication.offset;
        if (publication.offset > state.position + 1) this.drainPending(state);
        if (publication.offset <= state.position) continue;
        // Stored offsets are contiguous, so a jump means the entries before it were trimmed.
        if (publication.offset !== state.position + 1) this.skipTo(state, publication.offset - 1);
        this.advance(state, publication);
      }
      if (result.publications.length === 0 && result.latest > state.position && result.latest > after) {
        // Everything after `after` is gone from history.
        this.skipTo(state, result.latest);
      }
    }
    this.settle(state, issuedAt, result);
    for (const [subscriber, sub] of state.subscribers) {
      if (sub.phase === 'recovering' && sub.fetchId === undefined) this.tryJoin(state, subscriber, sub, id);
    }
  }

  /** History cannot fill the gap up to `offset`: live subscribers behind it restart there, and are told so. */
  private skipTo(state: TopicState<S>, offset: number): void {
    state.position = offset;
    for (const [subscriber, sub] of state.subscribers) {
      if (sub.phase === 'live' && sub.last < offset) this.restart(state, subscriber);
    }
  }

  /** After a topic fetch: drop what it covered, apply what continues, and fetch again if a gap remains. */
  private settle(state: TopicState<S>, issuedAt: number, result: HistoryResult): void {
    for (const [offset, held] of state.pending) {
      if (held.epoch === state.epoch ? offset <= state.position : held.arrival <= issuedAt) {
        // Covered by the read, or published before it in an epoch the read no longer saw.
        state.pending.delete(offset);
      }
    }
    this.drainPending(state);
    let foreign: string | undefined;
    let gap = false;
    for (const held of state.pending.values()) {
      if (held.epoch === state.epoch) gap = true;
      else foreign = held.epoch;
    }
    if (foreign !== undefined) {
      this.fetchForTopic(state);
      state.resyncEpoch = foreign;
    } else if (gap || state.position < result.latest) this.fetchForTopic(state);
  }

  private subscriberHistory(state: TopicState<S>, subscriber: S, id: number, after: number, result: HistoryResult) {
    const sub = state.subscribers.get(subscriber);
    if (sub?.phase !== 'recovering' || sub.fetchId !== id) return;
    sub.fetchId = undefined;
    sub.read = { epoch: result.epoch, latest: result.latest, at: this.answers };
    sub.awaitingTopicFetch = undefined;
    // A `since` past the end of its epoch's history, or in another epoch, cannot be continued.
    if (!sub.recoverable || result.epoch !== sub.epoch || result.latest < after) {
      this.fail(state, subscriber, sub);
      return;
    }
    let lastSeen = after;
    for (const publication of result.publications) {
      if (!isValidOffset(publication.offset) || publication.offset <= lastSeen) break;
      lastSeen = publication.offset;
      if (publication.offset <= sub.last) continue;
      // Neither history nor the live buffer has `last + 1`: it was trimmed.
      if (publication.offset !== sub.last + 1) {
        this.fail(state, subscriber, sub);
        return;
      }
      this.append(sub, publication);
    }
    if (sub.last < result.latest) {
      if (result.publications.length < this.fetchLimit) {
        // The read returned all it had and it did not reach `latest`: the rest was trimmed.
        this.fail(state, subscriber, sub);
        return;
      }
      // A page of a longer history: read on.
      this.fetchForSubscriber(state, subscriber, sub);
      return;
    }
    this.tryJoin(state, subscriber, sub);
  }

  private fail(state: TopicState<S>, subscriber: S, sub: RecoveringSubscriber): void {
    sub.recoverable = false;
    sub.publications.length = 0;
    sub.ahead.clear();
    this.tryJoin(state, subscriber, sub);
  }

  /**
   * Makes a recovering subscriber live once its run reaches the process's
   * position in the same epoch; otherwise reads more history or waits for the
   * process to learn its position. `answered` is the topic fetch just answered.
   */
  private tryJoin(state: TopicState<S>, subscriber: S, sub: RecoveringSubscriber, answered?: number): void {
    if (sub.fetchId !== undefined || state.epoch === undefined) return;
    const disagree =
      (sub.recoverable && sub.epoch !== state.epoch) || (sub.read !== undefined && sub.read.epoch !== state.epoch);
    if (disagree) {
      const settled =
        sub.awaitingTopicFetch !== undefined && answered !== undefined && answered >= sub.awaitingTopicFetch;
      if (!settled) {
        // The subscriber's read and the process disagree on the epoch, e.g. the process has yet to learn of a broker
        // restart. Answering now would name an epoch about to be left, and a second `recovered: false` would follow:
        // wait for a topic read made after the subscriber's, which tells which epoch is current.
        if (state.fetch === undefined || state.fetch.answersBefore < (sub.read?.at ?? 0)) this.fetchForTopic(state);
        sub.awaitingTopicFetch = state.fetch?.id;
        if (sub.awaitingTopicFetch !== undefined) return;
      }
      if (sub.recoverable && sub.epoch !== state.epoch) {
        sub.recoverable = false;
        sub.publications.length = 0;
        sub.ahead.clear();
      }
    }
    if (sub.recoverable && sub.last < state.position) {
      // The buffer and the history read together did not reach the position: read again.
      this.fetchForSubscriber(state, subscriber, sub);
      return;
    }
    const recovered = sub.recoverable;
    const epoch = recovered ? sub.epoch : state.epoch;
    let offset = recovered ? sub.last : state.position;
    if (!recovered && sub.read?.epoch === state.epoch && sub.read.latest > offset) {
      // The process is behind what the subscriber's read saw, maybe behind a trim it has yet to meet: starting the
      // subscriber there would tell it of that loss a second time. It waits at the read's end for the process to catch up.
      offset = sub.read.latest;
    }
    state.subscribers.set(subscriber, { phase: 'live', epoch, last: offset });
    this.effects.push({
      type: 'subscribed',
      subscriber,
      topic: state.name,
      recovered,
      epoch,
      offset,
      publications: recovered ? sub.publications : [],
    });
  }

  /** A live subscriber's stream broke: it restarts at the process's position with `recovered: false`. */
  private restart(state: TopicState<S>, subscriber: S): void {
    const epoch = state.epoch!;
    state.subscribers.set(subscriber, { phase: 'live', epoch, last: state.position });
    this.effects.push({
      type: 'subscribed',
      subscriber,
      topic: state.name,
      recovered: false,
      epoch,
      offset: state.position,
      publications: [],
    });
  }
}
