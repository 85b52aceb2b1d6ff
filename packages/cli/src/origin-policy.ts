/**
 * Which web pages may open the demo's WebSockets. A browser lets any page
 * open a WebSocket to any address and sends the page's origin along; the
 * server is the only one who can refuse. Without this check a page on any
 * site the user visits could open ws://localhost:8080/inspect and read
 * everything the demo relays (cross-site WebSocket hijacking).
 */
import { UsageError } from '@rfc6455/codec';

export interface OriginPolicyOptions {
  /** The port the page is served on (the front's, once listening). */
  readonly port: number;
  /** The address the front was bound to (--host). */
  readonly host: string;
  /** Further origins to accept, e.g. `https://tools.example` (already normalized by `parseOrigin`). */
  readonly allowedOrigins?: readonly string[];
  /** Accept every origin: any page the user visits can then use the demo. */
  readonly allowAnyOrigin?: boolean;
}

/** Decides on an upgrade's `Origin` header value (null when the request had none). */
export type OriginCheck = (origin: string | null) => boolean;

/**
 * The page's own origins (http://localhost:PORT, http://127.0.0.1:PORT,
 * http://[::1]:PORT and the bound host) plus the allowed ones. A request
 * without Origin passes: browsers always send one with a WebSocket
 * handshake, so only non-browser clients (wscat, `rfc6455 connect`) omit
 * it, and they are not the ones a web page can borrow.
 */
export function originPolicy(options: OriginPolicyOptions): OriginCheck {
  if (options.allowAnyOrigin === true) return () => true;
  const allowed = new Set(options.allowedOrigins ?? []);
  for (const name of ['localhost', '127.0.0.1', '[::1]', bracketed(options.host)]) {
    // A wildcard bind address is not something a page is served from.
    if (name === '0.0.0.0' || name === '[::]') continue;
    const url = tryUrl(`http://${name}:${options.port}`);
    if (url !== null) allowed.add(url.origin);
  }
  return (origin) => origin === null || allowed.has(origin);
}

/**
 * Checks an origin given on the command line and returns it as a browser
 * serializes it (lower-case host, default port left out), or throws a
 * `UsageError` (ERR_INVALID_ARGUMENT). `null` is the origin of sandboxed
 * and file:// pages.
 */
export function parseOrigin(text: string): string {
  if (text === 'null') return text;
  const url = tryUrl(text);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(
      'ERR_INVALID_ARGUMENT',
      `"${text}" is not an origin; give scheme://host[:port], e.g. https://tools.example`,
    );
  }
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new UsageError(
      'ERR_INVALID_ARGUMENT',
      `"${text}" is not an origin: an origin has no path, query or credentials (try ${url.origin})`,
    );
  }
  return url.origin;
}

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function tryUrl(text: string): URL | null {
  return URL.canParse(text) ? new URL(text) : null;
}
