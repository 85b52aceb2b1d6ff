/**
 * The upgrade decision: what the application's hook is shown of a request
 * (`UpgradeInfo`, built here from the endpoint's `request` event and the
 * transport), and the answers it may give.
 */
import type { IncomingMessage } from 'node:http';
import type { ExtensionElement, HeaderInit, UpgradeRequestEvent } from '@rfc6455/codec';
import type { ByteStream } from './byte-stream.js';
import type { Transport } from './transport.js';

/** What the authorization hook sees about an upgrade request. */
export interface UpgradeInfo {
  /** The full URL, e.g. `ws://example.com/chat?room=1` (`wss:` over TLS). */
  readonly url: URL;
  /** The request target as sent, e.g. `/chat?room=1`. */
  readonly target: string;
  readonly path: string;
  /** The query without `?`, or ''. */
  readonly query: string;
  /**
   * Header values by lower-case name; repeated fields joined with ', ' (cookies
   * with '; '). Over HTTP/2 the pseudo-header fields are there too (`:path`,
   * `:authority`, …), and `host` is `:authority` when the request had no Host.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Cookies from the `Cookie` header(s). */
  readonly cookies: Readonly<Record<string, string>>;
  /** The `Origin` header, or null (non-browser clients usually send none). */
  readonly origin: string | null;
  /** Offered subprotocols, in the client's order of preference. */
  readonly protocols: readonly string[];
  /** Offered extensions, in order (the server accepts permessage-deflate when `perMessageDeflate` is on). */
  readonly extensions: readonly ExtensionElement[];
  readonly remoteAddress: string | undefined;
  readonly secure: boolean;
  /** Node's request object when attached to an `http`/`https` server (HTTP/1.1 upgrades only). */
  readonly request: IncomingMessage | undefined;
  /** `{ type: 'http1' }`, or `{ type: 'http2', streamId, session }` for an extended CONNECT (RFC 8441). */
  readonly transport: Transport;
}

/** Accept the upgrade, optionally choosing a subprotocol, adding response headers and attaching data. */
export interface AcceptDecision<Data> {
  readonly accept: true;
  /** One of `info.protocols`, or null/undefined for none. */
  readonly protocol?: string | null;
  readonly headers?: HeaderInit;
  /** Available as `ws.data`. */
  readonly data?: Data;
}

/** Refuse the upgrade with an HTTP error response (status 300–599; default 403). */
export interface RejectDecision {
  readonly accept: false;
  readonly status?: number;
  readonly headers?: HeaderInit;
  readonly body?: string | Uint8Array;
}

/** `true`/`undefined` accept without a subprotocol, `false` rejects with 403. */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing accepts, so `void` is one of the answers.
export type UpgradeDecision<Data> = AcceptDecision<Data> | RejectDecision | boolean | undefined | void;

export type UpgradeHook<Data> = (info: UpgradeInfo) => UpgradeDecision<Data> | Promise<UpgradeDecision<Data>>;

/** The hook's answer in one of its two long forms. */
export function normalizeDecision<Data>(decision: UpgradeDecision<Data>): AcceptDecision<Data> | RejectDecision {
  if (decision === undefined || decision === true) return { accept: true };
  if (decision === false) return { accept: false, status: 403 };
  return decision as AcceptDecision<Data> | RejectDecision;
}

/** What the hook sees of a request that passed the codec's checks. */
export function upgradeInfo(
  ev: UpgradeRequestEvent,
  socket: ByteStream,
  transport: Transport,
  secure: boolean,
  request: IncomingMessage | undefined,
): UpgradeInfo {
  const headers: Record<string, string> = {};
  for (const [name, value] of ev.headers.entries()) {
    const key = name.toLowerCase();
    const previous = headers[key];
    headers[key] = previous === undefined ? value : `${previous}${key === 'cookie' ? '; ' : ', '}${value}`;
  }
  // HTTP/2 names the host :authority (RFC 9113 §8.3.1); a hook reads `host` on either transport.
  if (transport.type === 'http2' && headers.host === undefined) headers.host = ev.host;
  const scheme = secure ? 'wss' : 'ws';
  let url: URL;
  try {
    url = new URL(ev.target.startsWith('/') ? `${scheme}://${ev.host}${ev.target}` : ev.target);
  } catch {
    url = new URL(`${scheme}://localhost${ev.path}${ev.query ? `?${ev.query}` : ''}`);
  }
  return {
    url,
    target: ev.target,
    path: ev.path,
    query: ev.query,
    headers,
    cookies: parseCookies(headers.cookie),
    origin: ev.origin,
    protocols: ev.protocols,
    extensions: ev.extensions,
    // A getter: reading it makes Node cache the peer's address object on the socket for its lifetime.
    get remoteAddress() {
      return transport.type === 'http1' ? socket.remoteAddress : transport.session.socket?.remoteAddress;
    },
    secure,
    request,
    transport,
  };
}

function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  if (header === undefined) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep the raw value
    }
    if (name !== '' && !(name in cookies)) cookies[name] = value;
  }
  return cookies;
}
