/**
 * The client side of `rfc6455.topics.v1`, sans-I/O: which topics the
 * application wants, the last position it holds in each, and what to send
 * when the connection (re)opens. A browser or Node client feeds it decoded
 * server messages and gets back events for the application and messages to
 * send; it opens no socket and keeps no timer.
 *
 * The server must answer every unsubscribe with `unsubscribed` (code
 * `UNSUBSCRIBED_BY_REQUEST`): until then, what arrives for the topic belongs
 * to the old subscription and is ignored, and a new subscribe waits.
 *
 * It is the last line of defence for the stream's promise: a publication at
 * or below the last offset is a duplicate and is dropped; one that skips
 * ahead, or comes in another epoch without a `subscribed` first, means
 * something was lost on the way, so the client resubscribes since its last
 * position instead of handing the application a gap.
 */
import type { SubscribeMessage, TopicsMessage, UnsubscribeMessage } from './envelope.js';
import { assertEpoch, assertOffset, assertTopic, type Publication, type StreamPosition } from './identity.js';

export type TopicsClientEvent =
  /** The server answered a subscribe: `recovered: false` means state before `offset` must be reloaded. */
  | {
      readonly type: 'subscribed';
      readonly topic: string;
      readonly recovered: boolean;
      readonly epoch: string;
      readonly offset: number;
    }
  /** The next publication of the topic, in order. */
  | {
      readonly type: 'publication';
      readonly topic: string;
      readonly epoch: string;
      readonly offset: number;
      readonly data: Uint8Array;
    }
  /** The server ended or refused the subscription; it is forgotten. */
  | { readonly type: 'unsubscribed'; readonly topic: string; readonly code: number; readonly reason: string }
  /** Send this message to the server. */
  | { readonly type: 'send'; readonly message: SubscribeMessage | UnsubscribeMessage };

interface Wanted {
  position: StreamPosition | undefined;
  /** A subscribe was sent on this connection and its `subscribed` has not come. */
  awaiting: boolean;
}

/** The `unsubscribed` code a server answers an unsubscribe with. */
export const UNSUBSCRIBED_BY_REQUEST = 0;

export class TopicsClientState {
  private readonly topics = new Map<string, Wanted>();
  /**
   * Topics unsubscribed on this connection whose `unsubscribed` answer has not
   * come: what arrives for them until then belongs to the old subscription.
   */
  private readonly leaving = new Set<string>();

  /**
   * The application wants `topic`, continuing after `since` when given (for
   * instance a position saved across page loads), else after what this state
   * last saw, else from now. Returns the message to send if connected, or
   * undefined when the topic is already wanted and there is nothing new to ask.
   */
  subscribe(topic: string, since?: StreamPosition): SubscribeMessage | undefined {
    assertTopic(topic);
    if (since !== undefined) {
      assertEpoch(since.epoch);
      assertOffset(since.offset);
    }
    let wanted = this.topics.get(topic);
    if (wanted !== undefined && since === undefined) return undefined;
    if (wanted === undefined) this.topics.set(topic, (wanted = { position: undefined, awaiting: false }));
    if (since !== undefined) wanted.position = since;
    wanted.awaiting = true;
    // Subscribing again right after leaving waits for the leave to be answered (see `receive`).
    return this.leaving.has(topic) ? undefined : this.subscribeMessage(topic, wanted);
  }

  /**
   * The application no longer wants `topic`. Returns the message to send if
   * connected, or undefined when it was not wanted.
   */
  unsubscribe(topic: string): UnsubscribeMessage | undefined {
    if (!this.topics.delete(topic)) return undefined;
    this.leaving.add(topic);
    return { type: 'unsubscribe', topic };
  }

  /** The connection (re)opened: the subscribes to send, each since the last position held. */
  connected(): SubscribeMessage[] {
    // A new connection carries nothing of the old one's subscriptions.
    this.leaving.clear();
    const messages: SubscribeMessage[] = [];
    for (const [topic, wanted] of this.topics) {
      wanted.awaiting = true;
      messages.push(this.subscribeMessage(topic, wanted));
    }
    return messages;
  }

  /** The last position held in `topic`: save it to resume after a reload. */
  positionOf(topic: string): StreamPosition | undefined {
    return this.topics.get(topic)?.position;
  }

  /** The topics the application wants. */
  wanted(): string[] {
    return [...this.topics.keys()];
  }

  /** Handles one decoded server message. Client-to-server messages are ignored. */
  receive(message: TopicsMessage): TopicsClientEvent[] {
    if (this.leaving.has(message.topic)) {
      if (message.type !== 'unsubscribed') return [];
      this.leaving.delete(message.topic);
      const again = this.topics.get(message.topic);
      return again === undefined ? [] : this.resubscribe(message.topic, again);
    }
    const wanted = this.topics.get(message.topic);
    if (wanted === undefined) return [];
    switch (message.type) {
      case 'subscribed': {
        // Every subscribed message is a fresh starting point, whether asked for or sent because the stream broke.
        const start = message.recovered ? wanted.position : undefined;
        if (message.recovered && !this.continues(start, message.epoch, message.publications, message.offset)) {
          // A recovery that does not continue what this client holds: ask again rather than show a gap.
          return this.resubscribe(message.topic, wanted);
        }
        wanted.awaiting = false;
        wanted.position = { epoch: message.epoch, offset: message.offset };
        const events: TopicsClientEvent[] = [
          {
            type: 'subscribed',
            topic: message.topic,
            recovered: message.recovered,
            epoch: message.epoch,
            offset: message.offset,
          },
        ];
        for (const publication of message.publications) {
          events.push({ type: 'publication', topic: message.topic, epoch: message.epoch, ...publication });
        }
        return events;
      }
      case 'publication': {
        const position = wanted.position;
        if (wanted.awaiting || position === undefined) return [];
        if (message.epoch === position.epoch && message.offset <= position.offset) return [];
        if (message.epoch !== position.epoch || message.offset !== position.offset + 1) {
          return this.resubscribe(message.topic, wanted);
        }
        wanted.position = { epoch: message.epoch, offset: message.offset };
        return [{ ...message }];
      }
      case 'unsubscribed':
        // Not asked for: the server ended the subscription.
        this.topics.delete(message.topic);
        return [{ type: 'unsubscribed', topic: message.topic, code: message.code, reason: message.reason }];
      default:
        return [];
    }
  }

  private continues(
    start: StreamPosition | undefined,
    epoch: string,
    publications: readonly Publication[],
    offset: number,
  ): boolean {
    if (start === undefined || start.epoch !== epoch) return false;
    let last = start.offset;
    for (const publication of publications) {
      if (publication.offset !== last + 1) return false;
      last = publication.offset;
    }
    return last === offset;
  }

  private resubscribe(topic: string, wanted: Wanted): TopicsClientEvent[] {
    wanted.awaiting = true;
    return [{ type: 'send', message: this.subscribeMessage(topic, wanted) }];
  }

  private subscribeMessage(topic: string, wanted: Wanted): SubscribeMessage {
    return wanted.position === undefined
      ? { type: 'subscribe', topic }
      : { type: 'subscribe', topic, since: wanted.position };
  }
}
