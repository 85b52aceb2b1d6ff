/**
 * The HTTP/1.1 handshake an HTTP/2 extended CONNECT (RFC 8441) amounts to,
 * for the dissector, which reads HTTP/1.1 heads only: the same target,
 * offers and subprotocols, and a 101 with what the server agreed. Given to
 * it unprinted before a stream's DATA, it dissects the frames with the
 * agreement the stream really has.
 */
import { computeAcceptKey, HttpHeaders } from '@rfc6455/codec';
import type { SessionDissector } from './dissector.js';

/** RFC 8441 has no key; the stand-in request needs one (the RFC 6455 §1.3 example's). */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const encoder = new TextEncoder();

export function primeForExtendedConnect(
  dissector: SessionDissector,
  request: Iterable<readonly [string, string]>,
  response: Iterable<readonly [string, string]>,
): void {
  const req = new HttpHeaders(request);
  const res = new HttpHeaders(response);
  const field = (headers: HttpHeaders, name: string, as: string): string[] => {
    const value = headers.get(name);
    return value === undefined ? [] : [`${as}: ${value}`];
  };
  const requestHead = [
    `GET ${req.get(':path') ?? '/'} HTTP/1.1`,
    `Host: ${req.get(':authority') ?? 'localhost'}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`,
    'Sec-WebSocket-Version: 13',
    ...field(req, 'sec-websocket-protocol', 'Sec-WebSocket-Protocol'),
    ...field(req, 'sec-websocket-extensions', 'Sec-WebSocket-Extensions'),
    '',
    '',
  ];
  dissector.push('client', encoder.encode(requestHead.join('\r\n')));
  const responseHead = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${computeAcceptKey(KEY)}`,
    ...field(res, 'sec-websocket-protocol', 'Sec-WebSocket-Protocol'),
    ...field(res, 'sec-websocket-extensions', 'Sec-WebSocket-Extensions'),
    '',
    '',
  ];
  dissector.push('server', encoder.encode(responseHead.join('\r\n')));
}
