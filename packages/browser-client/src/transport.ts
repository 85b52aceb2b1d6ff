/**
 * What the client runs over: any duplex byte stream. A TCP socket, a TLS
 * socket, a tunnel through another protocol or an in-memory pipe all fit.
 */
export interface ByteStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

export interface DialInit {
  /** Aborted when the caller gives up (close() while connecting, handshake timeout). */
  readonly signal: AbortSignal;
}

/**
 * A transport that opens each WebSocket on an HTTP/2 stream with an extended
 * CONNECT (RFC 8441) instead of writing an HTTP/1.1 upgrade into bytes.
 */
export interface ExtendedConnectDialer {
  readonly type: 'extended-connect';
  /**
   * Opens a stream with these request fields (pseudo-header fields included)
   * and resolves once its response head arrived, whatever the status; the
   * stream's DATA then flows through the returned byte stream. Rejects when
   * the stream is reset or the session fails first.
   */
  open(headers: Readonly<Record<string, string>>, init: DialInit): Promise<ExtendedConnectStream>;
}

/** An HTTP/2 stream whose response head arrived: its status and fields, and its DATA as bytes. */
export interface ExtendedConnectStream extends ByteStream {
  readonly type: 'extended-connect-stream';
  readonly status: number;
  readonly headers:
    | ReadonlyArray<readonly [string, string]>
    | Readonly<Record<string, string | number | readonly string[] | undefined>>;
  /** The HTTP/2 stream identifier, when the stack tells it. */
  readonly streamId: number | null;
}

/** What a transport opened: bytes to carry the HTTP/1.1 upgrade, or a way to open HTTP/2 streams. */
export type Dialed = ByteStream | ExtendedConnectDialer;

/**
 * Opens a byte stream to the server named by a ws: or wss: URL. For wss: the
 * stream must already carry decrypted bytes (TLS is the transport's job). A
 * transport may instead hand back an {@link ExtendedConnectDialer}: the
 * WebSocket then opens on an HTTP/2 stream.
 */
export type Transport = (url: URL, init: DialInit) => Dialed | Promise<Dialed>;

/** Which HTTP carried a WebSocket's opening handshake; over HTTP/2, on which stream. */
export type HttpVersionInfo =
  | { readonly httpVersion: '1.1' }
  | { readonly httpVersion: '2'; readonly streamId: number | null };

export function isExtendedConnect(dialed: Dialed): dialed is ExtendedConnectDialer {
  return (dialed as { type?: unknown }).type === 'extended-connect';
}

/** Host and port to connect to for a ws:/wss: URL (IPv6 brackets removed). */
export function hostAndPort(url: URL): { hostname: string; port: number; secure: boolean } {
  const secure = url.protocol === 'wss:';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  return { hostname, port, secure };
}
