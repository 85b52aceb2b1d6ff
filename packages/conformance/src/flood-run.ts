/**
 * Runs one flood case over an open connection, in either role (the server
 * suite as a client, the fuzzing server as a server), and judges it.
 *
 * - Ping flood: every ping, a text message and our close go out at once while
 *   we keep reading; the peer must answer (pongs as for any stream, the text
 *   echoed, our close answered) or close with a give-up code.
 * - Slow reader: we stop reading, write the whole flood, and wait until it is
 *   all accepted or `stall` ms pass; then we read again and send a ping. The
 *   peer must echo everything and answer the ping (and then our close), or
 *   close with 1008/1009. Whether it pushed back is recorded (a policy, not
 *   judged): flood bytes of ours still not taken when the stall ends mean the
 *   peer stopped reading; all taken means it (or the socket buffers between
 *   us) held everything.
 */
import type { Duplex } from 'node:stream';
import type { Role } from '@rfc6455/codec';
import type { Reply } from './case.js';
import {
  type FloodCase,
  type FloodOptions,
  PING_FLOOD_GIVE_UP,
  SLOW_READER_GIVE_UP,
  closeFrame,
  floodSettings,
  pingFloodBytes,
  pingFrame,
  slowReaderBytes,
} from './flood-cases.js';
import { judgeFlood, readFrames, type Verdict } from './judge.js';
import { FrameReader, messagesIn, Op, sameBytes, type WireFrame } from './wire.js';

export interface FloodRun {
  /** The connection, after the opening handshake. */
  readonly socket: Duplex;
  /** Bytes that arrived with the handshake response, before `socket` is read. */
  readonly early?: Uint8Array;
  /** Our role: a client masks its frames, and the peer's must then be unmasked. */
  readonly us: Role;
  readonly options?: FloodOptions;
  readonly strict: boolean;
  /** Our close waits until everything owed has come back (the fuzzing server's `closeAfterReplies`). */
  readonly closeAfterReplies?: boolean;
}

/** Never rejects: every way a peer can misbehave ends in the verdict. Leaves the socket to the caller. */
export async function runFlood(c: FloodCase, run: FloodRun): Promise<Verdict> {
  const options = floodSettings(run.options);
  const { socket, us } = run;
  const deadline = Date.now() + options.timeout;
  const reader = new FrameReader();
  const frames: WireFrame[] = [];
  let theirClose = false;
  let tcpClosed = false;
  let ping: Uint8Array | undefined;
  let pongSeen = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const until = async (cond: () => boolean, by: number): Promise<boolean> => {
    while (!cond()) {
      const left = by - Date.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return true;
  };
  const onBytes = (bytes: Uint8Array) => {
    for (const f of reader.push(bytes)) {
      frames.push(f);
      if (f.opcode === Op.Close) theirClose = true;
      else if (f.opcode === Op.Pong && ping !== undefined && sameBytes(f.payload, ping)) pongSeen = true;
    }
    notify();
  };
  const gone = () => {
    tcpClosed = true;
    notify();
  };
  socket.on('data', (chunk: Buffer) => onBytes(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
  socket.on('end', gone);
  socket.on('close', gone);
  socket.on('error', gone);
  if (run.early !== undefined && run.early.length > 0) onBytes(run.early);
  // A socket handed over paused (raw-client.ts) does not flow just because we listen.
  socket.resume();
  const settled = () => theirClose || tcpClosed || reader.error !== undefined;

  let owed: Reply[];
  let giveUp: readonly number[];
  let note: string | undefined;
  if (c.type === 'ping-flood') {
    const built = pingFloodBytes(c, us);
    owed = built.owed;
    giveUp = PING_FLOOD_GIVE_UP;
    if (run.closeAfterReplies) {
      const close = closeFrame(us);
      const lastPing = owed.filter((r) => r.type === 'pong').at(-1);
      socket.write(built.bytes.subarray(0, built.bytes.length - close.length));
      // The text message and the last ping's pong: what a lenient judge needs before our close.
      await until(
        () =>
          settled() ||
          (messagesIn(frames) >= 1 &&
            (lastPing === undefined ||
              frames.some((f) => f.opcode === Op.Pong && sameBytes(f.payload, lastPing.data)))),
        deadline,
      );
      if (!settled()) socket.write(close);
    } else socket.write(built.bytes);
    await until(settled, deadline);
  } else {
    const built = slowReaderBytes(c, us);
    ping = Uint8Array.from('slow-reader', (ch) => ch.charCodeAt(0));
    owed = [...built.owed, { type: 'pong', data: ping }];
    giveUp = SLOW_READER_GIVE_UP;
    socket.pause();
    // In 64 KiB writes, so the callbacks say how much the peer (and the kernels between us) took.
    const piece = 64 * 1024;
    let accepted = 0;
    for (let at = 0; at < built.bytes.length; at += piece) {
      const chunk = built.bytes.subarray(at, at + piece);
      socket.write(chunk, (error) => {
        if (error) return;
        accepted += chunk.length;
        notify();
      });
    }
    await until(() => accepted === built.bytes.length || tcpClosed, Math.min(deadline, Date.now() + options.stall));
    // Coarse, so the report counts choices rather than byte counts that vary from run to run.
    note =
      accepted === built.bytes.length
        ? 'accepted the whole flood while we did not read'
        : 'pushed back while we did not read';
    socket.resume();
    if (!tcpClosed) socket.write(pingFrame(us, ping));
    const echoes = built.owed.length;
    await until(() => (pongSeen && (!run.closeAfterReplies || messagesIn(frames) >= echoes)) || settled(), deadline);
    if (pongSeen && !settled()) {
      socket.write(closeFrame(us));
      await until(settled, deadline);
    }
  }
  // A close the peer started gets its answer, as any endpoint would give (§5.5.1).
  if (theirClose && !tcpClosed && c.type === 'slow-reader' && !pongSeen) socket.write(closeFrame(us, undefined));
  const verdict = judgeFlood({
    owed,
    received: readFrames(frames, us === 'client' ? 'server' : 'client', undefined),
    tcpClosed,
    framingError: reader.error,
    strict: run.strict,
    waited: options.timeout,
    giveUp,
  });
  return verdict.status === 'pass' && verdict.note === undefined && note !== undefined
    ? { status: 'pass', note }
    : verdict;
}
