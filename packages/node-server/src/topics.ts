/**
 * The server's topics: `ws.subscribe`, `ws.unsubscribe` and `wss.publish` on
 * a `TopicsHub` (`MemoryTopics` in one process unless the application passes
 * a factory, e.g. of `RedisTopics`), and the `rfc6455.topics.v1` subprotocol
 * spoken for clients that negotiated it.
 *
 * A publication is wrapped in its envelope once and encoded into frames once
 * per compression class (`fanOut`), then the same bytes go to every
 * subscriber on this process. A subscriber over `maxBufferedAmount` is closed
 * (policy `'close'`: its client reconnects and resumes since its position) or
 * skipped (`'drop'`): the skipped publication becomes a gap that this layer
 * fills itself once the socket drains, by resubscribing the connection since
 * its last delivered offset, so the client gets a `subscribed` with the
 * missed publications (or `recovered: false` if history no longer has them).
 */
import type { MessagePreEncoder } from '@rfc6455/codec/frames';
import {
  type DeliverEffect,
  decodeTopicsMessage,
  encodePublication,
  encodeTopicsMessage,
  MemoryTopics,
  type PublishOptions,
  type PublishResult,
  type StreamPosition,
  type SubscribedEffect,
  type TopicsHub,
  type TopicsHubHandlers,
  UNSUBSCRIBED_BY_REQUEST,
} from '@rfc6455/topics';
import { fanOut } from './fan-out.js';
import type { WebSocket } from './websocket.js';

/** Makes the hub the server runs, given the callbacks it must report to (see `ServerOptions.topics`). */
export type TopicsHubFactory<S> = (handlers: TopicsHubHandlers<S>) => TopicsHub<S>;

/** Decides whether a subprotocol client may subscribe to `topic`: `false` refuses with `unsubscribed` 4403. */
export type SubscribeAuthorizer<S> = (ws: S, topic: string) => boolean;

/** The `unsubscribed` code for a subscribe the authorizer refused. */
export const UNSUBSCRIBED_NOT_ALLOWED = 4403;
/** The `unsubscribed` code for a subscribe over `maxTopicsPerConnection`. */
export const UNSUBSCRIBED_TOO_MANY_TOPICS = 4429;

export interface ServerTopicsOptions<S> {
  readonly factory: TopicsHubFactory<S> | undefined;
  readonly authorize: SubscribeAuthorizer<S> | undefined;
  readonly maxTopicsPerConnection: number;
  readonly maxTopicBytes: number | undefined;
}

/** What a `WebSocket` asks of its server's topics (kept to an interface: no import cycle at run time). */
export interface TopicsLink<S> {
  subscribe(ws: S, topic: string, since: StreamPosition | undefined): void;
  unsubscribe(ws: S, topic: string): void;
  topicsOf(ws: S): string[];
  /** A binary message from a client that negotiated the subprotocol. */
  receive(ws: S, bytes: Uint8Array): void;
}

/** Per connection: its topics, and what must be re-sent once it drains (topic → since). */
interface Membership {
  readonly topics: Set<string>;
  retries: Map<string, StreamPosition | undefined> | undefined;
}

export class ServerTopics<Data> implements TopicsLink<WebSocket<Data>> {
  private hubValue: TopicsHub<WebSocket<Data>> | undefined;
  private readonly members = new WeakMap<WebSocket<Data>, Membership>();
  /** Connections waiting to drain before a resubscribe: deliveries look them up only when there are any. */
  private readonly gapped = new Set<WebSocket<Data>>();
  private closed = false;

  constructor(
    private readonly preEncoder: MessagePreEncoder,
    private readonly options: ServerTopicsOptions<WebSocket<Data>>,
  ) {}

  /** The hub, made on first use: a server that never uses topics never makes one. */
  get hub(): TopicsHub<WebSocket<Data>> {
    if (this.hubValue === undefined) {
      const handlers: TopicsHubHandlers<WebSocket<Data>> = {
        onDeliver: this.onDeliver,
        onSubscribed: this.onSubscribed,
      };
      this.hubValue =
        this.options.factory?.(handlers) ??
        new MemoryTopics<WebSocket<Data>>({
          ...handlers,
          ...(this.options.maxTopicBytes !== undefined && { core: { maxTopicBytes: this.options.maxTopicBytes } }),
        });
    }
    return this.hubValue;
  }

  subscribe(ws: WebSocket<Data>, topic: string, since: StreamPosition | undefined): void {
    if (this.closed || ws.readyState !== 1) return;
    let member = this.members.get(ws);
    if (member === undefined) this.members.set(ws, (member = { topics: new Set(), retries: undefined }));
    const added = !member.topics.has(topic);
    // Recorded first: a hub in this process answers (onSubscribed) before subscribe returns.
    member.topics.add(topic);
    member.retries?.delete(topic);
    try {
      this.hub.subscribe(ws, topic, since);
    } catch (error) {
      // A bad topic or position: nothing changes.
      if (added) member.topics.delete(topic);
      throw error;
    }
  }

  unsubscribe(ws: WebSocket<Data>, topic: string): void {
    const member = this.members.get(ws);
    if (member === undefined || !member.topics.delete(topic)) return;
    member.retries?.delete(topic);
    this.hubValue?.unsubscribe(ws, topic);
  }

  topicsOf(ws: WebSocket<Data>): string[] {
    return [...(this.members.get(ws)?.topics ?? [])];
  }

  /** The connection is gone: it leaves every topic. */
  disconnect(ws: WebSocket<Data>): void {
    this.gapped.delete(ws);
    if (!this.members.delete(ws) || this.closed) return;
    this.hubValue?.disconnect(ws);
  }

  publish(topic: string, data: string | Uint8Array, options?: PublishOptions): Promise<PublishResult> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    try {
      return Promise.resolve(this.hub.publish(topic, bytes, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  receive(ws: WebSocket<Data>, bytes: Uint8Array): void {
    const message = decodeTopicsMessage(
      bytes,
      this.options.maxTopicBytes !== undefined ? { maxTopicBytes: this.options.maxTopicBytes } : {},
    );
    switch (message.type) {
      case 'malformed':
        ws.close(1007, `malformed topics envelope (${message.code})`);
        return;
      case 'subscribe': {
        const topic = message.topic;
        const member = this.members.get(ws);
        if (
          !(member?.topics.has(topic) ?? false) &&
          (member?.topics.size ?? 0) >= this.options.maxTopicsPerConnection
        ) {
          this.sendUnsubscribed(ws, topic, UNSUBSCRIBED_TOO_MANY_TOPICS, 'too many topics');
          return;
        }
        if (this.options.authorize !== undefined && !this.options.authorize(ws, topic)) {
          this.sendUnsubscribed(ws, topic, UNSUBSCRIBED_NOT_ALLOWED, 'not allowed');
          return;
        }
        this.subscribe(ws, topic, message.since);
        return;
      }
      case 'unsubscribe':
        this.unsubscribe(ws, message.topic);
        // Answered even when not subscribed: the client waits for it before subscribing again.
        this.sendUnsubscribed(ws, message.topic, UNSUBSCRIBED_BY_REQUEST, '');
        return;
      default:
        ws.close(1008, 'a topics client sends only subscribe and unsubscribe');
        return;
    }
  }

  close(): void {
    this.closed = true;
    this.hubValue?.close();
  }

  private sendUnsubscribed(ws: WebSocket<Data>, topic: string, code: number, reason: string): void {
    ws.send(encodeTopicsMessage({ type: 'unsubscribed', topic, code, reason }));
  }

  private readonly onDeliver = (effect: DeliverEffect<WebSocket<Data>>): void => {
    const { topic, epoch, publication } = effect;
    const envelope = encodePublication({ topic, epoch, offset: publication.offset, data: publication.data });
    fanOut(
      this.preEncoder,
      { type: 'binary', data: envelope },
      effect.subscribers,
      // A connection with a gap in this topic gets nothing more of it until the gap is filled.
      this.gapped.size === 0
        ? undefined
        : (ws) => !this.gapped.has(ws) || this.members.get(ws)?.retries?.has(topic) !== true,
      (ws) => this.retryLater(ws, topic, { epoch, offset: publication.offset - 1 }),
    );
  };

  private readonly onSubscribed = (effect: SubscribedEffect<WebSocket<Data>>): void => {
    const { subscriber: ws, topic, recovered, epoch, offset, publications } = effect;
    const member = this.members.get(ws);
    if (member === undefined || !member.topics.has(topic)) return;
    const reply = encodeTopicsMessage({ type: 'subscribed', topic, recovered, epoch, offset, publications });
    fanOut(this.preEncoder, { type: 'binary', data: reply }, [ws], undefined, () => {
      // Dropped by the overflow policy: ask again from where the dropped answer started.
      const first = publications[0];
      const since = recovered ? { epoch, offset: first === undefined ? offset : first.offset - 1 } : undefined;
      this.retryLater(ws, topic, since);
    });
  };

  /** Resubscribes `ws` to `topic` since `since` once its socket has drained. */
  private retryLater(ws: WebSocket<Data>, topic: string, since: StreamPosition | undefined): void {
    const member = this.members.get(ws);
    if (member === undefined || !member.topics.has(topic)) return;
    const retries = (member.retries ??= new Map());
    if (retries.has(topic)) return; // the first gap is where the resubscribe must start
    retries.set(topic, since);
    if (retries.size > 1) return; // a drain is already awaited
    this.gapped.add(ws);
    const resume = (): void => {
      ws.off('drain', resume);
      ws.off('close', resume);
      this.gapped.delete(ws);
      const pending = member.retries;
      member.retries = undefined;
      if (pending === undefined || ws.readyState !== 1 || this.closed) return;
      for (const [topic, position] of pending) if (member.topics.has(topic)) this.hub.subscribe(ws, topic, position);
    };
    if (!ws.socket.writableNeedDrain) {
      // Under the stream's high-water mark no 'drain' will come: what waits is written at once.
      setImmediate(resume);
      return;
    }
    ws.on('drain', resume);
    ws.on('close', resume);
  }
}
