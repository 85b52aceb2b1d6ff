/**
 * Opt-in reconnection around the WebSocket class. When a connection ends
 * without `close()` having been called, a new one is dialled after an
 * exponential backoff with jitter; messages sent meanwhile are queued (up to
 * a limit) and flushed, in order, once the next connection opens.
 */
import type { WebSocketCloseEvent } from './events.js';
import { CloseEvent, MessageEvent, WebSocketErrorEvent } from './events.js';
import { parseWebSocketUrl, WebSocket, type WebSocketData, type WebSocketOptions } from './websocket.js';

export interface ReconnectOptions {
  /** Delay before the first retry, in ms. Default 500. */
  readonly initialDelay?: number;
  /** Upper bound of any delay, in ms. Default 30 000. */
  readonly maxDelay?: number;
  /** Growth per attempt. Default 2. */
  readonly factor?: number;
  /** Fraction of each delay that is random, 0–1: delay × (1 − jitter × random()). Default 0.5. */
  readonly jitter?: number;
  /** Retries in a row before giving up. Default Infinity. */
  readonly maxAttempts?: number;
  /** Messages queued while disconnected; beyond it send() throws QuotaExceededError. Default 1000. */
  readonly maxQueuedMessages?: number;
  /** Decides whether to retry after a close; default: always (except after close()). */
  readonly shouldReconnect?: (event: WebSocketCloseEvent) => boolean;
  /** Random source for the jitter (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
}

export interface ReconnectingWebSocketOptions extends WebSocketOptions {
  readonly reconnect?: ReconnectOptions;
}

/** Fired before each new attempt: `attempt` counts from 1, `delay` is the wait that preceded it. */
export class ReconnectEvent extends Event {
  readonly attempt: number;
  readonly delay: number;
  readonly lastClose: WebSocketCloseEvent | undefined;
  constructor(type: string, attempt: number, delay: number, lastClose: WebSocketCloseEvent | undefined) {
    super(type);
    this.attempt = attempt;
    this.delay = delay;
    this.lastClose = lastClose;
  }
}

/** Backoff before retry `attempt` (1-based), before jitter: initial × factor^(attempt−1), capped. */
export function backoffDelay(
  attempt: number,
  options: ReconnectOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelay ?? 500;
  const cap = options.maxDelay ?? 30_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const base = Math.min(cap, initial * factor ** (attempt - 1));
  return Math.round(base * (1 - jitter * random()));
}

/**
 * Events: `open` (every successful connection), `message`, `error`,
 * `disconnect` (a CloseEvent for each connection that ended), `reconnecting`
 * (a ReconnectEvent when a retry is scheduled), `close` (once, at the end:
 * after close() or when retries are exhausted).
 */
export class ReconnectingWebSocket extends EventTarget {
  readonly url: string;
  private readonly protocols: string | readonly string[] | undefined;
  private readonly options: ReconnectingWebSocketOptions;
  private socket: WebSocket | undefined;
  private queue: WebSocketData[] = [];
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private binaryTypeValue: 'blob' | 'arraybuffer' = 'blob';
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  onclose: ((ev: WebSocketCloseEvent) => unknown) | null = null;

  constructor(url: string | URL, protocols?: string | readonly string[], options: ReconnectingWebSocketOptions = {}) {
    super();
    this.protocols = protocols;
    this.options = options;
    this.url = parseWebSocketUrl(url).href;
    this.socket = this.connect();
  }

  get readyState(): number {
    if (this.stopped) return this.socket?.readyState === WebSocket.CLOSING ? WebSocket.CLOSING : WebSocket.CLOSED;
    return this.socket?.readyState === WebSocket.OPEN ? WebSocket.OPEN : WebSocket.CONNECTING;
  }
  get protocol(): string {
    return this.socket?.protocol ?? '';
  }
  get binaryType(): 'blob' | 'arraybuffer' {
    return this.binaryTypeValue;
  }
  set binaryType(value: 'blob' | 'arraybuffer') {
    if (value !== 'blob' && value !== 'arraybuffer') return;
    this.binaryTypeValue = value;
    if (this.socket !== undefined) this.socket.binaryType = value;
  }
  /** Messages waiting for the next connection. */
  get queuedMessages(): number {
    return this.queue.length;
  }
  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  /** Sends now when open, otherwise queues for the next connection. */
  send(data: WebSocketData): void {
    if (this.stopped) throw new DOMException('the ReconnectingWebSocket was closed', 'InvalidStateError');
    if (this.socket?.readyState === WebSocket.OPEN && this.queue.length === 0) {
      this.socket.send(data);
      return;
    }
    const limit = this.options.reconnect?.maxQueuedMessages ?? 1000;
    if (this.queue.length >= limit) {
      throw new DOMException(`more than ${limit} messages queued while reconnecting`, 'QuotaExceededError');
    }
    this.queue.push(data);
  }

  /** Closes the current connection and stops reconnecting. */
  close(code?: number, reason?: string): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) {
      this.emit(new CloseEvent('close', { code: 1000, reason: '', wasClean: true }), this.onclose);
      return;
    }
    socket.close(code, reason);
  }

  private connect(): WebSocket {
    const socket = new WebSocket(this.url, this.protocols, this.options);
    socket.binaryType = this.binaryTypeValue;
    socket.addEventListener('open', (ev) => {
      this.attempts = 0;
      const queued = this.queue;
      this.queue = [];
      for (const data of queued) socket.send(data);
      this.emit(new Event(ev.type), this.onopen);
    });
    socket.addEventListener('message', (ev) => {
      const m = ev as MessageEvent;
      this.emit(new MessageEvent('message', { data: m.data, origin: m.origin }), this.onmessage);
    });
    socket.addEventListener('error', (ev) => {
      this.emit(new WebSocketErrorEvent('error', (ev as WebSocketErrorEvent).error), this.onerror);
    });
    socket.addEventListener('close', (ev) => this.onSocketClose(ev as WebSocketCloseEvent));
    return socket;
  }

  private onSocketClose(ev: WebSocketCloseEvent): void {
    const init = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
    this.dispatchEvent(new CloseEvent('disconnect', init));
    const options = this.options.reconnect ?? {};
    const retry =
      !this.stopped &&
      this.attempts < (options.maxAttempts ?? Infinity) &&
      (options.shouldReconnect === undefined || options.shouldReconnect(ev));
    if (!retry) {
      this.stopped = true;
      this.emit(new CloseEvent('close', init), this.onclose);
      return;
    }
    this.attempts++;
    const delay = backoffDelay(this.attempts, options, options.random);
    this.dispatchEvent(new ReconnectEvent('reconnecting', this.attempts, delay, ev));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.socket = this.connect();
    }, delay);
  }

  private emit<E extends Event>(ev: E, handler: ((ev: E) => unknown) | null): void {
    this.dispatchEvent(ev);
    if (typeof handler === 'function') handler.call(this, ev);
  }
}
