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
import { encodeFrame } from '@rfc6455/codec/testing';
import { chunking } from '@rfc6455/codec/testing';
import fc from 'fast-check';
import type { Case, Family } from './case.js';
import { familyCases } from './cases.js';
import { judge, readFrames, type Verdict } from './judge.js';
import { closeBody, FrameReader, Op, type WireFrame } from './wire.js';

/** The families that apply to a client without knowing its limits or extensions. */
export const CLIENT_FAMILIES: readonly Family[] = ['framing', 'ping-pong', 'reserved', 'fragmentation', 'utf8', 'close'];

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
}

export interface CaseVerdict {
  readonly case: number;
  readonly family: Family;
  readonly variant: string;
  readonly description: string;
  readonly verdict: Verdict;
}

export interface AgentReport {
  readonly agent: string;
  readonly seed: number;
  readonly cases: readonly CaseVerdict[];
  readonly passed: number;
  readonly failed: number;
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
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  report(agent: string): AgentReport {
    const cases = [...(this.results.get(agent)?.values() ?? [])].sort((a, b) => a.case - b.case);
    const failed = cases.filter((c) => c.verdict.status === 'fail').length;
    return { agent, seed: this.seed, cases, passed: cases.length - failed, failed };
  }

  agents(): string[] {
    return [...this.results.keys()];
  }

  private upgrade(req: IncomingMessage, socket: Duplex): void {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13') {
      socket.end('HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    // No extension is accepted: the cases assume plain RFC 6455 framing.
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const url = new URL(req.url ?? '/', 'http://fuzzing-server');
    const agent = url.searchParams.get('agent') ?? 'unknown';
    if (url.pathname === '/getCaseCount') this.sendAndClose(socket, utf8(String(this.plan.length)));
    else if (url.pathname === '/updateReports') {
      this.writeReports(agent);
      this.sendAndClose(socket, undefined);
    } else if (url.pathname === '/runCase') void this.runCase(socket, Number(url.searchParams.get('case')), agent);
    else this.sendAndClose(socket, undefined, 1008);
  }

  /** Optionally one text message, then a close frame; TCP ends when the client answers or after a second. */
  private sendAndClose(socket: Duplex, text: Uint8Array | undefined, code = 1000): void {
    if (text) socket.write(encodeFrame({ fin: true, rsv: 0, opcode: Op.Text, payload: text, maskKey: null }));
    socket.write(encodeFrame({ fin: true, rsv: 0, opcode: Op.Close, payload: closeBody(code), maskKey: null }));
    const reader = new FrameReader();
    const timer = setTimeout(() => socket.destroy(), 1_000);
    socket.on('data', (chunk: Buffer) => {
      if (reader.push(new Uint8Array(chunk)).some((f) => f.opcode === Op.Close)) {
        clearTimeout(timer);
        socket.end();
      }
    });
    socket.on('close', () => clearTimeout(timer));
  }

  private async runCase(socket: Duplex, n: number, agent: string): Promise<void> {
    const entry = this.plan[n - 1];
    if (entry === undefined) {
      this.sendAndClose(socket, undefined, 1008);
      return;
    }
    const { c, split } = entry;
    const wire = c.build({ deflate: undefined });
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
    socket.on('end', () => {
      tcpClosed = true;
      wake?.();
    });
    socket.on('close', () => {
      tcpClosed = true;
      wake?.();
    });
    for (const chunk of split(wire.send)) socket.write(chunk);
    const waited = c.expect.kind === 'echo' ? (this.options.replyTimeout ?? 5_000) : (this.options.failTimeout ?? 1_000);
    const until = Date.now() + waited;
    while (!closeSeen && !tcpClosed && reader.error === undefined && Date.now() < until) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.max(1, until - Date.now()));
      });
    }
    // The server closes TCP first once the close frames are exchanged (RFC 6455 §7.1.1).
    socket.end();
    setTimeout(() => socket.destroy(), 200).unref();
    const verdict = judge({
      expect: c.expect,
      received: readFrames(frames, 'client', undefined),
      tcpClosed,
      tcpClosedAfterClose: true,
      framingError: reader.error,
      strict: this.options.strict ?? false,
      waited,
    });
    let byCase = this.results.get(agent);
    if (!byCase) this.results.set(agent, (byCase = new Map()));
    byCase.set(n, { case: n, family: c.family, variant: c.variant, description: c.description, verdict });
  }

  private writeReports(agent: string): void {
    if (this.options.reportDir === undefined) return;
    writeFileSync(`${this.options.reportDir}/${agent.replace(/[^A-Za-z0-9._-]/g, '_')}.json`, `${JSON.stringify(this.report(agent), replacer, 2)}\n`);
  }
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Uint8Arrays as hex in JSON reports. */
export function replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
}
