/**
 * The verdict on one case: what the peer sent back, read frame by frame,
 * against what RFC 6455 (and RFC 7692) require of it.
 *
 * Pass criteria (the README lists them too):
 * - valid stream: every message echoed in order with its type and content;
 *   every ping answered with a pong carrying its payload (lenient: §5.5.3 lets
 *   a peer answer only the latest of several pings, so the pongs may be any
 *   in-order subset that ends with the last ping's); then a close frame whose
 *   code is the one sent or 1000 (strict: the one sent, and TCP closed after).
 * - invalid input: the replies owed to the valid prefix (lenient: any prefix of
 *   them; strict: all), then a close frame with the expected code, or TCP
 *   closed without one (§7.1.7 allows it; strict mode does not).
 * - always: frames well formed (masking by role, no RSV bits unless
 *   permessage-deflate claims RSV1 on a first data frame, no reserved opcode,
 *   control frames ≤125 bytes and unfragmented, text valid UTF-8, a close
 *   code that may be on the wire, nothing after the close frame).
 *
 * The judge shares no policy with the codec it also judges: close codes come
 * from its own table (close-code-table.ts, RFC 6455 §7.4 and the IANA
 * registry) and compressed messages are inflated with node:zlib (inflate.ts),
 * so a bug in the codec's close-code policy or inflater cannot pass against
 * this project's own peers.
 */
import type { PerMessageDeflateParams, Role } from '@rfc6455/codec';
import type { Expectation, Reply } from './case.js';
import { mayBeOnTheWire } from './close-code-table.js';
import { messageInflater } from './inflate.js';
import { closeCodeOf, concat, hex, Op, sameBytes, type WireFrame } from './wire.js';

export type Verdict =
  | { readonly status: 'pass'; readonly note?: string }
  | { readonly status: 'fail'; readonly reason: string }
  | { readonly status: 'n/a'; readonly reason: string };

/** What the peer's frames amount to. */
export interface Received {
  readonly replies: readonly Reply[];
  /** The close frame: its code (null for an empty body); undefined when none came. */
  readonly close: { readonly code: number | null; readonly reason: string } | undefined;
  /** The first thing the peer sent that a conforming peer may not. */
  readonly violation: string | undefined;
}

const fatal = new TextDecoder('utf-8', { fatal: true });

/** Reads the peer's frames as messages; `peer` is the role of the side that sent them. */
export function readFrames(
  frames: readonly WireFrame[],
  peer: Role,
  deflate: PerMessageDeflateParams | undefined,
): Received {
  const replies: Reply[] = [];
  let close: Received['close'];
  let violation: string | undefined;
  let parts: Uint8Array[] | undefined;
  let opcode = 0;
  let compressed = false;
  // The judge's own inflater and close-code table (inflate.ts, close-code-table.ts), never the codec's.
  const inflate = deflate
    ? messageInflater({
        windowBits: peer === 'server' ? deflate.serverMaxWindowBits : deflate.clientMaxWindowBits,
        takeover: !(peer === 'server' ? deflate.serverNoContextTakeover : deflate.clientNoContextTakeover),
      })
    : () => 'compressed data without an agreement';

  for (const f of frames) {
    if (violation !== undefined) break;
    if (close !== undefined) {
      violation = `a frame (opcode 0x${f.opcode.toString(16)}) after its close frame`;
      break;
    }
    if (f.masked !== (peer === 'client')) {
      violation = peer === 'server' ? 'a masked frame from a server (§5.1)' : 'an unmasked frame from a client (§5.1)';
      break;
    }
    const isData = f.opcode === Op.Text || f.opcode === Op.Binary;
    const rsvAllowed = deflate !== undefined && isData && parts === undefined ? 0x40 : 0;
    if ((f.rsv & ~rsvAllowed) !== 0) {
      violation = `RSV bits 0x${f.rsv.toString(16)} on a frame with opcode 0x${f.opcode.toString(16)}`;
      break;
    }
    if (f.opcode >= 0x8) {
      if (f.opcode > Op.Pong) violation = `reserved opcode 0x${f.opcode.toString(16)}`;
      else if (!f.fin) violation = 'a fragmented control frame';
      else if (f.payload.length > 125) violation = `a control frame of ${f.payload.length} bytes`;
      else if (f.opcode === Op.Pong) replies.push({ type: 'pong', data: f.payload });
      else if (f.opcode === Op.Close) {
        const code = closeCodeOf(f.payload);
        if (code === undefined) close = { code: null, reason: '' };
        else if (Number.isNaN(code)) violation = 'a close frame with a 1-byte body';
        else if (!mayBeOnTheWire(code)) violation = `close code ${code}, which may not be on the wire`;
        else {
          try {
            close = { code, reason: fatal.decode(f.payload.subarray(2)) };
          } catch {
            violation = 'a close reason that is not valid UTF-8';
          }
        }
      }
      // A ping from the peer is allowed; the suite does not need to answer it to judge.
      continue;
    }
    if (f.opcode !== Op.Continuation && !isData) {
      violation = `reserved opcode 0x${f.opcode.toString(16)}`;
      break;
    }
    if (f.opcode === Op.Continuation && parts === undefined) {
      violation = 'a continuation frame with nothing to continue';
      break;
    }
    if (isData && parts !== undefined) {
      violation = 'a new data frame inside a fragmented message';
      break;
    }
    if (isData) {
      parts = [];
      opcode = f.opcode;
      compressed = (f.rsv & 0x40) !== 0;
    }
    (parts as Uint8Array[]).push(f.payload);
    if (!f.fin) continue;
    let data: Uint8Array | string = concat(parts as Uint8Array[]);
    parts = undefined;
    if (compressed) {
      data = inflate(data);
      if (typeof data === 'string') {
        violation = data;
        break;
      }
    }
    if (opcode === Op.Binary) replies.push({ type: 'binary', data });
    else {
      try {
        replies.push({ type: 'text', data: fatal.decode(data) });
      } catch {
        violation = 'a text message that is not valid UTF-8';
      }
    }
  }
  return { replies, close, violation };
}

function show(r: Reply): string {
  if (r.type === 'text')
    return `text(${r.data.length > 40 ? `${JSON.stringify(r.data.slice(0, 40))}…${r.data.length}` : JSON.stringify(r.data)})`;
  return `${r.type}(${hex(r.data, 16)})`;
}

function sameReply(a: Reply, b: Reply): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'text') return a.data === (b as typeof a).data;
  return sameBytes(a.data, (b as typeof a).data);
}

/** Messages must match exactly (`complete`) or be a prefix of what was owed. */
function checkMessages(got: readonly Reply[], owed: readonly Reply[], complete: boolean): string | undefined {
  const g = got.filter((r) => r.type !== 'pong');
  const o = owed.filter((r) => r.type !== 'pong');
  for (let i = 0; i < g.length; i++) {
    const want = o[i];
    if (want === undefined) return `an extra message ${show(g[i] as Reply)} after the ${o.length} owed`;
    if (!sameReply(g[i] as Reply, want))
      return `message #${i + 1} came back as ${show(g[i] as Reply)}, expected ${show(want)}`;
  }
  if (complete && g.length < o.length)
    return `only ${g.length} of ${o.length} messages echoed; missing ${show(o[g.length] as Reply)}`;
  return undefined;
}

/** Pongs: all of them in order (strict), or an in-order subset ending with the last ping's (lenient). */
function checkPongs(
  got: readonly Reply[],
  owed: readonly Reply[],
  mode: 'all' | 'latest' | 'prefix',
): string | undefined {
  const g = got.filter((r) => r.type === 'pong');
  const o = owed.filter((r) => r.type === 'pong');
  let j = 0;
  for (const p of g) {
    while (j < o.length && !sameReply(p, o[j] as Reply)) {
      if (mode === 'all') return `pong ${show(p)} where ${show(o[j] as Reply)} was owed`;
      j++;
    }
    if (j === o.length) return `a pong ${show(p)} that answers no ping`;
    j++;
  }
  if (mode === 'all' && g.length < o.length) return `${g.length} pongs for ${o.length} pings`;
  if (mode === 'latest' && o.length > 0 && j !== o.length)
    return `the last ping (${show(o.at(-1) as Reply)}) was never answered`;
  return undefined;
}

export interface JudgeInput {
  readonly expect: Expectation;
  readonly received: Received;
  readonly tcpClosed: boolean;
  readonly tcpClosedAfterClose: boolean;
  readonly framingError: string | undefined;
  readonly strict: boolean;
  readonly waited: number;
}

export function judge(input: JudgeInput): Verdict {
  const { expect, received, strict } = input;
  if (input.framingError !== undefined) return { status: 'fail', reason: `unframeable bytes: ${input.framingError}` };
  if (received.violation !== undefined) return { status: 'fail', reason: `the peer sent ${received.violation}` };
  switch (expect.kind) {
    case 'echo': {
      const problem =
        checkMessages(received.replies, expect.replies, true) ??
        checkPongs(received.replies, expect.replies, strict ? 'all' : 'latest');
      if (problem !== undefined) return { status: 'fail', reason: problem };
      if (received.close === undefined) {
        return {
          status: 'fail',
          reason: input.tcpClosed
            ? 'closed TCP without a close frame in reply to ours'
            : `no close frame in reply within ${input.waited} ms`,
        };
      }
      const code = received.close.code;
      if (!expect.closeCodes.includes(code))
        return {
          status: 'fail',
          reason: `replied to our close with ${code ?? 'an empty close'}, expected ${expect.closeCodes.map((c) => c ?? 'empty').join(' or ')}`,
        };
      if (strict && code !== expect.strictCode)
        return {
          status: 'fail',
          reason: `strict: replied with ${code ?? 'empty'} instead of echoing ${expect.strictCode ?? 'empty'}`,
        };
      if (strict && !input.tcpClosedAfterClose)
        return { status: 'fail', reason: 'strict: TCP not closed after the closing handshake' };
      return { status: 'pass' };
    }
    case 'fail': {
      const problem =
        checkMessages(received.replies, expect.before, strict) ??
        checkPongs(received.replies, expect.before, strict ? 'all' : 'prefix');
      if (problem !== undefined) return { status: 'fail', reason: problem };
      if (received.close !== undefined) {
        if (received.close.code === expect.code) return { status: 'pass' };
        return {
          status: 'fail',
          reason: `closed with ${received.close.code ?? 'an empty close frame'}, expected ${expect.code}`,
        };
      }
      if (input.tcpClosed) {
        return strict
          ? { status: 'fail', reason: `strict: closed TCP without a close frame (expected ${expect.code})` }
          : { status: 'pass', note: 'closed TCP without a close frame' };
      }
      return {
        status: 'fail',
        reason: `did not fail the connection within ${input.waited} ms (expected ${expect.code})`,
      };
    }
    case 'policy': {
      const rejected =
        (received.close !== undefined && received.close.code === expect.reject.code) ||
        (received.close === undefined && input.tcpClosed && received.replies.length === 0);
      const v = judge({ ...input, expect: rejected ? expect.reject : expect.accept });
      return v.status === 'pass' ? { status: 'pass', note: rejected ? 'rejected' : 'accepted' } : v;
    }
  }
}

export interface FloodJudgeInput {
  /** Every reply the flood owes, in order, before the close exchange. */
  readonly owed: readonly Reply[];
  readonly received: Received;
  readonly tcpClosed: boolean;
  readonly framingError: string | undefined;
  readonly strict: boolean;
  readonly waited: number;
  /** Close codes with which the peer may end the flood instead of answering it. */
  readonly giveUp: readonly number[];
}

/**
 * A flood (limits family): either everything owed arrives (pongs as for any
 * valid stream) and our close 1000 is answered with 1000, or the peer closes
 * with one of `giveUp` after a prefix of the replies. Closing TCP without a
 * close frame fails even in lenient mode: on the wire it is what a crash
 * looks like. Neither within the deadline: the peer hung.
 */
export function judgeFlood(input: FloodJudgeInput): Verdict {
  const { owed, received, strict, giveUp } = input;
  if (input.framingError !== undefined) return { status: 'fail', reason: `unframeable bytes: ${input.framingError}` };
  if (received.violation !== undefined) return { status: 'fail', reason: `the peer sent ${received.violation}` };
  const close = received.close;
  if (close !== undefined && close.code !== null && giveUp.includes(close.code)) {
    const problem = checkMessages(received.replies, owed, false) ?? checkPongs(received.replies, owed, 'prefix');
    return problem === undefined
      ? { status: 'pass', note: `closed with ${close.code}` }
      : { status: 'fail', reason: problem };
  }
  const complete =
    checkMessages(received.replies, owed, true) ?? checkPongs(received.replies, owed, strict ? 'all' : 'latest');
  if (close !== undefined) {
    if (complete !== undefined)
      return { status: 'fail', reason: `${complete}; then closed with ${close.code ?? 'an empty close frame'}` };
    if (close.code !== 1000)
      return {
        status: 'fail',
        reason: `closed with ${close.code ?? 'an empty close frame'}: expected the flood answered and our close 1000 echoed, or a close with ${giveUp.join(' or ')}`,
      };
    return { status: 'pass' };
  }
  if (input.tcpClosed)
    return {
      status: 'fail',
      reason: `closed TCP without a close frame (${received.replies.length} replies received): on the wire that is a crash`,
    };
  if (complete === undefined)
    return { status: 'fail', reason: `answered the flood but not our close within ${input.waited} ms` };
  return { status: 'fail', reason: `neither answered the flood nor closed within ${input.waited} ms (${complete})` };
}
