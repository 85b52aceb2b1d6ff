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
 * frames (which must be masked).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
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
import { judge, readFrames, type Verdict } from './judge.js';
import { closeBody, FrameReader, Op, type WireFrame } from './wire.js';

/** The families that apply to a client without knowing its limits. */
export const CLIENT_FAMILIES: readonly Family[] = ['framing', 'ping-pong', 'reserved', 'fragmentation', 'utf8', 'close', 'deflate'];

export interface FuzzingServerOptions {
  readonly port?: number;
  readonly host?: string;
  /** Number of cases (default 200). */
  readonly cases?: number;
  readonly seed?: number;
  readonly families?: readonly Family[];
  readonly skip?: readonly string[];
  readonly strict?: boolean;
  /** Where /updateReports writes `<dir>/<agent>.json`; nothing is written without it. */
  readonly reportDir?: string;
  /** How long a client has to echo and close (ms, default 5000), or to fail an invalid case (default 1000). */
  readonly replyTimeout?: number;
  readonly failTimeout?: number;
  /**
   * A hard deadline for one case, from the upgrade to the verdict (ms, default
   * `replyTimeout` + 2000): a client that never answers, never closes, or
   * stops reading is judged and disconnected when it passes.
   */
  readonly caseTimeout?: number;
  /** Called with every verdict as it is recorded. */
  readonly onVerdict?: (agent: string, verdict: CaseVerdict) => void;
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

export interface AgentReport {
  readonly agent: string;
  readonly seed: number;
  readonly cases: readonly CaseVerdict[];
  readonly passed: number;
  readonly failed: number;
  /** Cases that could not apply, e.g. deflate cases when the client offered no permessage-deflate. */
  readonly notApplicable: number;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class FuzzingServer {
  readonly seed: number;
  private readonly server: Server;
  private readonly plan: readonly { c: Case; split: (b: Uint8Array) => Uint8Array[] }[];
  private readonly results = new Map<string, Map<number, CaseVerdict>>();
  private readonly options: FuzzingServerOptions;
  private readonly sockets = new Set<Duplex>();

  constructor(options: FuzzingServerOptions = {}) {
    this.options = options;
    this.seed = options.seed ?? ((Date.now() ^ (Math.random() * 0x1_0000_0000)) >>> 0);
    const skip = new Set(options.skip ?? []);
    const arbs = (options.families ?? CLIENT_FAMILIES)
      .map((f) => familyCases(f, { receiver: 'client' }))
      .filter((a): a is fc.Arbitrary<Case> => a !== undefined)
      .map((a) => (skip.size > 0 ? a.filter((c) => !skip.has(c.variant)) : a));
    const samples = fc.sample(fc.tuple(fc.oneof(...arbs), chunking({ maxCuts: 8 })), { seed: this.seed, numRuns: options.cases ?? 200 });
    this.plan = samples.map(([c, split]) => ({ c, split }));
    this.server = createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' }).end('a WebSocket fuzzing server: connect with a WebSocket client\n');
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => this.upgrade(req, socket));
  }

  get caseCount(): number {
    return this.plan.length;
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 9001, this.options.host ?? '127.0.0.1', () => resolve(this.server.address() as AddressInfo));
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  report(agent: string): AgentReport {
    const cases = [...(this.results.get(agent)?.values() ?? [])].sort((a, b) => a.case - b.case);
    const failed = cases.filter((c) => c.verdict.status === 'fail').length;
    const notApplicable = cases.filter((c) => c.verdict.status === 'n/a').length;
    return { agent, seed: this.seed, cases, passed: cases.length - failed - notApplicable, failed, notApplicable };
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
    const offered = req.headers['sec-websocket-extensions'];
    // Only a deflate case accepts an extension: every other case assumes plain RFC 6455 framing.
    const negotiation = negotiate(typeof offered === 'string' ? offered : undefined, entry?.c.deflate?.offer);
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${
        negotiation.info.response === undefined ? '' : `Sec-WebSocket-Extensions: ${negotiation.info.response}\r\n`
      }\r\n`,
    );
    if (url.pathname === '/getCaseCount') this.sendAndClose(socket, utf8(String(this.plan.length)));
    else if (url.pathname === '/updateReports') {
      this.writeReports(agent);
      this.sendAndClose(socket, undefined);
    } else if (entry !== undefined) void this.runCase(socket, n, entry, agent, negotiation);
    else this.sendAndClose(socket, undefined, 1008);
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

  private async runCase(socket: Duplex, n: number, entry: { c: Case; split: (b: Uint8Array) => Uint8Array[] }, agent: string, negotiation: Negotiation): Promise<void> {
    const started = Date.now();
    const { c, split } = entry;
    const replyTimeout = this.options.replyTimeout ?? 5_000;
    const waited = c.expect.kind === 'echo' ? replyTimeout : (this.options.failTimeout ?? 1_000);
    // The hard deadline: whatever the client does, the case ends and is judged by then.
    const deadline = started + Math.min(waited, this.options.caseTimeout ?? replyTimeout + 2_000);
    const record = (verdict: Verdict) => {
      const invalid = negotiation.info.invalidOffer;
      // A malformed offer is the client's fault whatever the case (RFC 7692 §7); it was declined.
      const final: Verdict = invalid !== undefined ? { status: 'fail', reason: `the client offered ${invalid} (declined, RFC 7692 §7)` } : verdict;
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
    };
    if (c.deflate !== undefined && negotiation.params === undefined) {
      this.sendAndClose(socket, undefined);
      const why = negotiation.info.offered === undefined ? 'the client offered no extension' : `no acceptable permessage-deflate offer in "${negotiation.info.offered}"`;
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
    for (const chunk of split(wire.send)) socket.write(chunk);
    while (!closeSeen && !tcpClosed && reader.error === undefined && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
      });
      clearTimeout(timer);
    }
    wake = undefined;
    // The server closes TCP first once the close frames are exchanged (RFC 6455 §7.1.1); a client that
    // never closed gets the same treatment once the deadline passed.
    socket.end();
    setTimeout(() => socket.destroy(), 200).unref();
    record(
      judge({
        expect: c.expect,
        received: readFrames(frames, 'client', negotiation.params),
        tcpClosed,
        tcpClosedAfterClose: true,
        framingError: reader.error,
        strict: this.options.strict ?? false,
        waited: deadline - started,
      }),
    );
  }

  private replayLine(n: number, agent: string): string {
    const o = this.options;
    const flags = [`--seed=${this.seed}`, `--cases ${n}`, ...(o.families ? [`--family ${o.families.join(',')}`] : []), ...(o.skip?.length ? [`--skip ${o.skip.join(',')}`] : [])];
    return `pnpm run fuzzing-server ${flags.join(' ')}  # then run case ${n} with the client (agent ${agent}), e.g. echo-client --cases ${n}`;
  }

  private writeReports(agent: string): void {
    if (this.options.reportDir === undefined) return;
    writeFileSync(`${this.options.reportDir}/${agent.replace(/[^A-Za-z0-9._-]/g, '_')}.json`, `${JSON.stringify(this.report(agent), replacer, 2)}\n`);
  }
}

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
  if (!parsed.ok) return { info: { offered, response: undefined, invalidOffer: `a malformed Sec-WebSocket-Extensions header (${parsed.reason})` }, params: undefined };
  const deflateOffers = parsed.value.filter((e: ExtensionElement) => e.name.toLowerCase() === 'permessage-deflate');
  for (const e of deflateOffers) {
    const checked = parseDeflateParams(e.params, false);
    if (!checked.ok) return { info: { offered, response: undefined, invalidOffer: `an invalid permessage-deflate offer (${checked.reason})` }, params: undefined };
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
export function replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
}
