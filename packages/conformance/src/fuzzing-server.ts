/**
 * The mirror image of the server suite: a fuzzing server any client can be
 * pointed at. It speaks the protocol fuzzing clients expect:
 *
 *   GET /getCaseCount                → one text message, the number of cases
 *   GET /runCase?case=N&agent=A      → case N: generated frames; the client echoes
 *   GET /updateReports?agent=A       → the report for A is written (JSON)
 *
 * Case N is the N-th sample of the families' arbitraries for a client
 * receiver with the server's seed, so a seed and a case number replay it.
 * Verdicts use the same judge as the server suite, reading the client's
 * frames (which must be masked). Handshake cases (client-handshake-cases.ts)
 * answer the upgrade itself with a defective response; flood cases
 * (flood-run.ts) drive the socket themselves.
 *
 * With `http2Port` it also listens for HTTP/2 without TLS (h2c) and enables
 * extended CONNECT (RFC 8441): the same paths as `:path` of an extended
 * CONNECT, answered with `:status` 200, and the same frame and flood cases on
 * the stream's DATA (END_STREAM and RST_STREAM for TCP's FIN and RST). The
 * handshake family's defective 101s have no HTTP/2 form: they are n/a there.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type ExtensionElement,
  negotiateExtensions,
  parseDeflateParams,
  parseExtensions,
  type PerMessageDeflateAgreement,
  type PerMessageDeflateParams,
  permessageDeflate,
  type PerMessageDeflateOptions,
  serializeExtensions,
} from '@rfc6455/codec';
import { chunking, encodeFrame } from '@rfc6455/codec/testing';
import fc from 'fast-check';
import type { Case, Family } from './case.js';
import { familyCases } from './cases.js';
import {
  acceptFor,
  type ClientHandshakeCase,
  clientHandshakeCases,
  judgeRefusal,
  type UpgradeRequestInfo,
} from './client-handshake-cases.js';
import { type FloodCase, type FloodOptions, floodCases } from './flood-cases.js';
import { runFlood } from './flood-run.js';
import { judge, readFrames, type Verdict } from './judge.js';
import {
  closeBody,
  concat,
  FrameReader,
  messagesIn,
  Op,
  sameBytes,
  splitBounded,
  splitTrailingClose,
  type WireFrame,
} from './wire.js';

/** Every family that applies to a client. */
export const CLIENT_FAMILIES: readonly Family[] = [
  'handshake',
  'framing',
  'ping-pong',
  'reserved',
  'fragmentation',
  'utf8',
  'limits',
  'close',
  'deflate',
];

/**
 * The families run when none are named: all but `handshake`, whose cases are
 * failed connections — a client that gives up at its first failed connection
 * (this project's echo client exits) would stop there. Name it to run it.
 */
export const DEFAULT_CLIENT_FAMILIES: readonly Family[] = CLIENT_FAMILIES.filter((f) => f !== 'handshake');

export interface FuzzingServerOptions {
  readonly port?: number;
  readonly host?: string;
  /** Number of cases (default 200). */
  readonly cases?: number;
  readonly seed?: number;
  /** Default DEFAULT_CLIENT_FAMILIES. */
  readonly families?: readonly Family[];
  readonly skip?: readonly string[];
  readonly strict?: boolean;
  /** The client's largest message: enables the limits family's size cases (floods run without it). */
  readonly maxMessageSize?: number;
  /** The client's frame payload limit, when smaller than its message limit. */
  readonly maxFrameSize?: number;
  /** Sizes and deadline of the limits family's floods (their deadline is `flood.timeout`, not `caseTimeout`). */
  readonly flood?: FloodOptions;
  /** The client's own handshake timeout (ms): enables `handshake/stalled-head`. */
  readonly clientHandshakeTimeout?: number;
  /**
   * Also listen for h2c (HTTP/2 by prior knowledge) with extended CONNECT
   * enabled, on this port (0: any free port); default: no HTTP/2 listener.
   */
  readonly http2Port?: number;
  /** Where /updateReports writes `<dir>/<agent>.json`; nothing is written without it. */
  readonly reportDir?: string;
  /** How long a client has to echo and close (ms, default 5000), or to fail an invalid case (default 1000). */
  readonly replyTimeout?: number;
  readonly failTimeout?: number;
  /**
   * A hard deadline for one case (ms, default `replyTimeout` + 2000): it caps
   * the time a client has to take the case's bytes, and the time after that to
   * answer (`replyTimeout` / `failTimeout` count from our last byte taken). A
   * client that never answers, never closes, or stops reading is judged and
   * disconnected when it passes.
   */
  readonly caseTimeout?: number;
  /** Called with every verdict as it is recorded. */
  readonly onVerdict?: (agent: string, verdict: CaseVerdict) => void;
  /**
   * Hold our closing frame until the client has sent the replies it owes (or
   * their time is up), as Autobahn's testsuite does, instead of writing it
   * with the case's other frames. RFC 6455 lets a client answer a close at
   * once (§5.5.1), and one whose protocol engine runs apart from the
   * application (Chromium's network process) does so before the page has
   * echoed the messages that came with it: by default such a client fails
   * every valid case. Floods likewise wait for every echo before our close.
   */
  readonly closeAfterReplies?: boolean;
}

/** What the client offered in `Sec-WebSocket-Extensions` and what the server answered. */
export interface ExtensionNegotiation {
  /** The header as received; undefined when there was none. */
  readonly offered: string | undefined;
  /** The accepted element as sent back; undefined when nothing was accepted. */
  readonly response: string | undefined;
  /** Why an offer was declined as malformed (RFC 7692 §7: the server must decline it). */
  readonly invalidOffer?: string;
}

export interface CaseVerdict {
  readonly case: number;
  readonly family: Family;
  readonly variant: string;
  readonly description: string;
  readonly verdict: Verdict;
  /** The server's seed: with the case number it regenerates exactly this case. */
  readonly seed: number;
  /** How to run this case alone again. */
  readonly replay: string;
  readonly extensions: ExtensionNegotiation;
  readonly ms: number;
}

export interface FamilyCounts {
  readonly passed: number;
  readonly failed: number;
  readonly notApplicable: number;
}

export interface AgentReport {
  readonly agent: string;
  readonly seed: number;
  readonly cases: readonly CaseVerdict[];
  readonly passed: number;
  readonly failed: number;
  /** Cases that could not apply, e.g. deflate cases when the client offered no permessage-deflate. */
  readonly notApplicable: number;
  /** The same counts per family, for the families that ran. */
  readonly families: Partial<Readonly<Record<Family, FamilyCounts>>>;
}

/** One planned case: frames written after a 101, a defective handshake, or a flood. */
type Planned =
  | { readonly type: 'frames'; readonly c: Case; readonly split: (b: Uint8Array) => Uint8Array[] }
  | { readonly type: 'handshake'; readonly c: ClientHandshakeCase }
  | { readonly type: 'flood'; readonly c: FloodCase };

export class FuzzingServer {
  readonly seed: number;
  private readonly server: Server;
  private readonly plan: readonly Planned[];
  private readonly results = new Map<string, Map<number, CaseVerdict>>();
  private readonly options: FuzzingServerOptions;
  private readonly sockets = new Set<Duplex>();
  private readonly h2: http2.Http2Server | undefined;
  private readonly h2Sessions = new Set<http2.ServerHttp2Session>();

  constructor(options: FuzzingServerOptions = {}) {
    this.options = options;
    this.seed = options.seed ?? (Date.now() ^ (Math.random() * 0x1_0000_0000)) >>> 0;
    const skip = new Set(options.skip ?? []);
    type Drawn = Exclude<Planned, { type: 'frames' }> | { readonly type: 'frames'; readonly c: Case };
    const arbs = (options.families ?? DEFAULT_CLIENT_FAMILIES)
      .map((f): fc.Arbitrary<Drawn> | undefined => {
        if (f === 'handshake')
          return clientHandshakeCases({ clientHandshakeTimeout: options.clientHandshakeTimeout }).map((c) => ({
            type: 'handshake',
            c,
          }));
        const frames = familyCases(f, {
          receiver: 'client',
          maxMessageSize: options.maxMessageSize,
          maxFrameSize: options.maxFrameSize,
        })?.map((c): Drawn => ({ type: 'frames', c }));
        if (f !== 'limits') return frames;
        const floods = floodCases({ maxMessageSize: options.maxMessageSize, flood: options.flood }).map(
          (c): Drawn => ({ type: 'flood', c }),
        );
        return frames === undefined
          ? floods
          : fc.oneof({ weight: 3, arbitrary: frames }, { weight: 1, arbitrary: floods });
      })
      .filter((a): a is fc.Arbitrary<Drawn> => a !== undefined)
      .map((a) => (skip.size > 0 ? a.filter((d) => !skip.has(d.c.variant)) : a));
    const samples = fc.sample(fc.tuple(fc.oneof(...arbs), chunking({ maxCuts: 8 })), {
      seed: this.seed,
      numRuns: options.cases ?? 200,
    });
    this.plan = samples.map(([d, split]): Planned => (d.type === 'frames' ? { type: 'frames', c: d.c, split } : d));
    this.server = createServer((_req, res) => {
      res
        .writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' })
        .end('a WebSocket fuzzing server: connect with a WebSocket client\n');
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => this.upgrade(req, socket));
    if (options.http2Port !== undefined) {
      const h2 = http2.createServer({ settings: { enableConnectProtocol: true } });
      h2.on('session', (session) => {
        this.h2Sessions.add(session);
        session.on('close', () => this.h2Sessions.delete(session));
        session.on('error', () => session.destroy());
      });
      h2.on('stream', (stream, headers) => this.extendedConnect(stream, headers));
      this.h2 = h2;
    }
  }

  get caseCount(): number {
    return this.plan.length;
  }

  /** Starts the HTTP/1.1 listener (and the HTTP/2 one with `http2Port`); resolves with the HTTP/1.1 address. */
  async listen(): Promise<AddressInfo> {
    const h2 = this.h2;
    if (h2 !== undefined) {
      await new Promise<void>((resolve, reject) => {
        h2.once('error', reject);
        h2.listen(this.options.http2Port, this.options.host ?? '127.0.0.1', () => resolve());
      });
    }
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 9001, this.options.host ?? '127.0.0.1', () =>
        resolve(this.server.address() as AddressInfo),
      );
    });
  }

  /** The h2c listener's address once listening; undefined without `http2Port`. */
  get http2Address(): AddressInfo | undefined {
    const address = this.h2?.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const session of this.h2Sessions) session.destroy();
    const h2 = this.h2;
    if (h2?.listening) await new Promise<void>((resolve) => h2.close(() => resolve()));
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  report(agent: string): AgentReport {
    const cases = [...(this.results.get(agent)?.values() ?? [])].sort((a, b) => a.case - b.case);
    const failed = cases.filter((c) => c.verdict.status === 'fail').length;
    const notApplicable = cases.filter((c) => c.verdict.status === 'n/a').length;
    const families: Partial<Record<Family, FamilyCounts>> = {};
    for (const c of cases) {
      const f = families[c.family] ?? { passed: 0, failed: 0, notApplicable: 0 };
      families[c.family] = {
        passed: f.passed + (c.verdict.status === 'pass' ? 1 : 0),
        failed: f.failed + (c.verdict.status === 'fail' ? 1 : 0),
        notApplicable: f.notApplicable + (c.verdict.status === 'n/a' ? 1 : 0),
      };
    }
    return {
      agent,
      seed: this.seed,
      cases,
      passed: cases.length - failed - notApplicable,
      failed,
      notApplicable,
      families,
    };
  }

  /** What case `n` (1-based) is, as its verdict will name it; undefined past the last case. */
  describeCase(
    n: number,
  ): { readonly family: Family; readonly variant: string; readonly description: string } | undefined {
    const entry = this.plan[n - 1];
    return entry === undefined
      ? undefined
      : { family: entry.c.family, variant: entry.c.variant, description: entry.c.description };
  }

  agents(): string[] {
    return [...this.results.keys()];
  }

  private upgrade(req: IncomingMessage, socket: Duplex): void {
    // Tracked from the start: a socket we only half-close would otherwise keep close() waiting forever.
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13') {
      socket.end('HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n');
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://fuzzing-server');
    const agent = url.searchParams.get('agent') ?? 'unknown';
    const n = Number(url.searchParams.get('case'));
    const entry = url.pathname === '/runCase' ? this.plan[n - 1] : undefined;
    const header = req.headers['sec-websocket-extensions'];
    const offered = typeof header === 'string' ? header : undefined;
    // Only a deflate case accepts an extension: every other case assumes plain RFC 6455 framing.
    const negotiation = negotiate(offered, entry?.type === 'frames' ? entry.c.deflate?.offer : undefined);
    if (entry?.type === 'handshake') {
      const protocols = (req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      void this.runHandshakeCase(socket, n, entry.c, agent, { key, extensions: offered, protocols }, negotiation);
      return;
    }
    const accept = acceptFor(key);
    const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${
      negotiation.info.response === undefined ? '' : `Sec-WebSocket-Extensions: ${negotiation.info.response}\r\n`
    }\r\n`;
    socket.write(head);
    this.serve(socket, url, agent, n, entry, negotiation);
  }

  /**
   * RFC 8441: an extended CONNECT on the h2c listener. The stream stands in
   * for the upgraded socket: :status 200 (no accept key), then the same case.
   */
  private extendedConnect(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    this.sockets.add(stream);
    stream.on('close', () => this.sockets.delete(stream));
    stream.on('error', () => stream.destroy());
    const path = headers[':path'];
    if (
      headers[':method'] !== 'CONNECT' ||
      headers[':protocol'] !== 'websocket' ||
      typeof path !== 'string' ||
      headers['sec-websocket-version'] !== '13'
    ) {
      stream.respond({ ':status': 400, 'sec-websocket-version': '13' }, { endStream: true });
      return;
    }
    const url = new URL(path, 'http://fuzzing-server');
    const agent = url.searchParams.get('agent') ?? 'unknown';
    const n = Number(url.searchParams.get('case'));
    const entry = url.pathname === '/runCase' ? this.plan[n - 1] : undefined;
    const header = headers['sec-websocket-extensions'];
    const offered = typeof header === 'string' ? header : undefined;
    const negotiation = negotiate(offered, entry?.type === 'frames' ? entry.c.deflate?.offer : undefined);
    stream.respond({
      ':status': 200,
      ...(negotiation.info.response === undefined ? {} : { 'sec-websocket-extensions': negotiation.info.response }),
    });
    if (entry?.type === 'handshake') {
      // Its defects are in an HTTP/1.1 head (a 101, its accept key): HTTP/2 has none to get wrong.
      this.sendAndClose(stream, undefined);
      const declined: Negotiation = { info: { ...negotiation.info, response: undefined }, params: undefined };
      this.record(agent, n, entry.c, declined, Date.now(), {
        status: 'n/a',
        reason: 'an HTTP/1.1 handshake case; this client came over HTTP/2',
      });
      return;
    }
    this.serve(stream, url, agent, n, entry, negotiation);
  }

  /** What a path asks for, on an open WebSocket (an upgraded socket or an HTTP/2 stream). */
  private serve(
    socket: Duplex,
    url: URL,
    agent: string,
    n: number,
    entry: Planned | undefined,
    negotiation: Negotiation,
  ): void {
    if (url.pathname === '/getCaseCount') this.sendAndClose(socket, utf8(String(this.plan.length)));
    else if (url.pathname === '/updateReports') {
      this.writeReports(agent);
      this.sendAndClose(socket, undefined);
    } else if (entry?.type === 'frames') void this.runCase(socket, n, entry.c, entry.split, agent, negotiation);
    else if (entry?.type === 'flood') void this.runFloodCase(socket, n, entry.c, agent, negotiation);
    else this.sendAndClose(socket, undefined, 1008);
  }

  /** Records one verdict for an agent (a malformed permessage-deflate offer fails any case). */
  private record(
    agent: string,
    n: number,
    c: { family: Family; variant: string; description: string },
    negotiation: Negotiation,
    started: number,
    verdict: Verdict,
  ): void {
    const invalid = negotiation.info.invalidOffer;
    // A malformed offer is the client's fault whatever the case (RFC 7692 §7); it was declined.
    const final: Verdict =
      invalid !== undefined
        ? { status: 'fail', reason: `the client offered ${invalid} (declined, RFC 7692 §7)` }
        : verdict;
    let byCase = this.results.get(agent);
    if (!byCase) this.results.set(agent, (byCase = new Map()));
    const v: CaseVerdict = {
      case: n,
      family: c.family,
      variant: c.variant,
      description: c.description,
      verdict: final,
      seed: this.seed,
      replay: this.replayLine(n, agent),
      extensions: negotiation.info,
      ms: Date.now() - started,
    };
    byCase.set(n, v);
    this.options.onVerdict?.(agent, v);
  }

  /** Ends a case's connection: TCP end, then destroyed shortly after whatever the client does. */
  private hangUp(socket: Duplex): void {
    socket.end();
    setTimeout(() => socket.destroy(), 200).unref();
  }

  /**
   * A handshake case: the defective response (or a valid 101 with frames in the
   * same write), then the client's reaction until it closes or the deadline.
   */
  private async runHandshakeCase(
    socket: Duplex,
    n: number,
    c: ClientHandshakeCase,
    agent: string,
    req: UpgradeRequestInfo,
    negotiation: Negotiation,
  ): Promise<void> {
    const started = Date.now();
    const reply = c.reply(req);
    const declined: Negotiation = { info: { ...negotiation.info, response: undefined }, params: undefined };
    if (reply.type === 'n/a') {
      // A plain connection that closes at once, as for other cases that cannot apply.
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(req.key)}\r\n\r\n`,
      );
      this.sendAndClose(socket, undefined);
      this.record(agent, n, c, declined, started, { status: 'n/a', reason: reply.reason });
      return;
    }
    if (reply.type === 'open') {
      await this.runCase(socket, n, reply.frames, () => [], agent, declined, reply.head);
      return;
    }
    const failTimeout = this.options.failTimeout ?? 1_000;
    const waited = reply.type === 'stalled' ? (this.options.clientHandshakeTimeout ?? 0) + failTimeout : failTimeout;
    const sent: Uint8Array[] = [];
    let closed = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    socket.on('data', (chunk: Buffer) => {
      sent.push(new Uint8Array(chunk));
      notify();
    });
    const gone = () => {
      closed = true;
      notify();
    };
    socket.on('end', gone);
    socket.on('close', gone);
    socket.on('error', gone);
    socket.on('drain', notify);
    const deadline = Date.now() + waited;
    const wait = async (cond: () => boolean) => {
      while (!cond() && Date.now() < deadline) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        });
        clearTimeout(timer);
      }
    };
    let endlessBytes: number | undefined;
    if (reply.type === 'endless') {
      // Written as fast as the client reads, until it closes or the deadline: a client that never stops reading is caught by the deadline.
      endlessBytes = reply.start.length;
      socket.write(reply.start);
      // Capped, so a client that reads for ever costs bounded time and memory; it then has until the deadline to close.
      for (let i = 0; !closed && sent.length === 0 && endlessBytes < ENDLESS_HEAD_CAP && Date.now() < deadline; i++) {
        const more = reply.more(i);
        endlessBytes += more.length;
        if (!socket.write(more)) await wait(() => closed || sent.length > 0 || socket.writableLength === 0);
        // Lets the client's close (and our deadline) be seen while the kernel still takes everything.
        if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
      }
    } else socket.write(reply.bytes);
    // Something the client sends, or its close, settles the case; otherwise the deadline does.
    await wait(() => closed || sent.length > 0);
    const outcome = judgeRefusal({
      sent: concat(sent),
      closed,
      waited,
      ...(endlessBytes !== undefined ? { endlessBytes } : {}),
    });
    socket.destroy();
    this.record(
      agent,
      n,
      c,
      {
        info: { ...declined.info, response: reply.type === 'response' ? reply.extensions : undefined },
        params: undefined,
      },
      started,
      outcome,
    );
  }

  /** A flood case after a plain 101 (flood-run.ts). */
  private async runFloodCase(
    socket: Duplex,
    n: number,
    c: FloodCase,
    agent: string,
    negotiation: Negotiation,
  ): Promise<void> {
    const started = Date.now();
    const verdict = await runFlood(c, {
      socket,
      us: 'server',
      options: this.options.flood,
      strict: this.options.strict ?? false,
      closeAfterReplies: this.options.closeAfterReplies ?? false,
    });
    this.hangUp(socket);
    this.record(agent, n, c, negotiation, started, verdict);
  }

  /** Optionally one text message, then a close frame; TCP ends when the client answers or after `failTimeout`. */
  private sendAndClose(socket: Duplex, text: Uint8Array | undefined, code = 1000): void {
    if (text) socket.write(encodeFrame({ fin: true, rsv: 0, opcode: Op.Text, payload: text, maskKey: null }));
    socket.write(encodeFrame({ fin: true, rsv: 0, opcode: Op.Close, payload: closeBody(code), maskKey: null }));
    const reader = new FrameReader();
    const timer = setTimeout(() => socket.destroy(), this.options.failTimeout ?? 1_000);
    socket.on('data', (chunk: Buffer) => {
      if (reader.push(new Uint8Array(chunk)).some((f) => f.opcode === Op.Close)) {
        clearTimeout(timer);
        socket.end();
        setTimeout(() => socket.destroy(), 1_000).unref();
      }
    });
    socket.on('close', () => clearTimeout(timer));
  }

  /** A frame case; with `head` (a handshake case) the 101 and all the frames go out in one write. */
  private async runCase(
    socket: Duplex,
    n: number,
    c: Case,
    split: (b: Uint8Array) => Uint8Array[],
    agent: string,
    negotiation: Negotiation,
    head?: Uint8Array,
  ): Promise<void> {
    const started = Date.now();
    const replyTimeout = this.options.replyTimeout ?? 5_000;
    const cap = this.options.caseTimeout ?? replyTimeout + 2_000;
    const waited = Math.min(c.expect.kind === 'echo' ? replyTimeout : (this.options.failTimeout ?? 1_000), cap);
    // The hard deadline: whatever the client does, the case ends and is judged by then. Until our last byte is
    // taken it is `cap` from the start (a message of the client's limit may be tens of MiB); then `waited` from there.
    let deadline = started + cap;
    const record = (verdict: Verdict) => this.record(agent, n, c, negotiation, started, verdict);
    if (c.deflate !== undefined && negotiation.params === undefined) {
      this.sendAndClose(socket, undefined);
      const why =
        negotiation.info.offered === undefined
          ? 'the client offered no extension'
          : `no acceptable permessage-deflate offer in "${negotiation.info.offered}"`;
      record({ status: 'n/a', reason: `permessage-deflate not agreed: ${why}` });
      return;
    }
    const wire = c.build({ deflate: negotiation.params });
    const reader = new FrameReader();
    const frames: WireFrame[] = [];
    let closeSeen = false;
    let tcpClosed = false;
    let wake: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      for (const f of reader.push(new Uint8Array(chunk))) {
        frames.push(f);
        if (f.opcode === Op.Close) closeSeen = true;
      }
      wake?.();
    });
    const gone = () => {
      tcpClosed = true;
      wake?.();
    };
    socket.on('end', gone);
    socket.on('close', gone);
    // closeAfterReplies: our closing frame waits until the replies owed have come (see the option).
    const owed =
      c.expect.kind === 'echo' ? c.expect.replies : c.expect.kind === 'policy' ? c.expect.accept.replies : undefined;
    const held = this.options.closeAfterReplies && owed !== undefined ? splitTrailingClose(wire.send) : undefined;
    const body = held?.body ?? wire.send;
    const chunks = head !== undefined ? [concat([head, body])] : splitBounded(split, body);
    for (const [i, chunk] of chunks.entries()) {
      socket.write(chunk, (error) => {
        if (error || i < chunks.length - 1) return;
        deadline = Math.min(deadline, Date.now() + waited);
        wake?.();
      });
    }
    const until = async (cond: () => boolean) => {
      while (!cond() && !closeSeen && !tcpClosed && reader.error === undefined && Date.now() < deadline) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        });
        clearTimeout(timer);
      }
    };
    if (held !== undefined && owed !== undefined) {
      const messages = owed.filter((r) => r.type !== 'pong').length;
      const lastPong = owed.filter((r) => r.type === 'pong').at(-1);
      await until(
        () =>
          messagesIn(frames) >= messages &&
          (lastPong === undefined || frames.some((f) => f.opcode === Op.Pong && sameBytes(f.payload, lastPong.data))),
      );
      if (!tcpClosed) {
        // The close gets the time a reply gets, from when the client has taken it.
        socket.write(held.close, (error) => {
          if (error) return;
          deadline = Date.now() + waited;
          wake?.();
        });
        deadline = Math.max(deadline, Date.now() + waited);
      }
    }
    await until(() => false);
    wake = undefined;
    // The server closes TCP first once the close frames are exchanged (RFC 6455 §7.1.1); a client that
    // never closed gets the same treatment once the deadline passed.
    this.hangUp(socket);
    record(
      judge({
        expect: c.expect,
        received: readFrames(frames, 'client', negotiation.params),
        tcpClosed,
        tcpClosedAfterClose: true,
        framingError: reader.error,
        strict: this.options.strict ?? false,
        waited,
      }),
    );
  }

  private replayLine(n: number, agent: string): string {
    const o = this.options;
    const flags = [
      `--seed=${this.seed}`,
      `--cases ${n}`,
      ...(o.families ? [`--family ${o.families.join(',')}`] : []),
      ...(o.skip?.length ? [`--skip ${o.skip.join(',')}`] : []),
      ...(o.maxMessageSize !== undefined ? [`--max-message-size ${o.maxMessageSize}`] : []),
      ...(o.maxFrameSize !== undefined ? [`--max-frame-size ${o.maxFrameSize}`] : []),
      ...(o.clientHandshakeTimeout !== undefined ? [`--client-handshake-timeout ${o.clientHandshakeTimeout}`] : []),
      ...(o.flood?.bytes !== undefined ? [`--flood-bytes ${o.flood.bytes}`] : []),
      ...(o.flood?.pings !== undefined ? [`--flood-pings ${o.flood.pings}`] : []),
      ...(o.closeAfterReplies ? ['--close-after-replies'] : []),
    ];
    return `pnpm run fuzzing-server ${flags.join(' ')}  # then run case ${n} with the client (agent ${agent}), e.g. echo-client --cases ${n}`;
  }

  private writeReports(agent: string): void {
    if (this.options.reportDir === undefined) return;
    writeFileSync(
      `${this.options.reportDir}/${agent.replace(/[^A-Za-z0-9._-]/g, '_')}.json`,
      `${JSON.stringify(this.report(agent), replacer, 2)}\n`,
    );
  }
}

/** Most bytes of a never-ending head written to one client. */
const ENDLESS_HEAD_CAP = 16 * 1024 * 1024;

interface Negotiation {
  readonly info: ExtensionNegotiation;
  readonly params: PerMessageDeflateParams | undefined;
}

/**
 * Reads the client's offer. Every permessage-deflate element must be valid
 * (RFC 7692 §7: defined parameters, each once, valid values); a malformed one
 * is declined and reported. With `prefer` (a deflate case) the first offer the
 * server can serve is accepted with those preferences.
 */
function negotiate(offered: string | undefined, prefer: PerMessageDeflateOptions | undefined): Negotiation {
  if (offered === undefined) return { info: { offered, response: undefined }, params: undefined };
  const parsed = parseExtensions(offered);
  if (!parsed.ok)
    return {
      info: {
        offered,
        response: undefined,
        invalidOffer: `a malformed Sec-WebSocket-Extensions header (${parsed.reason})`,
      },
      params: undefined,
    };
  const deflateOffers = parsed.value.filter((e: ExtensionElement) => e.name.toLowerCase() === 'permessage-deflate');
  for (const e of deflateOffers) {
    const checked = parseDeflateParams(e.params, false);
    if (!checked.ok)
      return {
        info: { offered, response: undefined, invalidOffer: `an invalid permessage-deflate offer (${checked.reason})` },
        params: undefined,
      };
  }
  if (prefer === undefined) return { info: { offered, response: undefined }, params: undefined };
  const chosen = negotiateExtensions(parsed.value, [permessageDeflate(prefer)]);
  const agreement = chosen.negotiated[0] as PerMessageDeflateAgreement | undefined;
  if (agreement === undefined) return { info: { offered, response: undefined }, params: undefined };
  return { info: { offered, response: serializeExtensions(chosen.response) }, params: agreement.params };
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Uint8Arrays as hex in JSON reports. */
function replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
}
