/**
 * `connect --trace` over HTTP/2 (RFC 8441): the handshake is an extended
 * CONNECT's header fields, not bytes, so they are printed as they go and
 * come; the stream's DATA is then tapped like a socket, the dissector first
 * given the equivalent HTTP/1.1 heads (h2-heads.ts).
 */
import type { ExtendedConnectDialer, ExtendedConnectStream } from '@rfc6455/browser-client';
import { HttpHeaders } from '@rfc6455/codec';
import type { SessionDissector } from './dissector.js';
import { primeForExtendedConnect } from './h2-heads.js';
import type { Side } from './records.js';
import { tapByteStream } from './tap.js';

export interface Http2TraceOptions {
  readonly dissector: SessionDissector;
  /** Prints one line of the trace (already styled). */
  readonly print: (line: string) => void;
  /** A frame chunk went by: print it and its dissection. */
  readonly onBytes: (from: Side, bytes: Uint8Array) => void;
  /** Treats a value the server chose before it is printed (escaping on a terminal). */
  readonly peer: (text: string) => string;
}

/** Wraps an HTTP/2 dialer so each stream's heads are printed and its DATA is tapped. */
export function traceExtendedConnect(dialer: ExtendedConnectDialer, options: Http2TraceOptions): ExtendedConnectDialer {
  return {
    type: 'extended-connect',
    async open(headers, init): Promise<ExtendedConnectStream> {
      options.print('client → server: HTTP/2 HEADERS (extended CONNECT, RFC 8441)');
      for (const [name, value] of Object.entries(headers)) options.print(`  ${name}: ${value}`);
      const opened = await dialer.open(headers, init);
      const response = new HttpHeaders(pairsOf(opened.headers));
      options.print(
        `server → client: HTTP/2 HEADERS on stream ${opened.streamId ?? '?'}, :status ${String(opened.status)}`,
      );
      for (const [name, value] of response) options.print(`  ${options.peer(name)}: ${options.peer(value)}`);
      if (opened.status >= 200 && opened.status < 300)
        primeForExtendedConnect(options.dissector, Object.entries(headers), response);
      return { ...opened, ...tapByteStream(opened, options.onBytes) };
    },
  };
}

function pairsOf(headers: ExtendedConnectStream['headers']): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [];
  if (Array.isArray(headers)) {
    for (const [name, value] of headers as ReadonlyArray<readonly [string, string]>) pairs.push([name, value]);
    return pairs;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (typeof value === 'string' || typeof value === 'number') pairs.push([name, String(value)]);
    else for (const v of value) pairs.push([name, v]);
  }
  return pairs;
}
