/**
 * Captures written by the tests themselves: a TCP conversation turned into
 * IPv4/IPv6 packets, wrapped in a link layer, written as pcap or pcapng.
 * Written from the format specifications (pcap-savefile(5), the pcapng
 * draft, tcpdump.org's link types), so tshark can read the same files.
 */
import { deflateRawSync, constants } from 'node:zlib';
import { computeAcceptKey } from '@rfc6455/codec/http';
import { encodeFrame } from '@rfc6455/codec/frames';

export type LinkType = 'ethernet' | 'sll' | 'sll2' | 'null' | 'loop' | 'raw';
const LINK_TYPE_NUMBER: Record<LinkType, number> = {
  ethernet: 1,
  sll: 113,
  sll2: 276,
  null: 0,
  loop: 108,
  raw: 101,
};

export interface Packet {
  readonly from: 'client' | 'server';
  /** The IP packet. */
  readonly ip: Uint8Array;
  readonly seq: number;
  /** TCP payload bytes. */
  readonly length: number;
}

export interface Conversation {
  readonly ipVersion: 4 | 6;
  readonly clientPort: number;
  readonly serverPort: number;
  /** Include the three-way handshake. */
  readonly syn?: boolean;
  /** Include FINs at the end. */
  readonly fin?: boolean;
  /** Largest TCP payload per packet. */
  readonly mss?: number;
  /** The client's initial sequence number (default: just below 2^32, so it wraps). */
  readonly clientIsn?: number;
}

const CLIENT_ISN = 0xfffff000; // near the wrap, so sequence numbers wrap inside the tests
const SERVER_ISN = 0x10000000;

/** Turns what each side writes, in order, into TCP/IP packets (every segment acknowledges what the other side sent). */
export function tcpPackets(
  conv: Conversation,
  writes: readonly { from: 'client' | 'server'; bytes: Uint8Array }[],
): Packet[] {
  const mss = conv.mss ?? 1400;
  const next = { client: conv.clientIsn ?? CLIENT_ISN, server: SERVER_ISN };
  const out: Packet[] = [];
  const push = (from: 'client' | 'server', flags: number, payload: Uint8Array) => {
    const other = from === 'client' ? 'server' : 'client';
    const seq = next[from] >>> 0;
    out.push({ from, ip: ipPacket(conv, from, seq, next[other] >>> 0, flags, payload), seq, length: payload.length });
    next[from] = (next[from] + payload.length + (flags & 0x03 ? 1 : 0)) >>> 0;
  };
  if (conv.syn !== false) {
    push('client', 0x02, new Uint8Array(0));
    push('server', 0x12, new Uint8Array(0));
    push('client', 0x10, new Uint8Array(0));
  }
  for (const w of writes)
    for (let at = 0; at < w.bytes.length; at += mss) push(w.from, 0x18, w.bytes.subarray(at, at + mss));
  if (conv.fin !== false) {
    push('client', 0x11, new Uint8Array(0));
    push('server', 0x11, new Uint8Array(0));
    push('client', 0x10, new Uint8Array(0));
  }
  return out;
}

function ipPacket(
  conv: Conversation,
  from: 'client' | 'server',
  seq: number,
  ack: number,
  flags: number,
  payload: Uint8Array,
): Uint8Array {
  const tcp = new Uint8Array(20 + payload.length);
  const v = new DataView(tcp.buffer);
  v.setUint16(0, from === 'client' ? conv.clientPort : conv.serverPort);
  v.setUint16(2, from === 'client' ? conv.serverPort : conv.clientPort);
  v.setUint32(4, seq);
  v.setUint32(8, flags === 0x02 ? 0 : ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags === 0x02 ? 0x02 : flags | 0x10;
  v.setUint16(14, 65535);
  tcp.set(payload, 20);
  if (conv.ipVersion === 4) {
    const ip = new Uint8Array(20 + tcp.length);
    const d = new DataView(ip.buffer);
    ip[0] = 0x45;
    d.setUint16(2, ip.length);
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = 6;
    ip.set(from === 'client' ? [10, 0, 0, 1] : [10, 0, 0, 2], 12);
    ip.set(from === 'client' ? [10, 0, 0, 2] : [10, 0, 0, 1], 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += d.getUint16(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    d.setUint16(10, ~sum & 0xffff);
    ip.set(tcp, 20);
    return ip;
  }
  const ip = new Uint8Array(40 + tcp.length);
  const d = new DataView(ip.buffer);
  ip[0] = 0x60;
  d.setUint16(4, tcp.length);
  ip[6] = 6;
  ip[7] = 64;
  const a = new Uint8Array(16);
  a.set([0x20, 0x01, 0x0d, 0xb8]);
  const b = a.slice();
  a[15] = 1;
  b[15] = 2;
  ip.set(from === 'client' ? a : b, 8);
  ip.set(from === 'client' ? b : a, 24);
  ip.set(tcp, 40);
  return ip;
}

/** The IP packet inside the given link layer. */
function linkFrame(link: LinkType, ip: Uint8Array): Uint8Array {
  const v6 = (ip[0] as number) >> 4 === 6;
  const etherType = v6 ? 0x86dd : 0x0800;
  let header: Uint8Array;
  switch (link) {
    case 'ethernet':
      header = new Uint8Array(14);
      header.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
      new DataView(header.buffer).setUint16(12, etherType);
      break;
    case 'sll':
      header = new Uint8Array(16);
      new DataView(header.buffer).setUint16(2, 772); // ARPHRD_LOOPBACK
      new DataView(header.buffer).setUint16(14, etherType);
      break;
    case 'sll2':
      header = new Uint8Array(20);
      new DataView(header.buffer).setUint16(0, etherType);
      new DataView(header.buffer).setUint32(4, 1);
      new DataView(header.buffer).setUint16(8, 772);
      break;
    case 'null':
      // Host byte order: written little-endian, as on x86.
      header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, v6 ? 30 : 2, true);
      break;
    case 'loop':
      header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, v6 ? 24 : 2, false);
      break;
    case 'raw':
      header = new Uint8Array(0);
      break;
  }
  const out = new Uint8Array(header.length + ip.length);
  out.set(header);
  out.set(ip, header.length);
  return out;
}

export interface WriteOptions {
  readonly format: 'pcap' | 'pcapng';
  readonly link: LinkType;
  /** Bytes kept of each packet (the rest is cut, as a capture's snaplen does). */
  readonly snaplen?: number;
  readonly bigEndian?: boolean;
}

/** A capture file of these IP packets, 1 ms apart. */
export function writeCapture(ips: readonly Uint8Array[], options: WriteOptions): Uint8Array {
  const snaplen = options.snaplen ?? 262144;
  const little = options.bigEndian !== true;
  const parts: Uint8Array[] = [];
  const linkType = LINK_TYPE_NUMBER[options.link];
  const block = (size: number, fill: (d: DataView) => void) => {
    const b = new Uint8Array(size);
    fill(new DataView(b.buffer));
    parts.push(b);
  };
  if (options.format === 'pcap') {
    block(24, (d) => {
      d.setUint32(0, 0xa1b2c3d4, little);
      d.setUint16(4, 2, little);
      d.setUint16(6, 4, little);
      d.setUint32(16, snaplen, little);
      d.setUint32(20, linkType, little);
    });
    ips.forEach((ip, i) => {
      const frame = linkFrame(options.link, ip);
      const kept = frame.subarray(0, snaplen);
      block(16, (d) => {
        d.setUint32(0, 1_700_000_000, little);
        d.setUint32(4, i * 1000, little);
        d.setUint32(8, kept.length, little);
        d.setUint32(12, frame.length, little);
      });
      parts.push(kept.slice());
    });
  } else {
    block(28, (d) => {
      d.setUint32(0, 0x0a0d0d0a, little);
      d.setUint32(4, 28, little);
      d.setUint32(8, 0x1a2b3c4d, little);
      d.setUint16(12, 1, little);
      d.setUint16(14, 0, little);
      d.setBigInt64(16, -1n, little);
      d.setUint32(24, 28, little);
    });
    // Interface with if_tsresol = 9 (nanoseconds), to exercise the option.
    block(32, (d) => {
      d.setUint32(0, 1, little);
      d.setUint32(4, 32, little);
      d.setUint16(8, linkType, little);
      d.setUint32(12, snaplen, little);
      d.setUint16(16, 9, little);
      d.setUint16(18, 1, little);
      d.setUint8(20, 9);
      d.setUint16(24, 0, little);
      d.setUint16(26, 0, little);
      d.setUint32(28, 32, little);
    });
    ips.forEach((ip, i) => {
      const frame = linkFrame(options.link, ip);
      const kept = frame.subarray(0, snaplen);
      const padded = Math.ceil(kept.length / 4) * 4;
      const size = 32 + padded;
      const ns = 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n;
      const b = new Uint8Array(size);
      const d = new DataView(b.buffer);
      d.setUint32(0, 6, little);
      d.setUint32(4, size, little);
      d.setUint32(8, 0, little);
      d.setUint32(12, Number(ns >> 32n), little);
      d.setUint32(16, Number(ns & 0xffffffffn), little);
      d.setUint32(20, kept.length, little);
      d.setUint32(24, frame.length, little);
      b.set(kept, 28);
      d.setUint32(size - 4, size, little);
      parts.push(b);
    });
  }
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const utf8 = new TextEncoder();
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A client frame: masked with a fixed key so runs are reproducible. */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string,
  init: { fin?: boolean; rsv1?: boolean } = {},
): Uint8Array {
  const bytes = typeof payload === 'string' ? utf8.encode(payload) : payload;
  return encodeFrame(
    { opcode, fin: init.fin ?? true, rsv: init.rsv1 ? 0x40 : 0, maskKey: Uint8Array.from([1, 2, 3, 4]) },
    bytes,
  );
}

export function serverFrame(
  opcode: number,
  payload: Uint8Array | string,
  init: { fin?: boolean; rsv1?: boolean } = {},
): Uint8Array {
  const bytes = typeof payload === 'string' ? utf8.encode(payload) : payload;
  return encodeFrame({ opcode, fin: init.fin ?? true, rsv: init.rsv1 ? 0x40 : 0 }, bytes);
}

/** An upgrade request and its 101, optionally agreeing permessage-deflate. */
export function handshake(deflate: boolean, target = '/chat'): { request: Uint8Array; response: Uint8Array } {
  const ext = deflate ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '';
  return {
    request: utf8.encode(
      `GET ${target} HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${ext}\r\n`,
    ),
    response: utf8.encode(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(KEY)}\r\n${ext}\r\n`,
    ),
  };
}

/** permessage-deflate's compression of one message (RFC 7692 §7.2.1: sync flush, tail removed). */
export function deflateMessage(data: Uint8Array): Uint8Array {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}
