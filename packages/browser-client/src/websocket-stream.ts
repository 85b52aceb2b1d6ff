/**
 * A `WebSocketStream`-style client (the WHATWG proposal Chromium ships):
 * messages as a ReadableStream and a WritableStream, with backpressure end
 * to end.
 *
 * - Reading: the session reads from the transport only while `readable` has
 *   room (its queue holds `highWaterMark` messages). A consumer that stops
 *   reading stops the reads from the socket, TCP's window fills, and the
 *   server's writes back up.
 * - Writing: `writer.write()` resolves when the frame's bytes have been
 *   accepted by the transport's writer (for the Node dialer: written into the
 *   socket without exceeding its buffer, or after 'drain').
 */
import { CloseCode, type MessageMode } from '@rfc6455/codec';
import { WebSocketError } from './errors.js';
import { type ClientOptions, type CloseInfo, type OpenInfo, Session } from './session.js';
import { parseWebSocketUrl, toBytes } from './websocket.js';

export interface WebSocketStreamOptions extends ClientOptions {
  readonly protocols?: readonly string[];
  /** Aborting it while connecting abandons the attempt (`opened` rejects). */
  readonly signal?: AbortSignal;
  /** Messages (or parts, with `messageMode: 'parts'`) buffered in `readable` before the client stops reading the transport. Default 16. */
  readonly highWaterMark?: number;
  /**
   * `'whole'` (default): `readable` yields each message whole. `'parts'`:
   * it yields {@link WebSocketMessagePart}s as frames arrive (decompressed
   * parts are at most 32 KiB), so a large message is never held in memory at
   * once; `maxMessageSize` still bounds a message's total size.
   */
  readonly messageMode?: MessageMode;
}

/** A piece of a message read with `messageMode: 'parts'`. Text parts never split a code point. */
export interface WebSocketMessagePart {
  readonly data: string | Uint8Array<ArrayBuffer>;
  readonly binary: boolean;
  /** True on the message's final part (its data may be empty). */
  readonly last: boolean;
}

/** What `readable` yields: whole messages, or parts with `messageMode: 'parts'`. */
export type WebSocketStreamChunk<M extends MessageMode = 'whole'> = M extends 'parts'
  ? WebSocketMessagePart
  : string | Uint8Array<ArrayBuffer>;

export interface WebSocketStreamOpenInfo<M extends MessageMode = 'whole'> {
  readonly readable: ReadableStream<WebSocketStreamChunk<M>>;
  readonly writable: WritableStream<string | ArrayBuffer | ArrayBufferView>;
  readonly protocol: string;
  readonly extensions: string;
  /** `'1.1'`, or `'2'` when the WebSocket runs on an HTTP/2 stream (RFC 8441); not in the WHATWG proposal. */
  readonly httpVersion: '1.1' | '2';
}

export interface WebSocketCloseInfo {
  readonly closeCode: number;
  readonly reason: string;
}

const noop = (): void => {};

export class WebSocketStream<M extends MessageMode = 'whole'> {
  readonly url: string;
  /** Resolves once the handshake succeeded; rejects with a HandshakeError otherwise. */
  readonly opened: Promise<WebSocketStreamOpenInfo<M>>;
  /** Resolves on a clean close; rejects with a WebSocketError (closeCode, reason) otherwise. */
  readonly closed: Promise<WebSocketCloseInfo>;

  private readonly session: Session;
  private readableController: ReadableStreamDefaultController<unknown> | undefined;
  private writableController: WritableStreamDefaultController | undefined;
  private room: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(url: string | URL, options: WebSocketStreamOptions & { readonly messageMode?: M } = {}) {
    const parsed = parseWebSocketUrl(url);
    this.url = parsed.href;
    let resolveOpened!: (info: WebSocketStreamOpenInfo<M>) => void;
    let rejectOpened!: (error: unknown) => void;
    let resolveClosed!: (info: WebSocketCloseInfo) => void;
    let rejectClosed!: (error: unknown) => void;
    this.opened = new Promise((resolve, reject) => {
      resolveOpened = resolve;
      rejectOpened = reject;
    });
    this.closed = new Promise((resolve, reject) => {
      resolveClosed = resolve;
      rejectClosed = reject;
    });
    // Callers who only await one of them must not see an unhandled rejection from the other.
    this.opened.catch(noop);
    this.closed.catch(noop);
    const highWaterMark = options.highWaterMark ?? 16;

    this.session = new Session(
      parsed,
      options.protocols ?? [],
      options,
      {
        open: (info: OpenInfo) => resolveOpened(this.makeStreams(info, highWaterMark)),
        message: (data) => {
          this.readableController?.enqueue(data);
        },
        part: (data, binary, last) => {
          const chunk: WebSocketMessagePart = { data: data as string | Uint8Array<ArrayBuffer>, binary, last };
          this.readableController?.enqueue(chunk);
        },
        demand: () => {
          const controller = this.readableController;
          if (controller === undefined || (controller.desiredSize ?? 1) > 0) return undefined;
          this.room ??= deferred();
          return this.room.promise;
        },
        closed: (info: CloseInfo) => {
          this.room?.resolve();
          if (info.beforeOpen) {
            rejectOpened(info.error);
            rejectClosed(
              new WebSocketError('the WebSocket handshake failed', {
                closeCode: CloseCode.Abnormal,
                reason: '',
                cause: info.error,
              }),
            );
            return;
          }
          if (info.wasClean) {
            try {
              this.readableController?.close();
            } catch {}
            this.writableController?.error(new TypeError('the WebSocket is closed'));
            resolveClosed({ closeCode: info.code, reason: info.reason });
          } else {
            const error = new WebSocketError(
              `the WebSocket closed uncleanly (${info.code})${info.error ? `: ${info.error.message}` : ''}`,
              {
                closeCode: info.code,
                reason: info.reason,
                cause: info.error,
              },
            );
            try {
              this.readableController?.error(error);
            } catch {}
            this.writableController?.error(error);
            rejectClosed(error);
          }
        },
      },
      options.messageMode === undefined ? {} : { messageMode: options.messageMode },
    );
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(() => this.session.close());
      else signal.addEventListener('abort', () => this.session.close(), { once: true });
    }
    queueMicrotask(() => this.session.start());
  }

  /** Closes with an optional code (1000 or 3000–4999) and reason; while connecting, abandons the attempt. */
  close(info: { closeCode?: number; reason?: string } = {}): void {
    const { closeCode, reason } = info;
    if (closeCode !== undefined && closeCode !== 1000 && !(closeCode >= 3000 && closeCode <= 4999)) {
      throw new DOMException(`close code must be 1000 or 3000–4999, got ${closeCode}`, 'InvalidAccessError');
    }
    if (reason !== undefined && new TextEncoder().encode(reason).length > 123) {
      throw new DOMException('close reason longer than 123 bytes of UTF-8', 'SyntaxError');
    }
    this.session.close(closeCode ?? (reason ? 1000 : undefined), reason);
  }

  private makeStreams(info: OpenInfo, highWaterMark: number): WebSocketStreamOpenInfo<M> {
    const session = this.session;
    const readable = new ReadableStream<WebSocketStreamChunk<M>>(
      {
        start: (controller) => {
          this.readableController = controller as ReadableStreamDefaultController<unknown>;
        },
        pull: () => {
          const room = this.room;
          this.room = undefined;
          room?.resolve();
        },
        cancel: () => {
          session.close();
        },
      },
      new CountQueuingStrategy({ highWaterMark }),
    );
    const writable = new WritableStream<string | ArrayBuffer | ArrayBufferView>(
      {
        start: (controller) => {
          this.writableController = controller;
        },
        write: (chunk) => {
          if (!session.isOpen) throw new TypeError('the WebSocket is closing or closed');
          if (typeof chunk === 'string') return session.send({ type: 'text', data: chunk });
          return session.send({ type: 'binary', data: toBytes(chunk) });
        },
        close: () => {
          session.close();
        },
        abort: () => {
          session.close();
        },
      },
      new CountQueuingStrategy({ highWaterMark: 1 }),
    );
    return {
      readable,
      writable,
      protocol: info.protocol,
      extensions: info.extensions,
      httpVersion: info.http.httpVersion,
    };
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
