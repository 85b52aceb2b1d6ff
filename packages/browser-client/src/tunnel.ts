/**
 * A Transport for browsers, which have no raw sockets: the bytes of the
 * WebSocket session travel as binary messages of a native WebSocket to a
 * bridge, which relays them to and from a TCP connection to the target.
 * The bridge decides which targets it allows; for wss: targets it is the
 * bridge that speaks TLS (the `tls=1` query parameter asks for it).
 */
import type { ByteStream, DialInit, Transport } from './transport.js';
import { hostAndPort } from './transport.js';

interface NativeWebSocket {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  onclose: ((ev: Event) => unknown) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}
type NativeWebSocketCtor = new (url: string) => NativeWebSocket;

export interface TunnelOptions {
  /** The WebSocket class carrying the tunnel; default `globalThis.WebSocket`. */
  readonly WebSocket?: NativeWebSocketCtor;
  /** Sending waits while the carrier's bufferedAmount is above this. Default 1 MiB. */
  readonly maxBufferedAmount?: number;
}

/**
 * `bridge` is the bridge's URL (the target is added as `target=host:port`,
 * plus `tls=1` for wss:), or a function building the bridge URL for a target.
 */
export function webSocketTunnel(
  bridge: string | URL | ((target: URL) => string | URL),
  options: TunnelOptions = {},
): Transport {
  return (target: URL, init: DialInit) => {
    let url: string;
    if (typeof bridge === 'function') url = String(bridge(target));
    else {
      const u = new URL(String(bridge));
      const { hostname, port, secure } = hostAndPort(target);
      u.searchParams.set('target', `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`);
      if (secure) u.searchParams.set('tls', '1');
      url = u.href;
    }
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: NativeWebSocketCtor }).WebSocket;
    if (Ctor === undefined) throw new Error('webSocketTunnel needs a native WebSocket');
    return openTunnel(new Ctor(url), init, options.maxBufferedAmount ?? 1024 * 1024);
  };
}

function openTunnel(carrier: NativeWebSocket, init: DialInit, maxBuffered: number): Promise<ByteStream> {
  carrier.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    let readController: ReadableStreamDefaultController<Uint8Array> | undefined;
    let ended = false;
    const end = (error?: unknown): void => {
      if (ended) return;
      ended = true;
      if (error === undefined) readController?.close();
      else readController?.error(error);
    };
    const onAbort = (): void => {
      carrier.close();
      reject(init.signal.reason);
    };
    init.signal.addEventListener('abort', onAbort, { once: true });
    carrier.onerror = () => {
      reject(new Error('the tunnel WebSocket failed'));
      end(new Error('the tunnel WebSocket failed'));
    };
    carrier.onclose = () => {
      reject(new Error('the tunnel WebSocket closed'));
      end();
    };
    carrier.onmessage = (ev) => {
      if (!ended && ev.data instanceof ArrayBuffer) readController?.enqueue(new Uint8Array(ev.data));
    };
    carrier.onopen = () => {
      init.signal.removeEventListener('abort', onAbort);
      const readable = new ReadableStream<Uint8Array>({
        start(controller) {
          readController = controller;
        },
        cancel() {
          ended = true;
          carrier.close();
        },
      });
      const writable = new WritableStream<Uint8Array>({
        async write(chunk) {
          if (carrier.readyState !== 1) throw new Error('the tunnel WebSocket is closed');
          carrier.send(chunk);
          while (carrier.bufferedAmount > maxBuffered && carrier.readyState === 1) {
            await new Promise((r) => setTimeout(r, 5));
          }
        },
        close() {
          carrier.close();
        },
        abort() {
          carrier.close();
        },
      });
      resolve({ readable, writable });
    };
  });
}
