/**
 * The demo's front for HTTP/2 by prior knowledge (h2c): connections that open
 * with the HTTP/2 preface come here instead of to the byte relay. It enables
 * extended CONNECT (RFC 8441) and serves one path, /echo: each stream is
 * carried to the same echo servers as an HTTP/1.1 upgrade (the client's
 * target, Origin, subprotocols and offers, so the echo's own checks apply),
 * the 101's agreement goes back as `:status 200`, and from then on the
 * stream's DATA and the upstream bytes are copied both ways and tapped. The
 * inspector gets the stream's id and its request and response fields in the
 * `open` record instead of an HTTP/1.1 head.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { TapMessage } from './tap-message.js';

export interface DemoHttp2Options {
  readonly echoPort: number;
  readonly echoPlainPort: number;
  readonly publish: (message: TapMessage) => void;
  /** The next connection number, shared with the HTTP/1.1 relay. */
  readonly nextConn: () => number;
  /** Milliseconds since the demo started. */
  readonly clock: () => number;
  /** Largest upstream response head read. */
  readonly maxHeaderSize: number;
}

export interface DemoHttp2Front {
  /** Hands over a client connection whose first bytes (the preface) were read already. */
  accept(client: net.Socket, first: Buffer): void;
  close(): void;
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const FORWARDED = ['origin', 'sec-websocket-protocol', 'sec-websocket-extensions'] as const;
const ignore = (): void => {};

export function demoHttp2Front(options: DemoHttp2Options): DemoHttp2Front {
  const server = http2.createServer({
    settings: { enableConnectProtocol: true },
    maxSessionMemory: 4,
    maxHeaderListPairs: 64,
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', ignore);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', ignore);
    const path = headers[':path'] ?? '/';
    const url = URL.canParse(path, 'http://x') ? new URL(path, 'http://x') : new URL('http://x/');
    if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket' || url.pathname !== '/echo') {
      stream.respond({ ':status': 404, 'content-type': 'text/plain; charset=utf-8' });
      stream.end('over HTTP/2 this demo serves only WebSocket /echo (an extended CONNECT)\n');
      return;
    }
    echoStream(stream, headers, url, options);
  });
  return {
    accept(client, first) {
      client.unshift(first);
      server.emit('connection', client);
    },
    close() {
      for (const session of sessions) session.destroy();
      server.close();
    },
  };
}

function echoStream(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  url: URL,
  options: DemoHttp2Options,
): void {
  const port = url.searchParams.get('deflate') === 'off' ? options.echoPlainPort : options.echoPort;
  const upstream = net.connect(port, '127.0.0.1');
  upstream.on('error', ignore);
  const lines = [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${String(headers[':authority'] ?? '127.0.0.1')}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`,
    `Sec-WebSocket-Version: ${String(headers['sec-websocket-version'] ?? '')}`,
  ];
  for (const name of FORWARDED) {
    const value = headers[name];
    // The HTTP/2 layer refuses CR and LF in field values, so a value cannot forge a line here.
    if (typeof value === 'string') lines.push(`${name}: ${value}`);
  }
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  let head: Buffer = Buffer.alloc(0);
  const onHead = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > options.maxHeaderSize) fail(502);
      return;
    }
    upstream.off('data', onHead);
    const [statusLine = '', ...fieldLines] = head.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const fields: Array<[string, string]> = [];
    for (const line of fieldLines) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    }
    const rest = head.subarray(end + 4);
    if (status === 101) opened(fields, rest);
    else refused(Number.isInteger(status) && status >= 300 && status <= 599 ? status : 502, fields, rest);
  };
  const fail = (status: number): void => {
    upstream.destroy();
    if (!stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
  };
  upstream.on('data', onHead);
  upstream.on('close', () => {
    if (!stream.headersSent) fail(502);
  });
  stream.on('close', () => upstream.destroy());

  // The upstream refused (403 for a foreign Origin, say): the same status and body on the stream.
  const refused = (status: number, fields: Array<[string, string]>, rest: Buffer): void => {
    const type = fields.find(([name]) => name === 'content-type')?.[1];
    stream.respond({ ':status': status, ...(type === undefined ? {} : { 'content-type': type }) });
    const length = Number(fields.find(([name]) => name === 'content-length')?.[1] ?? 0);
    stream.end(rest.subarray(0, Number.isSafeInteger(length) ? length : 0));
    upstream.destroy();
  };

  const opened = (fields: Array<[string, string]>, rest: Buffer): void => {
    const response: Array<[string, string]> = fields.filter(
      ([name]) => name === 'sec-websocket-protocol' || name === 'sec-websocket-extensions',
    );
    stream.respond({ ':status': 200, ...Object.fromEntries(response) });
    const conn = options.nextConn();
    const request: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') request.push([name, value]);
    options.publish({
      type: 'open',
      conn,
      t: options.clock(),
      remote: stream.session?.socket?.remoteAddress ?? '',
      http2: { streamId: stream.id ?? 0, request, status: 200, response },
    });
    const tap =
      (from: 'client' | 'server') =>
      (bytes: Buffer): void =>
        options.publish({ type: 'bytes', conn, t: options.clock(), from, base64: bytes.toString('base64') });
    if (rest.length > 0) {
      tap('server')(rest);
      stream.write(rest);
    }
    copy(stream, upstream, tap('client'));
    copy(upstream, stream, tap('server'));
    // END_STREAM plays FIN (RFC 8441 §5): half-closes pass through as they happen.
    stream.on('end', () => {
      options.publish({ type: 'end', conn, t: options.clock(), from: 'client' });
      upstream.end();
    });
    upstream.on('end', () => {
      options.publish({ type: 'end', conn, t: options.clock(), from: 'server' });
      stream.end();
    });
    upstream.on('close', () => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  };
}

/** Copies with flow control: a destination that cannot take more stops the source being read. */
function copy(
  from: http2.ServerHttp2Stream | net.Socket,
  to: http2.ServerHttp2Stream | net.Socket,
  tap: (bytes: Buffer) => void,
): void {
  const resume = (): void => {
    from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    if (to.destroyed || to.writableEnded) return;
    tap(chunk);
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', resume);
    }
  });
  to.once('close', resume);
}
