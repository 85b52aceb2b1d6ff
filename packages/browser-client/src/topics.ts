/**
 * @rfc6455/browser-client/topics — resumable topics over a WebSocket that
 * speaks `rfc6455.topics.v1`, usually a `ReconnectingWebSocket`.
 *
 * The client keeps, per topic, the last `{ epoch, offset }` it handed to the
 * application (`TopicsClientState` from `@rfc6455/topics`). Whenever the
 * socket (re)opens, to whichever server, it subscribes again since that
 * position, so the server, which shares history through its hub, sends what
 * was missed; no sticky sessions are needed. Duplicates are dropped, and a
 * publication that skips ahead makes it resubscribe rather than show a gap.
 * When the continuity cannot be kept (history trimmed, a new epoch after a
 * broker restart) the application gets a `resync` event: reload the state
 * from its source of truth, then carry on with the publications that follow.
 */
import {
  decodeTopicsMessage,
  encodeTopicsMessage,
  type StreamPosition,
  TOPICS_SUBPROTOCOL,
  TopicsClientState,
  type TopicsMessage,
} from '@rfc6455/topics';
import { TypedEventTarget } from './typed-event-target.js';

export { type StreamPosition, TOPICS_SUBPROTOCOL, TopicsUsageError } from '@rfc6455/topics';

/** What the client needs of a socket: a `WebSocket`, a `ReconnectingWebSocket`, or the browser's own. */
export interface TopicsSocket extends EventTarget {
  readonly readyState: number;
  /** The negotiated subprotocol: must be `rfc6455.topics.v1` once open. */
  readonly protocol: string;
  binaryType: 'blob' | 'arraybuffer';
  send(data: Uint8Array<ArrayBuffer>): void;
}

export interface TopicsClientOptions {
  /** Longest topic accepted from the server, in UTF-8 bytes. Default 1 024. */
  readonly maxTopicBytes?: number;
}

/** `publication`: the next publication of a topic, in order, exactly once. */
export class TopicPublicationEvent extends Event {
  readonly topic: string;
  readonly epoch: string;
  readonly offset: number;
  readonly data: Uint8Array;
  constructor(topic: string, epoch: string, offset: number, data: Uint8Array) {
    super('publication');
    this.topic = topic;
    this.epoch = epoch;
    this.offset = offset;
    this.data = data;
  }
  /** The payload as UTF-8 text. */
  text(): string {
    return new TextDecoder().decode(this.data);
  }
}

/**
 * `subscribed`: the server answered a subscribe (after every (re)connect).
 * `resync` (the same event, `recovered` false): nothing is known to continue
 * what the application held (a first subscribe without a position, history
 * trimmed, a new epoch): reload the topic's state from its source of truth;
 * publications continue at `offset + 1`.
 */
export class TopicSubscribedEvent extends Event {
  readonly topic: string;
  readonly recovered: boolean;
  readonly epoch: string;
  readonly offset: number;
  constructor(type: 'subscribed' | 'resync', topic: string, recovered: boolean, epoch: string, offset: number) {
    super(type);
    this.topic = topic;
    this.recovered = recovered;
    this.epoch = epoch;
    this.offset = offset;
  }
}

/** `unsubscribed`: the server ended or refused the subscription (e.g. 4403 not allowed); it is forgotten. */
export class TopicUnsubscribedEvent extends Event {
  readonly topic: string;
  readonly code: number;
  readonly reason: string;
  constructor(topic: string, code: number, reason: string) {
    super('unsubscribed');
    this.topic = topic;
    this.code = code;
    this.reason = reason;
  }
}

/** `error`: the server sent bytes that are not an envelope, or did not agree to the subprotocol. */
export class TopicsErrorEvent extends Event {
  readonly code: string;
  readonly reason: string;
  constructor(code: string, reason: string) {
    super('error');
    this.code = code;
    this.reason = reason;
  }
}

const OPEN = 1;

/** The class each `TopicsClient` event type is dispatched with. */
export interface TopicsClientEventMap {
  publication: TopicPublicationEvent;
  subscribed: TopicSubscribedEvent;
  resync: TopicSubscribedEvent;
  unsubscribed: TopicUnsubscribedEvent;
  error: TopicsErrorEvent;
}

/**
 * Events: `publication`, `subscribed`, `resync`, `unsubscribed`, `error`.
 * Text messages on the socket are left to the application.
 */
export class TopicsClient extends TypedEventTarget<TopicsClientEventMap, TopicsClient, 'functions and objects'> {
  private readonly state = new TopicsClientState();
  private readonly decodeOptions: { maxTopicBytes?: number };
  private attached = true;

  constructor(
    private readonly socket: TopicsSocket,
    options: TopicsClientOptions = {},
  ) {
    super();
    this.decodeOptions = options.maxTopicBytes !== undefined ? { maxTopicBytes: options.maxTopicBytes } : {};
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', this.onOpen);
    socket.addEventListener('message', this.onMessage);
    if (socket.readyState === OPEN) this.onOpen();
  }

  /**
   * Subscribes to `topic`, continuing after `since` when given (e.g. a
   * position saved with `positionOf` before a page reload), else after the
   * last publication this client saw. Sent now if the socket is open, else
   * when it opens. Throws `TopicsUsageError` for an ill-formed topic or position.
   */
  subscribe(topic: string, since?: StreamPosition): void {
    this.sendIfOpen(this.state.subscribe(topic, since));
  }

  unsubscribe(topic: string): void {
    this.sendIfOpen(this.state.unsubscribe(topic));
  }

  /** The last position handed to the application in `topic`: save it to resume later. */
  positionOf(topic: string): StreamPosition | undefined {
    return this.state.positionOf(topic);
  }

  /** The topics subscribed to. */
  get topics(): string[] {
    return this.state.wanted();
  }

  /** Stops listening to the socket (which stays open: it is the caller's). */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.socket.removeEventListener('open', this.onOpen);
    this.socket.removeEventListener('message', this.onMessage);
  }

  private sendIfOpen(message: TopicsMessage | undefined): void {
    // While closed, nothing is queued: every wanted topic is subscribed again on open.
    if (message !== undefined && this.attached && this.socket.readyState === OPEN && this.speaksTopics()) {
      this.socket.send(encodeTopicsMessage(message));
    }
  }

  private speaksTopics(): boolean {
    return this.socket.protocol === TOPICS_SUBPROTOCOL;
  }

  private readonly onOpen = (): void => {
    if (!this.speaksTopics()) {
      this.dispatchEvent(new TopicsErrorEvent('ERR_SUBPROTOCOL', `the server did not agree to ${TOPICS_SUBPROTOCOL}`));
      return;
    }
    for (const message of this.state.connected()) this.socket.send(encodeTopicsMessage(message));
  };

  private readonly onMessage = (event: Event): void => {
    const data = (event as MessageEvent).data;
    if (!(data instanceof ArrayBuffer) || !this.speaksTopics()) return;
    const message = decodeTopicsMessage(new Uint8Array(data), this.decodeOptions);
    if (message.type === 'malformed') {
      this.dispatchEvent(new TopicsErrorEvent(message.code, message.reason));
      return;
    }
    for (const out of this.state.receive(message)) {
      switch (out.type) {
        case 'send':
          this.sendIfOpen(out.message);
          break;
        case 'publication':
          this.dispatchEvent(new TopicPublicationEvent(out.topic, out.epoch, out.offset, out.data));
          break;
        case 'subscribed':
          this.dispatchEvent(new TopicSubscribedEvent('subscribed', out.topic, out.recovered, out.epoch, out.offset));
          if (!out.recovered) {
            this.dispatchEvent(new TopicSubscribedEvent('resync', out.topic, false, out.epoch, out.offset));
          }
          break;
        case 'unsubscribed':
          this.dispatchEvent(new TopicUnsubscribedEvent(out.topic, out.code, out.reason));
          break;
      }
    }
  };
}
