/**
 * Event classes for the WebSocket interface. The runtime's own MessageEvent
 * and CloseEvent are used where they exist (browsers, Deno, Bun, Node ≥ 23 for
 * CloseEvent), so `instanceof` checks written for the native WebSocket hold.
 */

export interface CloseEventInit extends EventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

/** The close event: `code`, `reason`, `wasClean`. */
export interface WebSocketCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** What a WebSocket's `message` event carries: text as a string, binary as `binaryType` says. */
export type WebSocketMessageData = string | ArrayBuffer | Blob;

export interface MessageEventInit<T = WebSocketMessageData> extends EventInit {
  data?: T;
  origin?: string;
}

/** The members of the standard MessageEvent a WebSocket fills in: `data`, `origin`. */
export interface WebSocketMessageEvent<T = WebSocketMessageData> extends Event {
  readonly data: T;
  readonly origin: string;
  readonly lastEventId: string;
}

class CloseEventShim extends Event implements WebSocketCloseEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

class MessageEventShim<T> extends Event implements WebSocketMessageEvent<T | undefined> {
  readonly data: T | undefined;
  readonly origin: string;
  readonly lastEventId = '';
  readonly source = null;
  readonly ports: readonly unknown[] = [];
  constructor(type: string, init: MessageEventInit<T> = {}) {
    super(type, init);
    this.data = init.data;
    this.origin = init.origin ?? '';
  }
}

type CloseEventCtor = new (type: string, init?: CloseEventInit) => WebSocketCloseEvent;
type MessageEventCtor = new <T = WebSocketMessageData>(
  type: string,
  init?: MessageEventInit<T>,
) => WebSocketMessageEvent<T>;

const g = globalThis as { CloseEvent?: CloseEventCtor; MessageEvent?: MessageEventCtor };

/** The runtime's CloseEvent, or a compatible class where there is none. */
export const CloseEvent: CloseEventCtor = g.CloseEvent ?? CloseEventShim;
/** A close event as this package's classes dispatch it. */
export type CloseEvent = WebSocketCloseEvent;
/** The runtime's MessageEvent, or a compatible class where there is none. */
export const MessageEvent: MessageEventCtor = g.MessageEvent ?? (MessageEventShim as MessageEventCtor);
/** A message event as this package's classes dispatch it. */
export type MessageEvent<T = WebSocketMessageData> = WebSocketMessageEvent<T>;

/** An error event with the cause attached: `event.error` is a HandshakeError, a transport error or a ProtocolError. */
export class WebSocketErrorEvent extends Event {
  readonly error: Error | undefined;
  readonly message: string;
  constructor(type: string, error: Error | undefined) {
    super(type);
    this.error = error;
    this.message = error?.message ?? '';
  }
}

/** The events of the WebSocket class, by type: what `addEventListener` and the `on…` handlers receive. */
export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  error: WebSocketErrorEvent;
  close: CloseEvent;
}
