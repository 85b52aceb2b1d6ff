/**
 * One case against a server over real TCP: handshake, the case's bytes in the
 * generated chunks with small pauses between them, then everything the server
 * sends until it closes, fails, or the time allowed runs out. Over HTTP/2
 * (RFC 8441) the connection is an extended CONNECT stream instead (h2.ts),
 * its END_STREAM and RST_STREAM standing for TCP's FIN and RST.
 */
import { X509Certificate } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  acceptExtensions,
  offerExtensions,
  UsageError,
  type PerMessageDeflateAgreement,
  type PerMessageDeflateParams,
  permessageDeflate,
} from '@rfc6455/codec';
import {
  buildUpgradeRequest,
  createResponseHeadParser,
  toWebSocketUrl,
  validateUpgradeResponse,
} from '@rfc6455/codec/http';
import type { Case, Wire } from './case.js';
import { dial } from './dial.js';
import { openExtendedConnect } from './h2.js';
import { closeBody, closeCodeOf, concat, FrameReader, Op, type WireFrame } from './wire.js';

export interface Target {
  readonly host: string;
  readonly port: number;
  /** Path and query of the request target. */
  readonly path: string;
  /** Open each connection as an extended CONNECT stream on an HTTP/2 session (RFC 8441) instead of an HTTP/1.1 upgrade: h2c, or h2 by ALPN when `secure`. */
  readonly http2?: boolean;
  /** A `wss://` target: every connection is TLS, SNI the host name unless it is an IP address. */
  readonly secure?: boolean;
  /** PEM certificates to trust besides Node's bundled CAs (`secure` only). */
  readonly ca?: string;
  /** Do not verify the server's certificate (`secure` only). */
  readonly insecure?: boolean;
}

/** How to reach a URL's server, besides the URL. */
export interface TargetOptions {
  /** See {@link Target.http2}. */
  readonly http2?: boolean;
  /** PEM certificates to trust besides Node's bundled CAs; `wss://` only. */
  readonly ca?: string;
  /** Skip certificate verification; `wss://` only. */
  readonly insecure?: boolean;
}

/**
 * A `ws://` or `wss://` URL as a target (default ports 80 and 443). Throws a
 * `UsageError`: `ERR_INVALID_URL` for another scheme, `ERR_INVALID_ARGUMENT`
 * for TLS options with a `ws://` URL (they would silently do nothing).
 */
export function parseTarget(url: string, options: TargetOptions = {}): Target {
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
    throw new UsageError('ERR_INVALID_URL', `only ws:// and wss:// URLs are supported, got ${u.protocol}`);
  const secure = u.protocol === 'wss:';
  const { http2, ca, insecure } = options;
  if (!secure && (ca !== undefined || insecure === true))
    throw new UsageError('ERR_INVALID_ARGUMENT', `ca and insecure apply to wss:// URLs only, got ${u.protocol}`);
  if (ca !== undefined) checkCertificates(ca);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || (secure ? 443 : 80)),
    path: `${u.pathname}${u.search}`,
    ...(http2 && { http2 }),
    ...(secure && { secure }),
    ...(ca !== undefined && { ca }),
    ...(insecure && { insecure }),
  };
}

/**
 * Node's TLS quietly ignores `ca` text it cannot read, which would show up
 * later as every case failing verification; a bad `ca` is the caller's
 * mistake, said at once.
 */
function checkCertificates(pem: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new UsageError('ERR_INVALID_ARGUMENT', 'ca holds no PEM certificate');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (e) {
      throw new UsageError(
        'ERR_INVALID_ARGUMENT',
        `ca holds a certificate that cannot be read: ${(e as Error).message}`,
      );
    }
  }
}

export interface Timing {
  /** How long a valid case may take to be echoed and closed. */
  readonly replyTimeout: number;
  /** How long after the last byte an invalid case has to be failed (also the fail-fast wait). */
  readonly failTimeout: number;
  /** Strict mode: how long after its close frame the server has to close TCP. */
  readonly tcpCloseTimeout: number;
}

export type HandshakeOutcome =
  | { readonly type: 'open'; readonly deflate: PerMessageDeflateParams | undefined }
  | { readonly type: 'declined' }
  | { readonly type: 'failed'; readonly reason: string };

export interface Observation {
  readonly handshake: HandshakeOutcome;
  readonly wire: Wire | undefined;
  /** Frames received after the handshake, in order. */
  readonly frames: readonly WireFrame[];
  readonly framingError: string | undefined;
  /** The server ended or reset TCP. */
  readonly tcpClosed: boolean;
  /** TCP closed after the close frame arrived (meaningful when one did). */
  readonly tcpClosedAfterClose: boolean;
  readonly timedOut: boolean;
  /** Trailing bytes that did not form a frame when the connection ended. */
  readonly partial: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs one case; never rejects: every way a server can misbehave ends up in the observation. */
export async function runAgainstServer(
  target: Target,
  c: Case,
  split: (bytes: Uint8Array) => Uint8Array[],
  delays: readonly number[],
  timing: Timing,
  strict: boolean,
): Promise<Observation> {
  const reader = new FrameReader();
  const frames: WireFrame[] = [];
  let tcpClosed = false;
  let closeFrameSeen = false;
  let tcpClosedAfterClose = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitFor = async (cond: () => boolean, ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    while (!cond()) {
      const left = until - Date.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, left);
      });
      // Cleared, so a finished run leaves no timer keeping the process alive for the whole timeout.
      clearTimeout(timer);
    }
    return true;
  };

  // The handshake goes through the codec's HTTP layer; the frames that follow go to the
  // suite's own reader, not to a client endpoint, so the judge sees exactly what the server sent.
  const extension = c.deflate
    ? permessageDeflate({ ...c.deflate.offer, clientMaxWindowBits: c.deflate.offer.clientMaxWindowBits ?? false })
    : undefined;
  let socket: Duplex;
  let handshake: HandshakeOutcome | undefined;
  let cleanup = (): void => {};
  if (target.http2) {
    const opened = await openExtendedConnect(target, extension, timing.replyTimeout);
    if (opened.type === 'failed') return failedHandshake(opened.reason);
    socket = opened.stream;
    handshake = opened.handshake;
    cleanup = () => opened.session.destroy();
    socket.on('data', (chunk: Buffer) => onFrames(reader.push(new Uint8Array(chunk))));
    socket.resume();
  } else {
    const dialed = await dial(target, timing.replyTimeout, 'http/1.1');
    if (dialed.type === 'failed') return failedHandshake(dialed.reason);
    socket = dialed.socket;
  }
  const offers = extension ? offerExtensions([extension]) : [];
  const url = toWebSocketUrl(
    `${target.secure ? 'wss' : 'ws'}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}${target.path}`,
  );
  const request = buildUpgradeRequest(url, { extensions: offers }, (bytes) => crypto.getRandomValues(bytes));
  const head = createResponseHeadParser();
  if (!target.http2)
    socket.on('data', (chunk: Buffer) => {
      if (handshake !== undefined) {
        onFrames(reader.push(new Uint8Array(chunk)));
        return;
      }
      const result = head.push(new Uint8Array(chunk));
      if (result.type === 'incomplete') return;
      if (result.type === 'invalid') handshake = { type: 'failed', reason: result.reason };
      else if (result.startLine.status !== 101)
        handshake = { type: 'failed', reason: `status ${result.startLine.status} instead of 101` };
      else {
        const verdict = validateUpgradeResponse(result.headers, {
          key: request.key,
          protocols: [],
          extensions: offers.map((o) => o.name),
        });
        if (!verdict.ok) handshake = { type: 'failed', reason: verdict.reason };
        else if (!extension || verdict.extensions.length === 0)
          handshake = extension ? { type: 'declined' } : { type: 'open', deflate: undefined };
        else {
          const agreed = acceptExtensions(verdict.extensions, [extension]);
          handshake = agreed.ok
            ? { type: 'open', deflate: (agreed.negotiated[0] as PerMessageDeflateAgreement).params }
            : { type: 'failed', reason: `invalid permessage-deflate response: ${agreed.reason}` };
        }
        if (handshake.type === 'open' && result.trailing.length > 0) onFrames(reader.push(result.trailing));
      }
      notify();
    });
  const onFrames = (got: WireFrame[]) => {
    for (const f of got) {
      frames.push(f);
      if (f.opcode === Op.Close) closeFrameSeen = true;
    }
    if (got.length > 0 || reader.error !== undefined) notify();
  };
  const onGone = () => {
    if (!tcpClosed) {
      tcpClosed = true;
      if (closeFrameSeen) tcpClosedAfterClose = true;
    }
    notify();
  };
  socket.on('end', onGone);
  socket.on('close', onGone);
  // Resets and writes after the server dropped us are outcomes, not crashes.
  let socketError: string | undefined;
  socket.on('error', (e) => {
    socketError = e.message;
    onGone();
  });

  const finish = (wire: Wire | undefined, timedOut: boolean): Observation => {
    socket.destroy();
    cleanup();
    return {
      handshake: handshake ?? {
        type: 'failed',
        reason: socketError ?? (tcpClosed ? 'the connection closed during the handshake' : 'no handshake response'),
      },
      wire,
      frames,
      framingError: reader.error,
      tcpClosed,
      tcpClosedAfterClose,
      timedOut,
      partial: reader.pending,
    };
  };

  if (!target.http2) socket.write(request.bytes);
  await waitFor(() => handshake !== undefined || tcpClosed, timing.replyTimeout);
  if (handshake?.type !== 'open') return finish(undefined, false);

  const wire = c.build({ deflate: handshake.deflate });
  const chunks = boundChunks(split(wire.send));
  for (let i = 0; i < chunks.length; i++) {
    if (tcpClosed || closeFrameSeen) break;
    socket.write(chunks[i] as Uint8Array);
    // Pauses only between the first few chunks: a bytewise split of a 64 KiB frame would otherwise take minutes.
    const pause = delays.length > 0 && i < MAX_PAUSES ? (delays[i % delays.length] as number) : 0;
    if (pause > 0 && i < chunks.length - 1) await sleep(pause);
  }
  const patience = c.expect.kind === 'echo' ? timing.replyTimeout : timing.failTimeout;
  const settled = await waitFor(() => closeFrameSeen || tcpClosed || reader.error !== undefined, patience);
  if (closeFrameSeen && !tcpClosed) {
    // Answer the server's close as a client does, so servers that wait for it close TCP (§7.1.1).
    const theirs = frames.find((f) => f.opcode === Op.Close);
    const code = theirs ? closeCodeOf(theirs.payload) : undefined;
    const echo = code === undefined || Number.isNaN(code) || code === 1005 ? undefined : code;
    if (c.expect.kind !== 'echo') socket.write(maskedClose(echo));
    if (strict) await waitFor(() => tcpClosed, timing.tcpCloseTimeout);
  }
  return finish(wire, !settled);
}

/** An observation of a connection that never opened. */
function failedHandshake(reason: string): Observation {
  return {
    handshake: { type: 'failed', reason },
    wire: undefined,
    frames: [],
    framingError: undefined,
    tcpClosed: true,
    tcpClosedAfterClose: false,
    timedOut: false,
    partial: 0,
  };
}

const MAX_PAUSES = 16;
const MAX_CHUNKS = 256;

/** Keeps the first MAX_CHUNKS - 1 chunks as generated and writes the rest at once. */
function boundChunks(chunks: Uint8Array[]): Uint8Array[] {
  if (chunks.length <= MAX_CHUNKS) return chunks;
  return [...chunks.slice(0, MAX_CHUNKS - 1), concat(chunks.slice(MAX_CHUNKS - 1))];
}

function maskedClose(code: number | undefined): Uint8Array {
  const body = closeBody(code);
  const key = crypto.getRandomValues(new Uint8Array(4));
  const out = new Uint8Array(6 + body.length);
  out[0] = 0x80 | Op.Close;
  out[1] = 0x80 | body.length;
  out.set(key, 2);
  for (let i = 0; i < body.length; i++) out[6 + i] = (body[i] as number) ^ (key[i & 3] as number);
  return out;
}
