/**
 * A class with the WHATWG `WebSocket` interface, running over any byte
 * stream. Behaviour follows the HTML standard's WebSocket section where a
 * transport-independent client can: readyState transitions, the exceptions of
 * the constructor, send() and close(), event order (error before close on an
 * unclean end), bufferedAmount, binaryType.
 */
import { isToken } from '@rfc6455/codec';
import { CloseEvent, MessageEvent, WebSocketErrorEvent, type WebSocketEventMap } from './events.js';
import { type ClientOptions, type CloseInfo, type OpenInfo, Session } from './session.js';
import { TypedEventTarget, type TypedListener } from './typed-event-target.js';

export type BinaryType = 'blob' | 'arraybuffer';
export type WebSocketData = string | ArrayBuffer | ArrayBufferView | Blob;

export interface WebSocketOptions extends ClientOptions {}

/** An `on…` property: the listener for one event type, called with the WebSocket as `this`. */
type Handler<K extends keyof WebSocketEventMap> = ((this: WebSocket, ev: WebSocketEventMap[K]) => unknown) | null;
type Listener<K extends keyof WebSocketEventMap> = TypedListener<WebSocket, WebSocketEventMap[K]>;
type HandlerSlots = { [K in keyof WebSocketEventMap]: { handler: Listener<K>; listener: EventListener } | undefined };

const encoder = new TextEncoder();

// Typed listener functions only, as the DOM declares its WebSocket's.
export class WebSocket extends TypedEventTarget<WebSocketEventMap, WebSocket> {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  private readonly session: Session;
  private readonly urlValue: URL;
  private state = 0;
  private protocolValue = '';
  private extensionsValue = '';
  private binaryTypeValue: BinaryType = 'blob';
  /** Bytes sent while CLOSING/CLOSED: the standard adds them to bufferedAmount and drops them. */
  private discarded = 0;
  /** Sends waiting behind a Blob being read, to keep their order. */
  private pending: { data: WebSocketData; size: number }[] = [];
  private pendingBytes = 0;
  private draining = false;
  /** The `on…` handlers, each with the listener that calls it. */
  private readonly handlers: HandlerSlots = {
    open: undefined,
    message: undefined,
    error: undefined,
    close: undefined,
  };
  /** The handshake response headers, once open (not in the standard interface). */
  responseHeaders: OpenInfo['headers'] | undefined;
  private http: OpenInfo['http'] | undefined;

  constructor(url: string | URL, protocols?: string | readonly string[], options: WebSocketOptions = {}) {
    super();
    this.urlValue = parseWebSocketUrl(url);
    const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    const seen = new Set<string>();
    for (const p of list) {
      if (!isToken(p) || seen.has(p.toLowerCase())) {
        throw new DOMException(`invalid or repeated subprotocol: ${JSON.stringify(p)}`, 'SyntaxError');
      }
      seen.add(p.toLowerCase());
    }
    this.session = new Session(this.urlValue, list, options, {
      open: (info) => this.onOpen(info),
      message: (data) => this.onMessage(data),
      closed: (info) => this.onClosed(info),
    });
    // Start after the constructor returns, so listeners added synchronously see everything.
    queueMicrotask(() => this.session.start());
  }

  get url(): string {
    return this.urlValue.href;
  }
  get readyState(): number {
    return this.state;
  }
  get protocol(): string {
    return this.protocolValue;
  }
  get extensions(): string {
    return this.extensionsValue;
  }
  /**
   * Which HTTP opened this WebSocket: `'1.1'` (an Upgrade), `'2'` (an
   * extended CONNECT on an HTTP/2 stream, RFC 8441), or '' until it is open.
   * Not in the standard interface.
   */
  get httpVersion(): '' | '1.1' | '2' {
    return this.http?.httpVersion ?? '';
  }
  /** The HTTP/2 stream the WebSocket runs on, or null (HTTP/1.1, or not open yet). Not in the standard interface. */
  get streamId(): number | null {
    return this.http?.httpVersion === '2' ? this.http.streamId : null;
  }
  get bufferedAmount(): number {
    return this.session.bufferedAmount + this.pendingBytes + this.discarded;
  }
  get binaryType(): BinaryType {
    return this.binaryTypeValue;
  }
  set binaryType(value: BinaryType) {
    if (value === 'blob' || value === 'arraybuffer') this.binaryTypeValue = value;
  }

  get onopen(): Handler<'open'> {
    return this.getHandler('open');
  }
  set onopen(fn: Handler<'open'>) {
    this.setHandler('open', fn);
  }
  get onmessage(): Handler<'message'> {
    return this.getHandler('message');
  }
  set onmessage(fn: Handler<'message'>) {
    this.setHandler('message', fn);
  }
  get onerror(): Handler<'error'> {
    return this.getHandler('error');
  }
  set onerror(fn: Handler<'error'>) {
    this.setHandler('error', fn);
  }
  get onclose(): Handler<'close'> {
    return this.getHandler('close');
  }
  set onclose(fn: Handler<'close'>) {
    this.setHandler('close', fn);
  }

  send(data: WebSocketData): void {
    if (this.state === WebSocket.CONNECTING) {
      throw new DOMException('send() while the WebSocket is still CONNECTING', 'InvalidStateError');
    }
    const size = byteSize(data);
    if (this.state !== WebSocket.OPEN || !this.session.isOpen) {
      this.discarded += size;
      return;
    }
    if (this.pending.length > 0 || isBlob(data)) {
      this.pending.push({ data, size });
      this.pendingBytes += size;
      void this.drain();
      return;
    }
    this.sendNow(data);
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(`close code must be 1000 or 3000–4999, got ${code}`, 'InvalidAccessError');
    }
    if (reason !== undefined && encoder.encode(reason).length > 123) {
      throw new DOMException('close reason longer than 123 bytes of UTF-8', 'SyntaxError');
    }
    if (this.state === WebSocket.CLOSING || this.state === WebSocket.CLOSED) return;
    this.state = WebSocket.CLOSING;
    if (code === undefined && reason !== undefined && reason !== '') code = 1000;
    this.session.close(code, reason);
  }

  private sendNow(data: Exclude<WebSocketData, Blob>): void {
    if (!this.session.isOpen) return;
    if (typeof data === 'string') void this.session.send({ type: 'text', data });
    else void this.session.send({ type: 'binary', data: toBytes(data) });
  }

  /** Sends queued messages in order, reading Blobs as they come. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const item = this.pending[0] as { data: WebSocketData; size: number };
        const data = isBlob(item.data) ? new Uint8Array(await item.data.arrayBuffer()) : item.data;
        this.pending.shift();
        this.pendingBytes -= item.size;
        if (this.state === WebSocket.OPEN) this.sendNow(data);
      }
    } finally {
      this.draining = false;
    }
  }

  private onOpen(info: OpenInfo): void {
    if (this.state !== WebSocket.CONNECTING) return;
    this.state = WebSocket.OPEN;
    this.protocolValue = info.protocol;
    this.extensionsValue = info.extensions;
    this.responseHeaders = info.headers;
    this.http = info.http;
    this.dispatchEvent(new Event('open'));
  }

  private onMessage(data: string | Uint8Array): void {
    if (this.state !== WebSocket.OPEN) return;
    let payload: string | ArrayBuffer | Blob;
    if (typeof data === 'string') payload = data;
    else if (this.binaryTypeValue === 'arraybuffer') payload = ownedArrayBuffer(data);
    else payload = new Blob([data as Uint8Array<ArrayBuffer>]);
    this.dispatchEvent(new MessageEvent('message', { data: payload, origin: this.urlValue.origin }));
  }

  private onClosed(info: CloseInfo): void {
    this.state = WebSocket.CLOSED;
    this.pending = [];
    this.pendingBytes = 0;
    if (!info.wasClean) this.dispatchEvent(new WebSocketErrorEvent('error', info.error));
    this.dispatchEvent(new CloseEvent('close', { code: info.code, reason: info.reason, wasClean: info.wasClean }));
  }

  private getHandler<K extends keyof WebSocketEventMap>(name: K): Handler<K> {
    return this.handlers[name]?.handler ?? null;
  }

  private setHandler<K extends keyof WebSocketEventMap>(name: K, fn: Handler<K>): void {
    const old = this.handlers[name];
    if (old !== undefined) this.removeEventListener(name, old.listener);
    this.handlers[name] = undefined;
    if (typeof fn !== 'function') return;
    // Only this class dispatches these types, with the classes WebSocketEventMap names.
    const listener: EventListener = (ev) => {
      fn.call(this, ev as WebSocketEventMap[K]);
    };
    // TypeScript cannot relate a generic key's slot to HandlerSlots[K] for writing.
    this.handlers[name] = { handler: fn, listener } as HandlerSlots[K];
    this.addEventListener(name, listener);
  }
}

/** Resolves and checks a WebSocket URL as the standard's constructor does. */
export function parseWebSocketUrl(input: string | URL): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  let url: URL;
  try {
    url = new URL(String(input), base);
  } catch {
    throw new DOMException(`invalid URL: ${String(input)}`, 'SyntaxError');
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new DOMException(`URL scheme must be ws: or wss:, not ${url.protocol}`, 'SyntaxError');
  }
  if (url.href.includes('#')) throw new DOMException('a WebSocket URL must not have a fragment', 'SyntaxError');
  return url;
}

function isBlob(data: unknown): data is Blob {
  return typeof Blob !== 'undefined' && data instanceof Blob;
}

function byteSize(data: WebSocketData): number {
  if (typeof data === 'string') return encoder.encode(data).length;
  if (isBlob(data)) return data.size;
  return data.byteLength;
}

/** A Uint8Array over the caller's bytes, without copying (the codec masks into its own buffer). */
export function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === '[object ArrayBuffer]') {
    return new Uint8Array(data);
  }
  throw new TypeError('expected a string, ArrayBuffer, ArrayBufferView or Blob');
}

/** An ArrayBuffer holding exactly these bytes: the view's own buffer when it spans all of it. */
function ownedArrayBuffer(view: Uint8Array): ArrayBuffer {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer) {
    return view.buffer;
  }
  return view.slice().buffer as ArrayBuffer;
}
