/**
 * One message to many connections, encoded once per kind of connection.
 * Server frames are not masked, so the same bytes can go to every socket; only
 * compression tells connections apart. A connection whose permessage-deflate
 * keeps no server context shares one compressed encoding with every other
 * connection of the same window size (`endpoint.sharedEncoding`); every other
 * connection (no deflate, or a deflater whose output depends on that
 * connection's history) gets the plain frame, which RFC 7692 allows at any
 * time since RSV1 is per message. Used by `broadcast` and topic deliveries.
 */
import type { MessagePreEncoder, PreEncodedMessage } from '@rfc6455/codec/frames';
import type { WebSocket } from './websocket.js';

/** A data message as the pre-encoder takes it. */
export type FanOutMessage =
  | { readonly type: 'text'; readonly data: string }
  | { readonly type: 'binary'; readonly data: Uint8Array };

/**
 * Writes `message` to every connection in `targets` that `filter` keeps,
 * encoding it lazily, once per encoding: a kind no target has costs nothing.
 * Each connection's backpressure policy applies. Calls `onRefused` for a
 * connection that stays open although the message was dropped (over
 * `maxBufferedAmount` with `onBufferOverflow: 'drop'`). Returns how many
 * connections it was written to.
 */
export function fanOut<Data>(
  preEncoder: MessagePreEncoder,
  message: FanOutMessage,
  targets: Iterable<WebSocket<Data>>,
  filter?: (ws: WebSocket<Data>) => boolean,
  onRefused?: (ws: WebSocket<Data>) => void,
): number {
  let plain: PreEncodedMessage | undefined;
  let shared: Map<string, PreEncodedMessage> | undefined;
  let sent = 0;
  for (const ws of targets) {
    if (filter !== undefined && !filter(ws)) continue;
    const endpoint = ws.endpoint;
    const key = endpoint.sharedEncoding;
    let encoded = key === '' ? plain : shared?.get(key);
    if (encoded === undefined) {
      encoded = preEncoder.encode(message, endpoint.extensions);
      if (key === '') plain = encoded;
      else (shared ??= new Map()).set(key, encoded);
    }
    if (ws.sendPreEncoded(encoded)) sent++;
    else if (onRefused !== undefined && ws.readyState === 1) onRefused(ws);
  }
  return sent;
}
