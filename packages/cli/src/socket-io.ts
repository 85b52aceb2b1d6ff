/**
 * Socket.IO packets inside Engine.IO messages: `<type>[<attachments>-][/<nsp>,][<ack id>][<json>]`.
 * A binary event or ack names how many attachments follow it as separate
 * Engine.IO binary messages; the assembler joins them, putting each in place
 * of its `{"_placeholder":true,"num":n}`.
 */

export type SocketIoPacketType =
  | 'connect'
  | 'disconnect'
  | 'event'
  | 'ack'
  | 'connect-error'
  | 'binary-event'
  | 'binary-ack';

const TYPES: readonly SocketIoPacketType[] = [
  'connect',
  'disconnect',
  'event',
  'ack',
  'connect-error',
  'binary-event',
  'binary-ack',
];

export interface SocketIoPacket {
  readonly type: SocketIoPacketType;
  readonly namespace: string;
  /** The ack id: an event that wants an answer, or the answer to one. */
  readonly id: number | null;
  readonly attachments: number;
  /** The JSON payload, binary placeholders replaced once the attachments arrived. */
  readonly data: unknown;
}

export type SocketIoParse =
  | { readonly type: 'packet'; readonly packet: SocketIoPacket }
  | { readonly type: 'invalid'; readonly reason: string };

/** Limits what a hostile peer can make the decoder hold. */
const MAX_ATTACHMENTS = 1000;

export function parseSocketIoPacket(text: string): SocketIoParse {
  const type = TYPES[text.charCodeAt(0) - 0x30];
  if (type === undefined || text.length === 0)
    return { type: 'invalid', reason: `unknown Socket.IO packet type ${JSON.stringify(text.slice(0, 1))}` };
  let at = 1;
  let attachments = 0;
  if (type === 'binary-event' || type === 'binary-ack') {
    const dash = text.indexOf('-', at);
    const count = dash === -1 ? Number.NaN : Number(text.slice(at, dash));
    if (!/^\d{1,6}$/.test(text.slice(at, dash)) || !Number.isInteger(count) || count > MAX_ATTACHMENTS)
      return { type: 'invalid', reason: 'a binary packet without a valid attachment count' };
    attachments = count;
    at = dash + 1;
  }
  let namespace = '/';
  if (text[at] === '/') {
    const comma = text.indexOf(',', at);
    namespace = comma === -1 ? text.slice(at) : text.slice(at, comma);
    at = comma === -1 ? text.length : comma + 1;
  }
  let digits = '';
  while (at < text.length && /\d/.test(text[at] as string) && digits.length < 16) digits += text[at++];
  const id = digits === '' ? null : Number(digits);
  let data: unknown;
  if (at < text.length) {
    try {
      data = JSON.parse(text.slice(at));
    } catch {
      return { type: 'invalid', reason: `a ${type} packet whose payload is not JSON` };
    }
  }
  if ((type === 'event' || type === 'binary-event') && (!Array.isArray(data) || data.length === 0))
    return { type: 'invalid', reason: 'an event whose payload is not a non-empty array' };
  return { type: 'packet', packet: { type, namespace, id, attachments, data } };
}

export type SocketIoItem =
  | { readonly type: 'packet'; readonly packet: SocketIoPacket }
  | { readonly type: 'waiting'; readonly packet: SocketIoPacket; readonly received: number }
  | { readonly type: 'invalid'; readonly reason: string };

/** One direction of one Engine.IO session: turns its messages into whole Socket.IO packets. */
export class SocketIoAssembler {
  private pending: { packet: SocketIoPacket; buffers: Uint8Array[] } | null = null;

  /** One Engine.IO message (text or binary). */
  push(data: string | Uint8Array): SocketIoItem {
    if (typeof data !== 'string') {
      const pending = this.pending;
      if (pending === null)
        return { type: 'invalid', reason: `a binary message (${data.length} bytes) no binary packet announced` };
      pending.buffers.push(data);
      if (pending.buffers.length < pending.packet.attachments)
        return { type: 'waiting', packet: pending.packet, received: pending.buffers.length };
      this.pending = null;
      return { type: 'packet', packet: { ...pending.packet, data: fill(pending.packet.data, pending.buffers) } };
    }
    const parsed = parseSocketIoPacket(data);
    if (parsed.type === 'invalid') return parsed;
    const incomplete = this.pending;
    this.pending = null;
    if (incomplete !== null)
      return {
        type: 'invalid',
        reason: `a text packet arrived while a ${incomplete.packet.type} still waited for ${incomplete.packet.attachments - incomplete.buffers.length} attachment(s)`,
      };
    if (parsed.packet.attachments > 0) {
      this.pending = { packet: parsed.packet, buffers: [] };
      return { type: 'waiting', packet: parsed.packet, received: 0 };
    }
    return parsed;
  }
}

function fill(value: unknown, buffers: readonly Uint8Array[]): unknown {
  if (Array.isArray(value)) return value.map((v) => fill(v, buffers));
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    if (v._placeholder === true && typeof v.num === 'number') return buffers[v.num] ?? value;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, buffers)]));
  }
  return value;
}

/**
 * With connection state recovery the server appends its offset to every
 * event it sends; the CONNECT it answers carries `pid` (and the client's
 * CONNECT, when recovering, `pid` and `offset`).
 */
export function recoveryOffset(packet: SocketIoPacket): string | null {
  if ((packet.type !== 'event' && packet.type !== 'binary-event') || !Array.isArray(packet.data)) return null;
  const last = packet.data[packet.data.length - 1];
  return typeof last === 'string' ? last : null;
}
