/**
 * Load a peer must survive, for either role: floods of pings, and a slow
 * reader (we stop reading while the peer has a flood of echoes to send). What
 * is judged is what the wire shows: the peer keeps answering (every message
 * echoed, the last ping answered, our close answered) or it closes with a
 * code that says it gave up; it never hangs (a deadline) and never vanishes
 * without a close frame, which is what a crash looks like.
 */
import type { Role } from '@rfc6455/codec';
import { encodeFrame } from '@rfc6455/codec/testing';
import fc from 'fast-check';
import type { Reply } from './case.js';
import { closeBody, concat, Op } from './wire.js';

export interface FloodOptions {
  /** Bytes of messages in a slow-reader flood (default 16 MiB: more than loopback's socket buffers hold). */
  readonly bytes?: number;
  /** Most pings in a ping flood (default 10 000). */
  readonly pings?: number;
  /** How long the slow reader stops reading when the peer keeps accepting the flood (ms, default 500). */
  readonly stall?: number;
  /** Deadline for one flood case, from the first byte to the verdict (ms, default 15 000). */
  readonly timeout?: number;
}

export const defaultFlood: Required<FloodOptions> = {
  bytes: 16 * 1024 * 1024,
  pings: 10_000,
  stall: 500,
  timeout: 15_000,
};

/** The options with defaults for what is missing (an option given as undefined included). */
export function floodSettings(o: FloodOptions | undefined): Required<FloodOptions> {
  return {
    bytes: o?.bytes ?? defaultFlood.bytes,
    pings: o?.pings ?? defaultFlood.pings,
    stall: o?.stall ?? defaultFlood.stall,
    timeout: o?.timeout ?? defaultFlood.timeout,
  };
}

interface FloodBase {
  readonly family: 'limits';
  readonly description: string;
  /** Drives the generated sizes and fills, so a seed replays the case. */
  readonly seed: number;
}

/** `count` pings of 0–125 bytes, then a text message and our close: all pings owe a pong (§5.5.2). */
export interface PingFlood extends FloodBase {
  readonly type: 'ping-flood';
  readonly variant: 'limits/ping-flood';
  readonly count: number;
}

/** `count` messages of `size` bytes written while we do not read; then a ping whose pong must come after the echoes. */
export interface SlowReader extends FloodBase {
  readonly type: 'slow-reader';
  readonly variant: 'limits/slow-reader';
  readonly count: number;
  readonly size: number;
  readonly isText: boolean;
}

export type FloodCase = PingFlood | SlowReader;

/** Codes with which a peer may end a ping flood instead of answering it: going away, policy, too big, overloaded. */
export const PING_FLOOD_GIVE_UP: readonly number[] = [1001, 1008, 1009, 1011, 1013];
/** A slow reader may be closed for policy (1008) or size (1009): the peer refuses to buffer more. */
export const SLOW_READER_GIVE_UP: readonly number[] = [1008, 1009];

export function floodCases(o: {
  readonly maxMessageSize?: number;
  readonly flood?: FloodOptions;
}): fc.Arbitrary<FloodCase> {
  const f = floodSettings(o.flood);
  const seed = fc.integer({ min: 0, max: 0x7fffffff });
  const maxPings = Math.max(1, f.pings);
  const pings = fc
    .tuple(fc.oneof(fc.constant(maxPings), fc.integer({ min: Math.min(100, maxPings), max: maxPings })), seed)
    .map(
      ([count, s]): PingFlood => ({
        family: 'limits',
        type: 'ping-flood',
        variant: 'limits/ping-flood',
        count,
        seed: s,
        description: `${count} pings of 0–125 bytes at once, then a text message and a close`,
      }),
    );
  const largest = Math.max(1, Math.min(64 * 1024, o.maxMessageSize ?? 64 * 1024));
  const slow = fc
    .tuple(fc.integer({ min: Math.min(1024, largest), max: largest }), fc.boolean(), seed)
    .map(([size, isText, s]): SlowReader => {
      const count = Math.max(1, Math.ceil(f.bytes / size));
      return {
        family: 'limits',
        type: 'slow-reader',
        variant: 'limits/slow-reader',
        count,
        size,
        isText,
        seed: s,
        description: `${count} ${isText ? 'text' : 'binary'} messages of ${size} bytes (${((count * size) / 1048576).toFixed(1)} MiB) sent while not reading, then a ping`,
      };
    });
  return fc.oneof(pings, slow);
}

function keys(sender: Role, seed: number): () => Uint8Array | null {
  let n = seed >>> 0;
  return () => {
    if (sender === 'server') return null;
    n = (Math.imul(n, 1103515245) + 12345) >>> 0;
    return Uint8Array.of(n >>> 24, n >>> 16, n >>> 8, n);
  };
}

/** Our closing frame (1000). */
export function closeFrame(sender: Role, code: number | undefined = 1000): Uint8Array {
  return encodeFrame({ fin: true, rsv: 0, opcode: Op.Close, payload: closeBody(code), maskKey: keys(sender, 7)() });
}

export function pingFrame(sender: Role, payload: Uint8Array): Uint8Array {
  return encodeFrame({ fin: true, rsv: 0, opcode: Op.Ping, payload, maskKey: keys(sender, 11)() });
}

/** The ping flood's bytes (pings, a text message, our close) and the replies owed before the close. */
export function pingFloodBytes(c: PingFlood, sender: Role): { bytes: Uint8Array; owed: Reply[] } {
  const key = keys(sender, c.seed);
  const frames: Uint8Array[] = [];
  const owed: Reply[] = [];
  for (let i = 0; i < c.count; i++) {
    // Every payload distinct (a counter first), so a pong answers exactly one ping.
    const size = 4 + ((c.seed + i * 37) % 122);
    const payload = Uint8Array.from({ length: size }, (_, j) =>
      j < 4 ? (i >>> (24 - 8 * j)) & 0xff : (c.seed + j) & 0xff,
    );
    frames.push(encodeFrame({ fin: true, rsv: 0, opcode: Op.Ping, payload, maskKey: key() }));
    owed.push({ type: 'pong', data: payload });
  }
  const after = `after ${c.count} pings`;
  frames.push(
    encodeFrame({ fin: true, rsv: 0, opcode: Op.Text, payload: new TextEncoder().encode(after), maskKey: key() }),
  );
  owed.push({ type: 'text', data: after });
  frames.push(closeFrame(sender));
  return { bytes: concat(frames), owed };
}

/** The slow reader's flood (the same message `count` times) and the echoes owed. */
export function slowReaderBytes(c: SlowReader, sender: Role): { bytes: Uint8Array; owed: Reply[] } {
  const payload = c.isText
    ? new Uint8Array(c.size).fill(0x61 + (c.seed % 26))
    : Uint8Array.from({ length: c.size }, (_, i) => (c.seed + i * 13) & 0xff);
  const frame = encodeFrame({
    fin: true,
    rsv: 0,
    opcode: c.isText ? Op.Text : Op.Binary,
    payload,
    maskKey: keys(sender, c.seed)(),
  });
  const bytes = new Uint8Array(frame.length * c.count);
  for (let i = 0; i < c.count; i++) bytes.set(frame, i * frame.length);
  const reply: Reply = c.isText
    ? { type: 'text', data: new TextDecoder().decode(payload) }
    : { type: 'binary', data: payload };
  return { bytes, owed: Array.from({ length: c.count }, () => reply) };
}
