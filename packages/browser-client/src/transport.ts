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
 * Opens a byte stream to the server named by a ws: or wss: URL. For wss: the
 * stream must already carry decrypted bytes (TLS is the transport's job).
 */
export type Transport = (url: URL, init: DialInit) => ByteStream | Promise<ByteStream>;

/** Host and port to connect to for a ws:/wss: URL (IPv6 brackets removed). */
export function hostAndPort(url: URL): { hostname: string; port: number; secure: boolean } {
  const secure = url.protocol === 'wss:';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  return { hostname, port, secure };
}
