/**
 * Follows every TCP connection of a capture, packet by packet, and dissects
 * the ones that carry WebSocket (an HTTP/1.1 upgrade on any port, or any
 * connection on `port`) with the same dissector `rfc6455 decode` uses, both
 * directions in capture order. HTTP connections are followed too, for
 * Engine.IO long-polling; Engine.IO and Socket.IO inside are decoded.
 *
 * Runtime-neutral: Uint8Array in, plain records out.
 */
import type { PerMessageDeflateParams } from '@rfc6455/codec';
import { SessionDissector } from '../dissector.js';
import {
  decodeEngineBinary,
  decodeEngineText,
  decodePollingBody,
  engineUrl,
  type EnginePacket,
  type EngineUrl,
  type EngineVersion,
} from '../engine-io.js';
import type { DissectRecord, Side } from '../records.js';
import { SocketIoAssembler, recoveryOffset } from '../socket-io.js';
import { readCapture, type CapturePacket } from './capture-reader.js';
import type { CaptureRecord } from './capture-records.js';
import { HttpStream, type HttpHead } from './http-stream.js';
import { decodePacket, type TcpSegment } from './packet-layers.js';
import { TcpReassembler, type ReassemblyEvent } from './tcp-reassembler.js';

export interface CaptureDissectorOptions {
  /** Also dissect connections on this TCP port as WebSocket when no upgrade is seen (a capture begun mid-connection). */
  readonly port?: number;
  /** permessage-deflate parameters for connections whose handshake the capture lacks. */
  readonly deflate?: Partial<PerMessageDeflateParams> | null;
  /** Largest message (after inflation) the validating endpoints accept (default: the codec's 16 MiB). */
  readonly maxMessageSize?: number;
  /** Bytes held behind a hole in a TCP stream before it is declared a gap (default 4 MiB). */
  readonly maxBuffered?: number;
  /** Largest capture record believed (default 16 MiB). */
  readonly maxRecordLength?: number;
}

type Mode = 'pending' | 'http' | 'websocket' | 'ignored';

interface Direction {
  readonly reassembler: TcpReassembler;
  http: HttpStream | null;
  /** No longer dissected after a gap. */
  lost: boolean;
  /** Stream offset just past the FIN, once seen. */
  finAt: number | null;
}

interface Connection {
  id: number;
  /** The endpoint that sent the first packet seen ("a"), and the other. */
  readonly a: string;
  readonly b: string;
  /** Whether "a" is the client; null until known. */
  aIsClient: boolean | null;
  readonly dirs: { readonly a: Direction; readonly b: Direction };
  mode: Mode;
  seen: 'from-syn' | 'mid-connection';
  session: SessionDissector | null;
  engine: EngineUrl | null;
  /** Requests (engine.io parameters, method) waiting for their responses, in order. */
  readonly requests: { readonly engine: EngineUrl | null; readonly method: string }[];
  requestCount: number;
  reported: boolean;
  /** The client's SYN sequence number, to tell a new connection on the same ports. */
  synSeq: number | null;
}

interface EngineSession {
  readonly sid: string;
  readonly version: EngineVersion;
  readonly opened: {
    readonly conn: number;
    readonly packet: number;
    readonly time: number;
    readonly transport: 'polling' | 'websocket';
  };
  readonly socket: Record<Side, SocketIoAssembler>;
  upgraded: boolean;
}

const METHODS = /^(GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE) /;

export class CaptureDissector {
  private readonly connections = new Map<string, Connection>();
  private readonly engineSessions = new Map<string, EngineSession>();
  /** Per WebSocket connection without an sid yet: the session its open packet will name. */
  private readonly wsEngine = new Map<number, { sid: string | null; assemblers: Record<Side, SocketIoAssembler> }>();
  private nextId = 1;
  private firstTime: number | null = null;
  private packet = 0;
  private time = 0;
  private readonly counts = {
    packets: 0,
    connections: 0,
    websocket: 0,
    frames: 0,
    messages: 0,
    violations: 0,
    syncLost: 0,
  };
  private readonly noticed = new Set<string>();

  constructor(private readonly options: CaptureDissectorOptions = {}) {}

  /** Dissects one captured packet. */
  push(p: CapturePacket): CaptureRecord[] {
    this.counts.packets++;
    this.packet = p.number;
    if (this.firstTime === null) this.firstTime = p.time;
    this.time = Math.max(0, p.time - this.firstTime);
    const out: CaptureRecord[] = [];
    const layers = decodePacket(p.linkType, p.data, p.originalLength);
    if (layers.type === 'malformed') {
      out.push({ type: 'notice', packet: p.number, time: this.time, reason: `packet not followed: ${layers.reason}` });
      return out;
    }
    if (layers.type === 'other') {
      // Said once per kind: a capture full of ARP or UDP is not worth a line each.
      if (!this.noticed.has(layers.what)) {
        this.noticed.add(layers.what);
        out.push({
          type: 'notice',
          packet: p.number,
          time: this.time,
          reason: `not followed (first such packet): ${layers.what}`,
        });
      }
      return out;
    }
    this.segment(layers, out);
    return out;
  }

  /** The capture ended: holes become gaps, frames cut short are reported, and a summary closes. */
  end(): CaptureRecord[] {
    const out: CaptureRecord[] = [];
    for (const conn of this.connections.values()) this.finish(conn, out, 'the capture ended');
    this.connections.clear();
    const c = this.counts;
    out.push({
      type: 'summary',
      packets: c.packets,
      connections: c.connections,
      websocketConnections: c.websocket,
      frames: c.frames,
      messages: c.messages,
      violations: c.violations,
      syncLost: c.syncLost,
    });
    return out;
  }

  private segment(s: TcpSegment, out: CaptureRecord[]): void {
    const src = endpoint(s.src, s.srcPort);
    const dst = endpoint(s.dst, s.dstPort);
    const key = src < dst ? `${src} ${dst}` : `${dst} ${src}`;
    let conn = this.connections.get(key);
    // A new SYN on the same addresses and ports: the old connection is over (its FINs were not captured).
    if (conn !== undefined && s.syn && !s.ackFlag && conn.synSeq !== null && conn.synSeq !== s.seq) {
      this.finish(conn, out, 'a new connection reused its ports');
      conn = undefined;
    }
    if (conn === undefined) {
      conn = this.open(src, dst, s);
      this.connections.set(key, conn);
    }
    const side = src === conn.a ? 'a' : 'b';
    const dir = conn.dirs[side];
    const other = conn.dirs[side === 'a' ? 'b' : 'a'];
    if (s.syn) {
      if (!s.ackFlag) conn.synSeq = s.seq;
      dir.reassembler.syn(s.seq);
      if (conn.aIsClient === null) conn.aIsClient = s.ackFlag ? side === 'b' : side === 'a';
    }
    if (conn.mode === 'ignored') {
      // Nothing to follow, nothing to keep once it closes.
      if (s.fin) dir.finAt = 0;
      if (s.rst || (conn.dirs.a.finAt !== null && conn.dirs.b.finAt !== null)) this.connections.delete(key);
      return;
    }
    const events: ReassemblyEvent[] = [];
    events.push(...dir.reassembler.segment(s.syn ? (s.seq + 1) >>> 0 : s.seq, s.payload, s.payloadLength));
    if (s.fin) dir.finAt = dir.reassembler.offsetOf(s.seq) + s.payloadLength;
    this.handle(conn, side, events, out);
    if (s.ackFlag) this.handle(conn, side === 'a' ? 'b' : 'a', other.reassembler.acknowledged(s.ack), out);
    if (s.rst || (ended(conn.dirs.a) && ended(conn.dirs.b))) {
      this.finish(conn, out, s.rst ? 'the connection was reset' : 'the connection ended');
      this.connections.delete(key);
    }
  }

  private open(src: string, dst: string, s: TcpSegment): Connection {
    const dir = (): Direction => ({
      reassembler: new TcpReassembler({ maxBuffered: this.options.maxBuffered }),
      http: null,
      lost: false,
      finAt: null,
    });
    return {
      id: 0,
      a: src,
      b: dst,
      aIsClient: s.syn ? !s.ackFlag : null,
      dirs: { a: dir(), b: dir() },
      mode: 'pending',
      seen: s.syn ? 'from-syn' : 'mid-connection',
      session: null,
      engine: null,
      requests: [],
      requestCount: 0,
      reported: false,
      synSeq: s.syn && !s.ackFlag ? s.seq : null,
    };
  }

  /** Reassembly events of one direction. */
  private handle(conn: Connection, side: 'a' | 'b', events: readonly ReassemblyEvent[], out: CaptureRecord[]): void {
    for (const ev of events) {
      if (conn.mode === 'ignored') return;
      if (ev.type === 'data') {
        if (conn.mode === 'pending') this.decide(conn, side, ev.bytes, out);
        // decide() may have changed the mode (TS keeps the narrowing from above).
        const mode = conn.mode as Mode;
        if (mode === 'pending' || mode === 'ignored') continue;
        const dir = conn.dirs[side];
        if (!dir.lost) this.data(conn, this.sideOf(conn, side), ev.bytes, out);
        continue;
      }
      if (conn.mode === 'pending') continue;
      const from = this.sideOf(conn, side);
      out.push({
        type: 'tcp',
        conn: conn.id,
        from,
        packet: this.packet,
        time: this.time,
        event: ev.type,
        offset: ev.offset,
        length: ev.length,
        reason: ev.type === 'gap' ? ev.reason : null,
      });
      if (ev.type === 'gap') this.loseSync(conn, side, ev.offset, `${ev.length} bytes missing: ${ev.reason}`, out);
    }
  }

  private loseSync(conn: Connection, side: 'a' | 'b', offset: number, reason: string, out: CaptureRecord[]): void {
    const dir = conn.dirs[side];
    if (dir.lost) return;
    dir.lost = true;
    this.counts.syncLost++;
    out.push({
      type: 'sync-lost',
      conn: conn.id,
      from: this.sideOf(conn, side),
      packet: this.packet,
      time: this.time,
      offset,
      reason,
    });
  }

  private sideOf(conn: Connection, side: 'a' | 'b'): Side {
    return (side === 'a') === (conn.aIsClient ?? true) ? 'client' : 'server';
  }

  /** The first bytes of a connection: is it HTTP, WebSocket on the chosen port, or not ours? */
  private decide(conn: Connection, side: 'a' | 'b', bytes: Uint8Array, out: CaptureRecord[]): void {
    const start = new TextDecoder('latin1').decode(bytes.subarray(0, 16));
    const request = METHODS.test(start);
    if (conn.aIsClient === null) {
      if (request) conn.aIsClient = side === 'a';
      else if (start.startsWith('HTTP/')) conn.aIsClient = side !== 'a';
      else if (this.options.port !== undefined) {
        const [aPort, bPort] = [portOf(conn.a), portOf(conn.b)];
        if (bPort === this.options.port) conn.aIsClient = true;
        else if (aPort === this.options.port) conn.aIsClient = false;
      }
    }
    const onPort =
      this.options.port !== undefined && (portOf(conn.a) === this.options.port || portOf(conn.b) === this.options.port);
    const fromClient = conn.aIsClient !== null && this.sideOf(conn, side) === 'client';
    if (conn.aIsClient === null) {
      conn.mode = 'ignored';
      return;
    }
    if (request && fromClient) conn.mode = 'http';
    // A capture that begins between an upgrade request and its 101: the frames follow.
    else if (onPort || (!fromClient && /^HTTP\/1\.1 101 /.test(start))) conn.mode = 'websocket';
    else {
      // Not WebSocket, or responses to requests the capture missed: nothing to follow.
      conn.mode = 'ignored';
      return;
    }
    conn.id = this.nextId++;
    this.counts.connections++;
    const clientSide = conn.aIsClient ? 'a' : 'b';
    const serverSide = conn.aIsClient ? 'b' : 'a';
    if (conn.mode === 'http') {
      conn.dirs[clientSide].http = new HttpStream('request');
      conn.dirs[serverSide].http = new HttpStream('response');
    } else {
      this.startWebSocket(conn);
      this.report(conn, 'websocket', out);
    }
  }

  /** Reported once its protocol is known: WebSocket from its first bytes, or HTTP and whether it upgrades. */
  private report(conn: Connection, protocol: 'websocket' | 'http', out: CaptureRecord[]): void {
    if (conn.reported) return;
    conn.reported = true;
    out.push({
      type: 'connection',
      conn: conn.id,
      packet: this.packet,
      time: this.time,
      client: conn.aIsClient ? conn.a : conn.b,
      server: conn.aIsClient ? conn.b : conn.a,
      protocol,
      seen: conn.seen,
      engine: conn.engine,
    });
    if (conn.seen === 'mid-connection')
      out.push({
        type: 'notice',
        packet: this.packet,
        time: this.time,
        reason: `connection #${conn.id}: the capture starts in the middle of it (no SYN); its bytes are decoded from the first one captured${conn.mode === 'websocket' ? ', which may not be a frame boundary' : ''}`,
      });
  }

  private startWebSocket(conn: Connection): void {
    conn.mode = 'websocket';
    this.counts.websocket++;
    conn.session = new SessionDissector({
      maxMessageSize: this.options.maxMessageSize,
      deflate: this.options.deflate ?? null,
    });
    for (const dir of [conn.dirs.a, conn.dirs.b]) dir.http = null;
  }

  /** In-order bytes of one direction of a followed connection. */
  private data(conn: Connection, from: Side, bytes: Uint8Array, out: CaptureRecord[]): void {
    const side = (from === 'client') === conn.aIsClient ? 'a' : 'b';
    const dir = conn.dirs[side];
    if (conn.mode === 'http' && dir.http !== null) {
      for (const item of dir.http.push(bytes)) {
        if (item.type === 'invalid') {
          this.loseSync(conn, side, dir.reassembler.position, item.reason, out);
          return;
        }
        if (item.type === 'message') {
          this.report(conn, 'http', out);
          this.httpMessage(conn, from, item, out);
          continue;
        }
        // The upgrade request (from the client) or the response to it (from the server).
        if (from === 'client') {
          const target = new TextDecoder('latin1').decode(item.bytes.subarray(0, 2048)).split(' ')[1] ?? '';
          conn.engine = engineUrl(target);
          const responses = conn.dirs[side === 'a' ? 'b' : 'a'].http;
          responses?.switchAt(conn.requestCount);
          conn.session ??= new SessionDissector({ maxMessageSize: this.options.maxMessageSize });
          this.counts.websocket++;
          // A keep-alive connection that served plain requests first is reported again as it switches.
          if (conn.reported) conn.reported = false;
          this.report(conn, 'websocket', out);
        }
        dir.http = null;
        this.websocket(conn, from, item.bytes, out);
      }
      return;
    }
    if (conn.session !== null && (conn.mode === 'websocket' || dir.http === null))
      this.websocket(conn, from, bytes, out);
  }

  private websocket(conn: Connection, from: Side, bytes: Uint8Array, out: CaptureRecord[]): void {
    const session = conn.session as SessionDissector;
    for (const record of session.push(from, bytes)) this.wsRecord(conn, from, record, out);
  }

  private wsRecord(conn: Connection, from: Side, record: DissectRecord, out: CaptureRecord[]): void {
    out.push({ type: 'websocket', conn: conn.id, from, packet: this.packet, time: this.time, record });
    if (record.kind === 'frame') this.counts.frames++;
    if (record.kind === 'error' && record.phase !== 'truncated') this.counts.violations++;
    if (record.kind === 'error' && record.phase === 'truncated') this.counts.syncLost++;
    if (record.kind !== 'message') return;
    this.counts.messages++;
    const engine = conn.engine;
    if (engine === null || engine.version === null) return;
    const packet =
      typeof record.data === 'string' ? decodeEngineText(record.data) : decodeEngineBinary(record.data, engine.version);
    this.enginePacket(conn, from, 'websocket', engine.version, engine.sid, packet, out);
  }

  private httpMessage(
    conn: Connection,
    from: Side,
    item: { readonly head: HttpHead; readonly body: Uint8Array; readonly complete: boolean },
    out: CaptureRecord[],
  ): void {
    const { head, body } = item;
    let engine: EngineUrl | null = null;
    if (head.type === 'request') {
      engine = engineUrl(head.line.target);
      conn.requestCount++;
      conn.requests.push({ engine, method: head.line.method });
      if (head.line.method === 'HEAD') {
        const side = conn.aIsClient ? 'b' : 'a';
        conn.dirs[side].http?.bodiless.add(conn.requestCount - 1);
      }
    } else if (head.line.status >= 200) {
      const request = conn.requests.shift();
      // A POST's answer is a plain "ok", not Engine.IO packets: only GETs are answered with packets.
      engine = request?.method === 'GET' ? request.engine : null;
    }
    out.push({
      type: 'http',
      conn: conn.id,
      from,
      packet: this.packet,
      time: this.time,
      startLine:
        head.type === 'request'
          ? `${head.line.method} ${head.line.target} HTTP/${head.line.httpVersion}`
          : `HTTP/${head.line.httpVersion} ${head.line.status} ${head.line.reason}`,
      bodyLength: body.length,
      complete: item.complete,
      engine,
    });
    if (engine === null || engine.version === null || engine.transport !== 'polling' || body.length === 0) return;
    if (head.type === 'response' && head.line.status !== 200) return;
    const packets = decodePollingBody(body, engine.version, head.headers.get('content-type') ?? null);
    for (const packet of packets) this.enginePacket(conn, from, 'polling', engine.version, engine.sid, packet, out);
  }

  private enginePacket(
    conn: Connection,
    from: Side,
    transport: 'polling' | 'websocket',
    version: EngineVersion,
    urlSid: string | null,
    packet: EnginePacket,
    out: CaptureRecord[],
  ): void {
    const at = { conn: conn.id, from, packet: this.packet, time: this.time };
    let sid = urlSid;
    if (packet.type === 'open' && packet.open?.sid) {
      sid = packet.open.sid;
      if (!this.engineSessions.has(sid)) {
        this.engineSessions.set(sid, {
          sid,
          version,
          opened: { conn: conn.id, packet: this.packet, time: this.time, transport },
          socket: { client: new SocketIoAssembler(), server: new SocketIoAssembler() },
          upgraded: false,
        });
        out.push({
          type: 'engine-session',
          event: 'opened',
          sid,
          transport,
          packet: this.packet,
          time: this.time,
          conn: conn.id,
          previous: null,
        });
      }
      if (transport === 'websocket')
        this.wsEngine.set(conn.id, { sid, assemblers: (this.engineSessions.get(sid) as EngineSession).socket });
    }
    if (transport === 'websocket' && sid === null) sid = this.wsEngine.get(conn.id)?.sid ?? null;
    const session = sid === null ? undefined : this.engineSessions.get(sid);
    if (packet.type === 'upgrade' && session !== undefined && !session.upgraded && transport === 'websocket') {
      session.upgraded = true;
      out.push({
        type: 'engine-session',
        event: 'upgraded',
        sid,
        transport,
        packet: this.packet,
        time: this.time,
        conn: conn.id,
        previous: { conn: session.opened.conn, packet: session.opened.packet, time: session.opened.time },
      });
    }
    if (packet.type !== 'message') {
      out.push({ type: 'engine-io', ...at, transport, sid, engine: packet });
      return;
    }
    let assemblers = session?.socket;
    if (assemblers === undefined) {
      // A WebSocket-only session whose open packet the capture lacks.
      const entry = this.wsEngine.get(conn.id) ?? {
        sid: null,
        assemblers: { client: new SocketIoAssembler(), server: new SocketIoAssembler() },
      };
      this.wsEngine.set(conn.id, entry);
      assemblers = entry.assemblers;
    }
    const item = assemblers[from].push(packet.data);
    if (item.type === 'invalid') {
      out.push({
        type: 'engine-io',
        ...at,
        transport,
        sid,
        engine: { type: 'invalid', reason: `message is not Socket.IO: ${item.reason}` },
      });
      return;
    }
    if (item.type === 'waiting') return;
    const socket = item.packet;
    out.push({
      type: 'socket-io',
      ...at,
      transport,
      sid,
      socket,
      recoveryOffset: from === 'server' && this.recovering(sid, socket.namespace) ? recoveryOffset(socket) : null,
    });
    if (socket.type === 'connect' && from === 'server' && sid !== null) {
      const data = socket.data as { pid?: unknown } | undefined;
      if (typeof data === 'object' && data !== null && typeof data.pid === 'string')
        this.recovery.add(`${sid} ${socket.namespace}`);
    }
  }

  private readonly recovery = new Set<string>();

  private recovering(sid: string | null, namespace: string): boolean {
    return sid !== null && this.recovery.has(`${sid} ${namespace}`);
  }

  /** Ends a connection: holes become gaps, HTTP bodies delimited by the close end, cut frames are reported. */
  private finish(conn: Connection, out: CaptureRecord[], reason: string): void {
    if (conn.mode === 'ignored' || conn.mode === 'pending') return;
    for (const side of ['a', 'b'] as const) {
      const dir = conn.dirs[side];
      this.handle(conn, side, dir.reassembler.end(reason), out);
      if (dir.lost) continue;
      const from = this.sideOf(conn, side);
      if (dir.http !== null) {
        for (const item of dir.http.end()) if (item.type === 'message') this.httpMessage(conn, from, item, out);
      } else if (conn.session !== null) {
        const stream = from === 'client' ? conn.session.client : conn.session.server;
        for (const record of stream.end()) this.wsRecord(conn, from, record, out);
      }
    }
  }
}

/** Reads a whole capture: the records of every packet, then the summary (or the reader's error). */
export async function* dissectCapture(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: CaptureDissectorOptions = {},
): AsyncGenerator<CaptureRecord> {
  const dissector = new CaptureDissector(options);
  for await (const item of readCapture(chunks, { maxRecordLength: options.maxRecordLength })) {
    switch (item.type) {
      case 'format':
        yield { type: 'capture', format: item.format, detail: item.detail };
        break;
      case 'packet':
        yield* dissector.push(item);
        break;
      case 'error':
        yield* dissector.end().filter((r) => r.type !== 'summary');
        yield { type: 'error', fileOffset: item.fileOffset, reason: item.reason };
        return;
      case 'end':
        yield* dissector.end();
        return;
    }
  }
}

/** A FIN was seen and every byte before it delivered (or declared lost). */
function ended(dir: Direction): boolean {
  return dir.finAt !== null && dir.reassembler.position >= dir.finAt;
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function portOf(endpointText: string): number {
  return Number(endpointText.slice(endpointText.lastIndexOf(':') + 1));
}
