/**
 * Reads pcap and pcapng capture files from chunks of bytes (a file stream,
 * a browser File's stream) into packets, one at a time.
 *
 * Written here rather than taken from npm: the two formats are small and
 * fully specified (libpcap's file format, and draft-ietf-opsawg-pcapng), the
 * npm readers we could find either need Node's Buffer and streams (this runs
 * in the demo page too) or read pcap only, and a reader that must say
 * exactly where a hostile or truncated file went wrong is easier to trust
 * when every length it believes is checked in front of us.
 *
 * Memory stays bounded: only the record being read is held, and no record
 * may claim more than `maxRecordLength` bytes.
 */
import { ByteQueue } from './byte-queue.js';

export interface CapturePacket {
  readonly type: 'packet';
  /** 1-based, as Wireshark numbers them. */
  readonly number: number;
  /** File offset of the packet's record. */
  readonly fileOffset: number;
  /** A LINKTYPE_ value (tcpdump.org/linktypes.html). */
  readonly linkType: number;
  /** Seconds since the Unix epoch (µs precision survives; ns may round). */
  readonly time: number;
  readonly capturedLength: number;
  readonly originalLength: number;
  readonly data: Uint8Array;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export type CaptureItem =
  | { readonly type: 'format'; readonly format: CaptureFormat; readonly detail: string }
  | CapturePacket
  /** The file cannot be read further; always the last item. */
  | { readonly type: 'error'; readonly fileOffset: number; readonly reason: string }
  /** Every byte was read. Always the last item when there was no error. */
  | { readonly type: 'end'; readonly packets: number; readonly bytes: number };

export interface CaptureReaderOptions {
  /** Largest record (pcap packet record, pcapng block) believed, in bytes (default 16 MiB). */
  readonly maxRecordLength?: number;
}

const DEFAULT_MAX_RECORD_LENGTH = 16 * 1024 * 1024;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;

class CaptureFileError extends Error {
  constructor(
    readonly fileOffset: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The packets of a capture. Never throws for what the file contains: a
 * problem ends the iteration with an `error` item saying where and why.
 */
export async function* readCapture(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: CaptureReaderOptions = {},
): AsyncGenerator<CaptureItem> {
  const maxRecord = options.maxRecordLength ?? DEFAULT_MAX_RECORD_LENGTH;
  const queue = new ByteQueue();
  const source = (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]
    ? (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
    : toAsync((chunks as Iterable<Uint8Array>)[Symbol.iterator]());
  let ended = false;
  /** Waits until `n` bytes are queued; false when the input ended first. */
  const fill = async (n: number): Promise<boolean> => {
    while (queue.length < n && !ended) {
      const next = await source.next();
      if (next.done === true) ended = true;
      else queue.push(next.value);
    }
    return queue.length >= n;
  };
  let packets = 0;
  try {
    if (!(await fill(4))) {
      yield fail(
        queue.offset,
        queue.length === 0 ? 'the file is empty' : `the file is only ${queue.length} bytes long`,
      );
      return;
    }
    const magic = queue.peek(4);
    const reader = recognise(magic);
    if (reader === null) {
      yield fail(0, `not a pcap or pcapng file (it starts with ${hex(magic)})`);
      return;
    }
    const parse = reader === 'pcapng' ? readPcapng : readPcap;
    for await (const item of parse(queue, fill, maxRecord)) {
      if (item.type === 'packet') packets++;
      yield item;
    }
    yield { type: 'end', packets, bytes: queue.offset };
  } catch (error) {
    if (error instanceof CaptureFileError) yield fail(error.fileOffset, error.message);
    else throw error;
  } finally {
    await source.return?.();
  }
}

type Fill = (n: number) => Promise<boolean>;

function recognise(magic: Uint8Array): CaptureFormat | null {
  const be = u32(magic, 0, false);
  if (be === PCAPNG_SHB) return 'pcapng';
  const le = u32(magic, 0, true);
  for (const m of [be, le]) if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) return 'pcap';
  return null;
}

async function* readPcap(queue: ByteQueue, fill: Fill, maxRecord: number): AsyncGenerator<CaptureItem> {
  if (!(await fill(24))) throw truncated(queue, 'the pcap file header', 24);
  const header = queue.take(24);
  const little = u32(header, 0, true) === 0xa1b2c3d4 || u32(header, 0, true) === 0xa1b23c4d;
  const nano = u32(header, 0, little) === 0xa1b23c4d;
  const major = u16(header, 4, little);
  const minor = u16(header, 6, little);
  const snaplen = u32(header, 16, little);
  // The upper bits of the link-type field carry FCS information (pcap-savefile(5)).
  const linkType = u32(header, 20, little) & 0x0fff_ffff;
  yield {
    type: 'format',
    format: 'pcap',
    detail: `pcap ${major}.${minor}, ${little ? 'little' : 'big'}-endian, ${nano ? 'ns' : 'µs'} timestamps, link type ${linkType}, snaplen ${snaplen}`,
  };
  let number = 0;
  for (;;) {
    if (!(await fill(1))) return;
    const fileOffset = queue.offset;
    if (!(await fill(16))) throw truncated(queue, `the record header of packet ${number + 1}`, 16);
    const record = queue.take(16);
    const seconds = u32(record, 0, little);
    const fraction = u32(record, 4, little);
    const captured = u32(record, 8, little);
    const original = u32(record, 12, little);
    if (captured > maxRecord)
      throw new CaptureFileError(
        fileOffset,
        `packet ${number + 1} claims ${captured} captured bytes, more than the ${maxRecord} believed (a corrupt file?)`,
      );
    if (!(await fill(captured))) throw truncated(queue, `packet ${number + 1}`, captured);
    const data = queue.take(captured);
    number++;
    yield {
      type: 'packet',
      number,
      fileOffset,
      linkType,
      time: seconds + fraction / (nano ? 1e9 : 1e6),
      capturedLength: captured,
      originalLength: Math.max(original, captured),
      data,
    };
  }
}

interface PcapngInterface {
  readonly linkType: number;
  readonly snaplen: number;
  /** Timestamp units per second. */
  readonly unitsPerSecond: bigint;
  readonly offsetSeconds: bigint;
}

async function* readPcapng(queue: ByteQueue, fill: Fill, maxRecord: number): AsyncGenerator<CaptureItem> {
  let little = true;
  let interfaces: PcapngInterface[] = [];
  let number = 0;
  let first = true;
  for (;;) {
    if (!(await fill(1))) return;
    const fileOffset = queue.offset;
    if (!(await fill(12))) throw truncated(queue, 'a pcapng block header', 12);
    const start = queue.peek(12);
    const type = u32(start, 0, little);
    if (type === PCAPNG_SHB || u32(start, 0, !little) === PCAPNG_SHB) {
      // A section header sets the byte order of everything up to the next one.
      const order = u32(start, 8, true);
      if (order === PCAPNG_BYTE_ORDER) little = true;
      else if (u32(start, 8, false) === PCAPNG_BYTE_ORDER) little = false;
      else
        throw new CaptureFileError(
          fileOffset + 8,
          `section header with an unknown byte-order magic ${hex(start.subarray(8, 12))}`,
        );
    } else if (first) {
      throw new CaptureFileError(fileOffset, 'a pcapng file must begin with a section header block');
    }
    first = false;
    const blockType = u32(start, 0, little);
    const length = u32(start, 4, little);
    if (length < 12 || length % 4 !== 0)
      throw new CaptureFileError(
        fileOffset + 4,
        `block of type 0x${blockType.toString(16)} has an invalid length ${length}`,
      );
    if (length > maxRecord)
      throw new CaptureFileError(
        fileOffset + 4,
        `block of type 0x${blockType.toString(16)} claims ${length} bytes, more than the ${maxRecord} believed (a corrupt file?)`,
      );
    if (!(await fill(length))) throw truncated(queue, `a block of type 0x${blockType.toString(16)}`, length);
    const block = queue.take(length);
    if (u32(block, length - 4, little) !== length)
      throw new CaptureFileError(
        fileOffset + length - 4,
        `block of type 0x${blockType.toString(16)}: its trailing length does not repeat ${length}`,
      );
    const body = block.subarray(8, length - 4);
    switch (blockType) {
      case PCAPNG_SHB: {
        if (body.length < 16) throw new CaptureFileError(fileOffset, 'section header block too short');
        interfaces = [];
        yield {
          type: 'format',
          format: 'pcapng',
          detail: `pcapng ${u16(body, 4, little)}.${u16(body, 6, little)}, ${little ? 'little' : 'big'}-endian section`,
        };
        break;
      }
      case 1: {
        if (body.length < 8) throw new CaptureFileError(fileOffset, 'interface description block too short');
        interfaces.push(interfaceFrom(body, little, fileOffset));
        break;
      }
      case 6: {
        if (body.length < 20) throw new CaptureFileError(fileOffset, 'enhanced packet block too short');
        const id = u32(body, 0, little);
        const iface = interfaces[id];
        if (iface === undefined)
          throw new CaptureFileError(
            fileOffset,
            `enhanced packet block names interface ${id}, which was not described`,
          );
        const captured = u32(body, 12, little);
        const original = u32(body, 16, little);
        if (20 + captured > body.length)
          throw new CaptureFileError(
            fileOffset,
            `enhanced packet block's ${captured} captured bytes overrun the block`,
          );
        number++;
        yield {
          type: 'packet',
          number,
          fileOffset,
          linkType: iface.linkType,
          time: timestamp(iface, u32(body, 4, little), u32(body, 8, little)),
          capturedLength: captured,
          originalLength: Math.max(original, captured),
          data: body.slice(20, 20 + captured),
        };
        break;
      }
      case 3: {
        // Simple packet block: interface 0, no timestamp.
        const iface = interfaces[0];
        if (iface === undefined || body.length < 4)
          throw new CaptureFileError(fileOffset, 'simple packet block without an interface 0 (or too short)');
        const original = u32(body, 0, little);
        const captured = Math.min(original, body.length - 4, iface.snaplen === 0 ? original : iface.snaplen);
        number++;
        yield {
          type: 'packet',
          number,
          fileOffset,
          linkType: iface.linkType,
          time: 0,
          capturedLength: captured,
          originalLength: original,
          data: body.slice(4, 4 + captured),
        };
        break;
      }
      case 2: {
        // The obsolete packet block, still written by old tools.
        if (body.length < 20) throw new CaptureFileError(fileOffset, 'packet block too short');
        const iface = interfaces[u16(body, 0, little)];
        if (iface === undefined) throw new CaptureFileError(fileOffset, 'packet block names an undescribed interface');
        const captured = u32(body, 12, little);
        if (20 + captured > body.length)
          throw new CaptureFileError(fileOffset, `packet block's ${captured} captured bytes overrun the block`);
        number++;
        yield {
          type: 'packet',
          number,
          fileOffset,
          linkType: iface.linkType,
          time: timestamp(iface, u32(body, 4, little), u32(body, 8, little)),
          capturedLength: captured,
          originalLength: Math.max(u32(body, 16, little), captured),
          data: body.slice(20, 20 + captured),
        };
        break;
      }
      default:
        // Name resolution, statistics, custom and decryption-secret blocks carry no packets.
        break;
    }
  }
}

function interfaceFrom(body: Uint8Array, little: boolean, fileOffset: number): PcapngInterface {
  const linkType = u16(body, 0, little);
  const snaplen = u32(body, 4, little);
  let unitsPerSecond = 1_000_000n;
  let offsetSeconds = 0n;
  let at = 8;
  while (at + 4 <= body.length) {
    const code = u16(body, at, little);
    const length = u16(body, at + 2, little);
    if (code === 0) break;
    if (at + 4 + length > body.length)
      throw new CaptureFileError(fileOffset, `interface option ${code} overruns its block`);
    const value = body.subarray(at + 4, at + 4 + length);
    if (code === 9 && length >= 1) {
      const r = value[0] as number;
      const exponent = BigInt(r & 0x7f);
      // High bit set: a negative power of two, else of ten.
      unitsPerSecond = (r & 0x80) !== 0 ? 1n << exponent : 10n ** exponent;
      if (unitsPerSecond === 0n || exponent > 63n)
        throw new CaptureFileError(fileOffset, `interface timestamp resolution 0x${r.toString(16)} is not usable`);
    } else if (code === 14 && length >= 8) {
      offsetSeconds = new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0, little);
    }
    at += 4 + length + ((4 - (length % 4)) % 4);
  }
  return { linkType, snaplen, unitsPerSecond, offsetSeconds };
}

function timestamp(iface: PcapngInterface, high: number, low: number): number {
  const units = (BigInt(high) << 32n) | BigInt(low);
  const whole = units / iface.unitsPerSecond + iface.offsetSeconds;
  return Number(whole) + Number(units % iface.unitsPerSecond) / Number(iface.unitsPerSecond);
}

function truncated(queue: ByteQueue, what: string, need: number): CaptureFileError {
  return new CaptureFileError(
    queue.offset,
    `the file ends inside ${what}: ${queue.length} of ${need} bytes at offset ${queue.offset} (a truncated capture?)`,
  );
}

function fail(fileOffset: number, reason: string): CaptureItem {
  return { type: 'error', fileOffset, reason };
}

function u16(bytes: Uint8Array, at: number, little: boolean): number {
  const a = bytes[at] as number;
  const b = bytes[at + 1] as number;
  return little ? a | (b << 8) : (a << 8) | b;
}

function u32(bytes: Uint8Array, at: number, little: boolean): number {
  const a = bytes[at] as number;
  const b = bytes[at + 1] as number;
  const c = bytes[at + 2] as number;
  const d = bytes[at + 3] as number;
  return (little ? (d << 24) | (c << 16) | (b << 8) | a : (a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

async function* toAsync(it: Iterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (let next = it.next(); next.done !== true; next = it.next()) yield next.value;
}
