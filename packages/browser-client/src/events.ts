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

class MessageEventShim<T = unknown> extends Event {
  readonly data: T;
  readonly origin: string;
  readonly lastEventId = '';
  readonly source = null;
  readonly ports: readonly unknown[] = [];
  constructor(type: string, init: { data?: T; origin?: string } = {}) {
    super(type);
    this.data = init.data as T;
    this.origin = init.origin ?? '';
  }
}

type CloseEventCtor = new (type: string, init?: CloseEventInit) => WebSocketCloseEvent;
type MessageEventCtor = new (type: string, init?: { data?: unknown; origin?: string }) => MessageEvent;

const g = globalThis as { CloseEvent?: CloseEventCtor; MessageEvent?: MessageEventCtor };

/** The runtime's CloseEvent, or a compatible class where there is none. */
export const CloseEvent: CloseEventCtor = g.CloseEvent ?? CloseEventShim;
/** The runtime's MessageEvent, or a compatible class where there is none. */
export const MessageEvent: MessageEventCtor = g.MessageEvent ?? (MessageEventShim as unknown as MessageEventCtor);

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
