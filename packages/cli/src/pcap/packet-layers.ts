/**
 * From a captured packet's bytes to its TCP segment: the link layer (by
 * LINKTYPE_), IPv4 or IPv6, then the TCP header. Anything else is said in
 * words, never thrown: a capture holds whatever was on the wire.
 */

export interface TcpSegment {
  readonly type: 'tcp';
  readonly ipVersion: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly syn: boolean;
  readonly ackFlag: boolean;
  readonly fin: boolean;
  readonly rst: boolean;
  /** The payload bytes the capture holds. */
  readonly payload: Uint8Array;
  /** The payload's length on the wire (more than `payload.length` when the snaplen cut it). */
  readonly payloadLength: number;
}

export type PacketLayers =
  | TcpSegment
  /** Not TCP over IP (ARP, UDP, ICMP...): nothing to follow. */
  | { readonly type: 'other'; readonly what: string }
  /** Claims to be something it cannot be: headers cut or inconsistent. */
  | { readonly type: 'malformed'; readonly reason: string };

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;

/** `originalLength` is the packet's length on the wire, to tell a snaplen cut from a short packet. */
export function decodePacket(linkType: number, data: Uint8Array, originalLength: number): PacketLayers {
  const ip = linkPayload(linkType, data);
  if (ip.type !== 'ip') return ip;
  const missing = Math.max(0, originalLength - data.length);
  return decodeIp(data.subarray(ip.offset), missing);
}

type LinkResult = { readonly type: 'ip'; readonly offset: number } | Exclude<PacketLayers, TcpSegment>;

function linkPayload(linkType: number, data: Uint8Array): LinkResult {
  switch (linkType) {
    case 1: {
      if (data.length < 14) return malformed('Ethernet header cut short');
      let offset = 12;
      let etherType = be16(data, offset);
      // 802.1Q / 802.1ad tags, possibly stacked.
      while ((etherType === 0x8100 || etherType === 0x88a8) && data.length >= offset + 6) {
        offset += 4;
        etherType = be16(data, offset);
      }
      return byEtherType(etherType, offset + 2);
    }
    case 113:
      if (data.length < 16) return malformed('Linux cooked header cut short');
      return byEtherType(be16(data, 14), 16);
    case 276:
      if (data.length < 20) return malformed('Linux cooked v2 header cut short');
      return byEtherType(be16(data, 0), 20);
    case 0:
    case 108: {
      if (data.length < 4) return malformed('loopback header cut short');
      // NULL stores the address family in the capturing host's byte order, LOOP in network order.
      const be = be32(data, 0);
      const family = linkType === 108 || (be & 0xffff) !== 0 ? be : swap32(be);
      if (family === 2) return { type: 'ip', offset: 4 };
      // AF_INET6 differs between BSDs (24, 28, 30) and Linux (10).
      if (family === 24 || family === 28 || family === 30 || family === 10) return { type: 'ip', offset: 4 };
      return { type: 'other', what: `loopback address family ${family}` };
    }
    case 101:
    case 228:
    case 229:
      return { type: 'ip', offset: 0 };
    default:
      return { type: 'other', what: `link type ${linkType}, which this reader does not decode` };
  }
}

function byEtherType(etherType: number, offset: number): LinkResult {
  if (etherType === ETHERTYPE_IPV4 || etherType === ETHERTYPE_IPV6) return { type: 'ip', offset };
  return { type: 'other', what: `EtherType 0x${etherType.toString(16).padStart(4, '0')}` };
}

/** IP header chains IPv6 may carry before the transport header. */
const IPV6_EXTENSIONS = new Set([0, 43, 60, 51]);

function decodeIp(ip: Uint8Array, missing: number): PacketLayers {
  if (ip.length < 1) return malformed('IP header cut short');
  const version = (ip[0] as number) >> 4;
  if (version === 4) {
    if (ip.length < 20) return malformed('IPv4 header cut short');
    const headerLength = ((ip[0] as number) & 0x0f) * 4;
    const total = be16(ip, 2);
    if (headerLength < 20 || ip.length < headerLength)
      return malformed(`IPv4 header length ${headerLength} is invalid`);
    const fragment = be16(ip, 6);
    const protocol = ip[9] as number;
    if ((fragment & 0x3fff) !== 0) return { type: 'other', what: 'an IPv4 fragment (fragments are not reassembled)' };
    if (protocol !== 6) return { type: 'other', what: `IP protocol ${protocol}` };
    // Total length 0 appears with segmentation offload: then the captured length is all there is.
    const end = total === 0 ? ip.length + missing : total;
    if (end < headerLength) return malformed(`IPv4 total length ${total} is shorter than its header`);
    const src = Array.from(ip.subarray(12, 16)).join('.');
    const dst = Array.from(ip.subarray(16, 20)).join('.');
    return decodeTcp(4, src, dst, ip.subarray(headerLength, Math.min(end, ip.length)), end - headerLength);
  }
  if (version === 6) {
    if (ip.length < 40) return malformed('IPv6 header cut short');
    const payloadLength = be16(ip, 4);
    let next = ip[6] as number;
    let at = 40;
    while (IPV6_EXTENSIONS.has(next)) {
      if (ip.length < at + 8) return malformed('IPv6 extension header cut short');
      const length = next === 51 ? ((ip[at + 1] as number) + 2) * 4 : ((ip[at + 1] as number) + 1) * 8;
      next = ip[at] as number;
      at += length;
    }
    if (next === 44) return { type: 'other', what: 'an IPv6 fragment (fragments are not reassembled)' };
    if (next !== 6) return { type: 'other', what: `IPv6 next header ${next}` };
    const end = payloadLength === 0 ? ip.length + missing : 40 + payloadLength;
    if (end < at) return malformed('IPv6 payload length is shorter than its extension headers');
    return decodeTcp(
      6,
      ipv6Text(ip.subarray(8, 24)),
      ipv6Text(ip.subarray(24, 40)),
      ip.subarray(at, Math.min(end, ip.length)),
      end - at,
    );
  }
  return malformed(`IP version ${version}`);
}

/** `segment` is what the capture holds of it, `wireLength` its length according to the IP header. */
function decodeTcp(ipVersion: 4 | 6, src: string, dst: string, segment: Uint8Array, wireLength: number): PacketLayers {
  if (segment.length < 20) return malformed('TCP header cut short');
  const headerLength = ((segment[12] as number) >> 4) * 4;
  if (headerLength < 20 || headerLength > wireLength) return malformed(`TCP header length ${headerLength} is invalid`);
  if (segment.length < headerLength) return malformed('TCP options cut short');
  const flags = segment[13] as number;
  return {
    type: 'tcp',
    ipVersion,
    src,
    dst,
    srcPort: be16(segment, 0),
    dstPort: be16(segment, 2),
    seq: be32(segment, 4),
    ack: be32(segment, 8),
    fin: (flags & 0x01) !== 0,
    syn: (flags & 0x02) !== 0,
    rst: (flags & 0x04) !== 0,
    ackFlag: (flags & 0x10) !== 0,
    payload: segment.subarray(headerLength),
    payloadLength: wireLength - headerLength,
  };
}

function ipv6Text(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(be16(bytes, i).toString(16));
  // RFC 5952: the longest run (of two or more) of zero groups becomes "::".
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

function malformed(reason: string): { readonly type: 'malformed'; readonly reason: string } {
  return { type: 'malformed', reason };
}

function be16(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}

function be32(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}

function swap32(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}
