/**
 * WebSocket over HTTP/2 for the Node dialer (RFC 8441): one HTTP/2 session
 * per origin (and TLS options) carries many WebSockets, each on a stream
 * opened with an extended CONNECT. A session is used only once the server's
 * SETTINGS said SETTINGS_ENABLE_CONNECT_PROTOCOL; otherwise, and when TLS
 * negotiates HTTP/1.1 or an h2c server does not speak HTTP/2, the dial falls
 * back to HTTP/1.1 unless the caller required HTTP/2, as browsers do.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { socketToByteStream } from './node-stream.js';
import type { DialInit, ExtendedConnectDialer, ExtendedConnectStream } from './transport.js';
import { hostAndPort } from './transport.js';

/**
 * When the Node dialer uses HTTP/2: `'never'` (default) dials HTTP/1.1;
 * `'prefer'` opens the WebSocket on an HTTP/2 stream when the server
 * supports RFC 8441 and falls back to HTTP/1.1 otherwise; `'require'` fails
 * the attempt (error, then close 1006) instead of falling back. On ws: URLs
 * HTTP/2 is spoken without TLS by prior knowledge (h2c).
 */
export type Http2Mode = 'never' | 'prefer' | 'require';

export interface Http2PoolOptions {
  /** Milliseconds a session with no WebSocket left stays open for the next one. Default 5 000. */
  readonly idleTimeout?: number;
  /** Milliseconds to wait for the server's first SETTINGS frame. Default 10 000. */
  readonly settingsTimeout?: number;
}

/** What a dial got: an HTTP/2 session that supports extended CONNECT, or a socket for HTTP/1.1. */
export type PoolDial = { readonly type: 'http2'; readonly dialer: ExtendedConnectDialer } | Http1Fallback;

/** The dial falls back to HTTP/1.1, on this socket (TLS chose http/1.1 by ALPN) or a new one. */
interface Http1Fallback {
  readonly type: 'http1';
  readonly socket: net.Socket | undefined;
  readonly reason: string;
}

interface Entry {
  readonly key: string;
  readonly session: http2.ClientHttp2Session;
  /** Whether the server's SETTINGS enabled extended CONNECT. */
  readonly connectProtocol: boolean;
  streams: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Each distinct TLS options object gets a number: the pool never shares a session across TLS configurations. */
const tlsIds = new WeakMap<object, number>();
let nextTlsId = 1;

/**
 * HTTP/2 sessions shared by WebSockets, keyed by origin and TLS options
 * (by identity). Sessions close once idle for `idleTimeout`, and leave the
 * pool when they close, fail or receive GOAWAY; an idle session does not
 * keep the process alive.
 */
export class Http2SessionPool {
  private readonly idleTimeout: number;
  private readonly settingsTimeout: number;
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry | Http1Fallback>>();

  constructor(options: Http2PoolOptions = {}) {
    this.idleTimeout = options.idleTimeout ?? 5_000;
    this.settingsTimeout = options.settingsTimeout ?? 10_000;
  }

  /** Sessions open now, for diagnostics and tests. */
  get size(): number {
    return this.entries.size;
  }

  /** Closes every session (their WebSockets end as the transport closes). */
  close(): void {
    for (const entry of this.entries.values()) entry.session.close();
    this.entries.clear();
  }

  /**
   * A session for `url` that supports extended CONNECT, opened or reused;
   * otherwise a socket (or nothing) for HTTP/1.1 and why. Rejects when the
   * server cannot be reached at all.
   */
  async dial(url: URL, init: DialInit, tlsOptions: tls.ConnectionOptions | undefined): Promise<PoolDial> {
    const key = `${url.protocol}//${url.host}#${tlsOptions === undefined ? 0 : tlsIdOf(tlsOptions)}`;
    let got: Entry | PoolDial | undefined = this.entries.get(key);
    if (got === undefined || got.session.closed || got.session.destroyed) {
      let pending = this.pending.get(key);
      const mine = pending === undefined;
      if (pending === undefined) {
        pending = this.connect(key, url, tlsOptions).finally(() => this.pending.delete(key));
        this.pending.set(key, pending);
      }
      got = await abortable(pending, init.signal);
      // A socket TLS left on HTTP/1.1 serves the dial that opened it; the others dial their own.
      if ('type' in got && !mine) return { ...got, socket: undefined };
    }
    if ('type' in got) return got;
    if (!got.connectProtocol) {
      return {
        type: 'http1',
        socket: undefined,
        reason: 'the server did not enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL)',
      };
    }
    const entry = got;
    return { type: 'http2', dialer: { type: 'extended-connect', open: (headers, i) => this.open(entry, headers, i) } };
  }

  private async connect(
    key: string,
    url: URL,
    tlsOptions: tls.ConnectionOptions | undefined,
  ): Promise<Entry | Http1Fallback> {
    const { hostname, port, secure } = hostAndPort(url);
    let session: http2.ClientHttp2Session;
    if (secure) {
      const socket = await tlsConnect(hostname, port, tlsOptions);
      if (socket.alpnProtocol !== 'h2') {
        return { type: 'http1', socket, reason: `TLS negotiated ${socket.alpnProtocol || 'no protocol'}, not h2` };
      }
      session = http2.connect(`https://${url.host}`, { createConnection: () => socket });
    } else {
      session = http2.connect(`http://${url.host}`, {
        createConnection: () => net.connect({ host: hostname, port, noDelay: true }),
      });
    }
    let settings: http2.Settings;
    try {
      settings = await firstSettings(session, this.settingsTimeout);
    } catch (error) {
      session.destroy();
      // An h2c attempt at an HTTP/1.1-only server ends here; a refused connection too.
      if (!secure && !(error instanceof ConnectRefused)) {
        return { type: 'http1', socket: undefined, reason: `no HTTP/2 session: ${(error as Error).message}` };
      }
      throw error instanceof ConnectRefused ? error.cause : error;
    }
    const entry: Entry = {
      key,
      session,
      connectProtocol: settings.enableConnectProtocol === true,
      streams: 0,
      idleTimer: undefined,
    };
    const forget = (): void => {
      if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    session.on('close', forget);
    session.on('goaway', forget);
    // Each stream reports its own failure; the session's is for the pool only.
    session.on('error', forget);
    this.entries.set(key, entry);
    this.idle(entry);
    return entry;
  }

  private open(
    entry: Entry,
    headers: Readonly<Record<string, string>>,
    init: DialInit,
  ): Promise<ExtendedConnectStream> {
    return new Promise((resolve, reject) => {
      if (init.signal.aborted) {
        reject(init.signal.reason);
        return;
      }
      if (entry.session.closed || entry.session.destroyed) {
        reject(new Error('the HTTP/2 session closed before the stream could be opened'));
        return;
      }
      let stream: http2.ClientHttp2Stream;
      try {
        stream = entry.session.request(headers, { endStream: false });
      } catch (error) {
        reject(error);
        return;
      }
      this.busy(entry);
      let answered = false;
      const onAbort = (): void => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(init.signal.reason);
      };
      init.signal.addEventListener('abort', onAbort, { once: true });
      const failed = (error: Error | undefined): void => {
        init.signal.removeEventListener('abort', onAbort);
        if (answered) return;
        answered = true;
        reject(streamEndReason(stream, entry.session, error));
      };
      stream.once('error', failed);
      stream.once('close', () => {
        this.released(entry);
        failed(undefined);
      });
      stream.once('response', (response) => {
        init.signal.removeEventListener('abort', onAbort);
        if (answered) return;
        answered = true;
        stream.off('error', failed);
        const status = Number(response[':status']);
        resolve({
          type: 'extended-connect-stream',
          status,
          headers: response,
          streamId: stream.id ?? null,
          ...socketToByteStream(stream),
        });
      });
    });
  }

  private busy(entry: Entry): void {
    entry.streams++;
    if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.session.ref();
  }

  private released(entry: Entry): void {
    entry.streams--;
    if (entry.streams === 0) this.idle(entry);
  }

  /** No WebSocket uses the session: let the process exit, and close it if none comes. */
  private idle(entry: Entry): void {
    entry.session.unref();
    if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      if (entry.streams === 0) entry.session.close();
    }, this.idleTimeout);
    entry.idleTimer.unref?.();
  }
}

/** A dial failure that no fallback can cure: nothing listens, or the name does not resolve. */
class ConnectRefused extends Error {}

function tlsIdOf(options: object): number {
  let id = tlsIds.get(options);
  if (id === undefined) {
    id = nextTlsId++;
    tlsIds.set(options, id);
  }
  return id;
}

/** TLS offering h2 and http/1.1 by ALPN, as browsers do: the server's choice decides the HTTP version. */
function tlsConnect(
  hostname: string,
  port: number,
  options: tls.ConnectionOptions | undefined,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: hostname,
      port,
      ...(net.isIP(hostname) === 0 ? { servername: hostname } : {}),
      ...options,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** The server's first SETTINGS frame, which RFC 9113 §3.4 makes its first frame. */
function firstSettings(session: http2.ClientHttp2Session, timeout: number): Promise<http2.Settings> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no HTTP/2 SETTINGS within ${timeout} ms`)), timeout);
    const done = (error: Error | undefined, settings?: http2.Settings): void => {
      clearTimeout(timer);
      session.off('remoteSettings', onSettings);
      session.off('error', onError);
      session.off('close', onClose);
      if (error !== undefined) reject(error);
      else resolve(settings as http2.Settings);
    };
    const onSettings = (settings: http2.Settings): void => done(undefined, settings);
    const onError = (error: NodeJS.ErrnoException): void => {
      const unreachable = error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND' || error.code === 'EHOSTUNREACH';
      done(unreachable ? new ConnectRefused(error.message, { cause: error }) : error);
    };
    const onClose = (): void => done(new Error('the server closed the connection before its HTTP/2 SETTINGS'));
    session.on('remoteSettings', onSettings);
    session.on('error', onError);
    session.on('close', onClose);
  });
}

/** Why a stream ended before its response: RST_STREAM's code, GOAWAY or the session's end. */
function streamEndReason(
  stream: http2.ClientHttp2Stream,
  session: http2.ClientHttp2Session,
  error: Error | undefined,
): Error {
  if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
    return new Error(`the server reset the HTTP/2 stream (RST_STREAM ${rstName(stream.rstCode)})`, { cause: error });
  }
  if (error !== undefined) return error;
  if (session.closed || session.destroyed) return new Error('the HTTP/2 session ended before the response');
  return new Error('the HTTP/2 stream ended before the response');
}

/** RFC 9113 §7 error codes, by name (Node's constants mix them with other enums of equal values). */
const ERROR_CODES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

function rstName(code: number): string {
  const name = ERROR_CODES[code];
  return name === undefined ? String(code) : `${name} (${code})`;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
