/**
 * What carries a WebSocket: a TCP (or TLS) connection after an HTTP/1.1
 * upgrade, or one stream of an HTTP/2 connection after an extended CONNECT
 * (RFC 8441). Both are Node Duplexes (and so the core's `ByteStream`s); this
 * file holds the few places where they differ (how to answer the handshake,
 * how to abort), so the frame phase runs the same code over either.
 */
import type { Server as HttpServer } from 'node:http';
import type {
  Http2SecureServer,
  Http2Server,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import type { ByteStream } from './byte-stream.js';

/**
 * HTTP/2 error codes (RFC 9113 §7), written out so that an HTTP/1.1-only
 * server never loads node:http2.
 */
export const H2_ERROR = Object.freeze({ NO_ERROR: 0, PROTOCOL_ERROR: 1, REFUSED_STREAM: 7, CANCEL: 8 });

/** How a WebSocket reached the server. */
export type Transport =
  | { readonly type: 'http1' }
  | {
      readonly type: 'http2';
      /** The HTTP/2 stream the WebSocket runs on. */
      readonly streamId: number;
      /** The HTTP/2 connection: WebSockets (and requests) on one connection share this object. */
      readonly session: ServerHttp2Session;
    };

/** The one `http1` transport: every HTTP/1.1 WebSocket shares it. */
export const HTTP1: Transport = Object.freeze({ type: 'http1' });

/** A server a `WebSocketServer` can attach to. */
export type AttachableServer = HttpServer | HttpsServer | Http2Server | Http2SecureServer;

/** An `http2` server (cleartext or TLS), as opposed to an `http`/`https` one. */
export function isHttp2Server(server: AttachableServer): server is Http2Server | Http2SecureServer {
  return typeof (server as Http2Server).updateSettings === 'function';
}

/**
 * Is this stream an extended CONNECT (RFC 8441 §4), i.e. one a WebSocket
 * server must answer? Plain CONNECT (tunnels) and other methods are the
 * application's.
 */
export function isExtendedConnect(headers: IncomingHttpHeaders): boolean {
  return headers[':method'] === 'CONNECT' && headers[':protocol'] !== undefined;
}

/**
 * Did this stream's connection advertise SETTINGS_ENABLE_CONNECT_PROTOCOL?
 * Without it an extended CONNECT is malformed (RFC 8441 §3).
 */
export function connectProtocolEnabled(stream: ServerHttp2Stream): boolean {
  return stream.session?.localSettings.enableConnectProtocol === true;
}

/** Node's flat `[name, value, name, value, …]` header list as pairs (repeated fields kept apart). */
export function headerPairs(raw: readonly string[]): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
  return pairs;
}

/** The codec's response fields as Node's `respond()` wants them (a repeated field becomes an array). */
export function responseHeaders(status: number, fields: ReadonlyArray<readonly [string, string]>): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':status': status };
  for (const [name, value] of fields) {
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else headers[name] = Array.isArray(previous) ? [...previous, value] : [String(previous), value];
  }
  return headers;
}

/**
 * Sends a final (error) response on a stream and ends it. The client may still
 * be sending; RFC 9113 §8.1 lets the server then stop it without error
 * (RST_STREAM NO_ERROR) once the response is complete.
 */
export function respondAndClose(
  stream: ServerHttp2Stream,
  status: number,
  fields: ReadonlyArray<readonly [string, string]>,
  body: Uint8Array,
): void {
  if (stream.destroyed || stream.closed) return;
  if (!stream.headersSent) stream.respond(responseHeaders(status, fields));
  stream.end(body);
  stream.once('finish', () => {
    if (!stream.closed) stream.close(H2_ERROR.NO_ERROR);
  });
}

/** Ends a transport abortively: TCP is destroyed, an HTTP/2 stream is reset with CANCEL (RFC 8441 §5: RST_STREAM plays TCP's RST). */
export function abortTransport(stream: ByteStream): void {
  if ('rstCode' in stream) {
    const h2stream = stream as ServerHttp2Stream;
    if (!h2stream.closed) h2stream.close(H2_ERROR.CANCEL);
    return;
  }
  stream.destroy();
}

/** Refuses an extended CONNECT the connection never allowed (RFC 8441 §3: malformed, a stream error PROTOCOL_ERROR). */
export function resetMalformed(stream: ServerHttp2Stream): void {
  resetStream(stream, H2_ERROR.PROTOCOL_ERROR);
}

/**
 * Resets a stream with an error code. Node reports any code but NO_ERROR and
 * CANCEL as an `error` event on the stream, which nobody else listens to yet:
 * a no-op listener keeps the peer's request from crashing the process.
 */
export function resetStream(stream: ServerHttp2Stream, code: number): void {
  stream.on('error', ignore);
  if (!stream.closed) stream.close(code);
}

function ignore(): void {}
