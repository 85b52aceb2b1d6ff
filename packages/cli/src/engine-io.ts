/**
 * Engine.IO, the transport under Socket.IO, as seen on the wire: its query
 * parameters in a request target, its packets in WebSocket messages (one
 * packet per message) and in long-polling bodies (several per body).
 *
 * Protocol versions 3 and 4 are told apart by `EIO=`. They share the packet
 * types; they differ in how polling bodies are framed (v3: `<length>:`
 * prefixes or a binary framing; v4: packets joined by U+001E) and in binary
 * packets over WebSocket (v3 prefixes a 0x04 type byte, v4 sends the bytes).
 */

export type EngineVersion = 3 | 4;

export interface EngineUrl {
  readonly version: EngineVersion | null;
  /** `EIO=` as written, when not 3 or 4. */
  readonly versionText: string;
  readonly transport: 'polling' | 'websocket' | null;
  readonly sid: string | null;
}

export interface EngineOpen {
  readonly sid: string | null;
  readonly upgrades: readonly string[];
  readonly pingInterval: number | null;
  readonly pingTimeout: number | null;
  readonly maxPayload: number | null;
}

export type EnginePacket =
  | { readonly type: 'open'; readonly open: EngineOpen | null; readonly text: string }
  | { readonly type: 'close' }
  /** `2probe` / `3probe` are the probes of an upgrade to WebSocket. */
  | { readonly type: 'ping'; readonly probe: boolean; readonly text: string }
  | { readonly type: 'pong'; readonly probe: boolean; readonly text: string }
  | { readonly type: 'message'; readonly data: string | Uint8Array }
  | { readonly type: 'upgrade' }
  | { readonly type: 'noop' }
  | { readonly type: 'invalid'; readonly reason: string };

/** The Engine.IO parameters of a request target, or null when it names none (no `EIO=`). */
export function engineUrl(target: string): EngineUrl | null {
  const q = target.indexOf('?');
  if (q === -1) return null;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(target.slice(q + 1));
  } catch {
    return null;
  }
  const eio = params.get('EIO');
  if (eio === null) return null;
  const transport = params.get('transport');
  return {
    version: eio === '3' ? 3 : eio === '4' ? 4 : null,
    versionText: eio,
    transport: transport === 'polling' || transport === 'websocket' ? transport : null,
    sid: params.get('sid'),
  };
}

const TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'] as const;

/** One packet sent as a text string (a WebSocket text message, or one packet of a polling body). */
export function decodeEngineText(text: string): EnginePacket {
  if (text.length === 0) return { type: 'invalid', reason: 'an empty Engine.IO packet' };
  const code = text.charCodeAt(0) - 0x30;
  const type = TYPES[code];
  const rest = text.slice(1);
  switch (type) {
    case 'open':
      return { type, open: parseOpen(rest), text: rest };
    case 'ping':
    case 'pong':
      return { type, probe: rest === 'probe', text: rest };
    case 'message':
      return { type, data: rest };
    case 'close':
    case 'upgrade':
    case 'noop':
      return { type };
    default:
      return { type: 'invalid', reason: `unknown Engine.IO packet type ${JSON.stringify(text[0])}` };
  }
}

/** One packet sent as a WebSocket binary message: always a message. */
export function decodeEngineBinary(bytes: Uint8Array, version: EngineVersion): EnginePacket {
  if (version === 4) return { type: 'message', data: bytes };
  // v3 keeps the packet type as the first byte.
  if (bytes[0] !== 4)
    return {
      type: 'invalid',
      reason: `a v3 binary packet of type ${bytes[0] ?? 'none'} (only 4, message, carries bytes)`,
    };
  return { type: 'message', data: bytes.subarray(1) };
}

/** The packets of a long-polling body (a GET response's or a POST request's). */
export function decodePollingBody(
  body: Uint8Array,
  version: EngineVersion,
  contentType: string | null,
): EnginePacket[] {
  if (version === 3 && contentType !== null && /octet-stream/i.test(contentType)) return decodeV3BinaryPayload(body);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body);
  if (version === 4) return text.split('\x1e').map(decodeV4Item);
  return decodeV3TextPayload(text);
}

function decodeV4Item(item: string): EnginePacket {
  // Binary data over polling: "b" then base64 of the bytes.
  if (item.startsWith('b')) {
    const bytes = fromBase64(item.slice(1));
    return bytes === null
      ? { type: 'invalid', reason: 'binary packet with invalid base64' }
      : { type: 'message', data: bytes };
  }
  return decodeEngineText(item);
}

function decodeV3TextPayload(text: string): EnginePacket[] {
  const out: EnginePacket[] = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    const length = colon === -1 ? Number.NaN : Number(text.slice(at, colon));
    if (!Number.isInteger(length) || colon - at > 10 || colon + 1 + length > text.length) {
      out.push({ type: 'invalid', reason: `v3 payload framing broken at character ${at}` });
      return out;
    }
    const item = text.slice(colon + 1, colon + 1 + length);
    if (item.startsWith('b4')) {
      const bytes = fromBase64(item.slice(2));
      out.push(
        bytes === null
          ? { type: 'invalid', reason: 'binary packet with invalid base64' }
          : { type: 'message', data: bytes },
      );
    } else out.push(decodeEngineText(item));
    at = colon + 1 + length;
  }
  return out;
}

/** v3's XHR2 framing: a 0 (string) or 1 (binary) byte, the length in decimal digit bytes, 0xFF, the packet. */
function decodeV3BinaryPayload(body: Uint8Array): EnginePacket[] {
  const out: EnginePacket[] = [];
  let at = 0;
  while (at < body.length) {
    const kind = body[at] as number;
    let length = 0;
    let i = at + 1;
    while (i < body.length && body[i] !== 0xff && i - at < 12) length = length * 10 + (body[i++] as number);
    if ((kind !== 0 && kind !== 1) || body[i] !== 0xff || i + 1 + length > body.length) {
      out.push({ type: 'invalid', reason: `v3 binary payload framing broken at byte ${at}` });
      return out;
    }
    const packet = body.subarray(i + 1, i + 1 + length);
    out.push(kind === 0 ? decodeEngineText(new TextDecoder().decode(packet)) : decodeEngineBinary(packet, 3));
    at = i + 1 + length;
  }
  return out;
}

function parseOpen(json: string): EngineOpen | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const num = (x: unknown) => (typeof x === 'number' ? x : null);
  return {
    sid: typeof v.sid === 'string' ? v.sid : null,
    upgrades: Array.isArray(v.upgrades) ? v.upgrades.filter((u): u is string => typeof u === 'string') : [],
    pingInterval: num(v.pingInterval),
    pingTimeout: num(v.pingTimeout),
    maxPayload: num(v.maxPayload),
  };
}

function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
