/**
 * Dissects one direction of a WebSocket byte stream into records: the HTTP
 * head if there is one, then every frame with its header fields as written,
 * and the messages the codec assembles from them.
 *
 * Two jobs, kept apart on purpose. The header fields (length encoding, mask
 * key, raw header bytes) are read here, because the codec's public API
 * reports messages, not frames. Every rule of the protocol is left to the
 * codec: each frame's bytes are also fed to a real `Connection` of the
 * receiving role, and its `protocol-error` is where dissection stops, with
 * the codec's close code and reason. So what this tool calls invalid is
 * exactly what this project's endpoints refuse.
 */
import {
  Connection,
  ServerHandshake,
  closeCodeName,
  computeAcceptKey,
  opcodeName,
  parseDeflateParams,
  parseExtensions,
  perMessageDeflateAgreement,
  type PerMessageDeflateParams,
} from '@rfc6455/codec';
import { headerValue, looksLikeHttp, type SplitHead, splitHead } from './http-head.js';
import type {
  DissectRecord,
  FrameRecord,
  HttpRequestRecord,
  HttpResponseRecord,
  LengthEncoding,
  Side,
} from './records.js';

export interface StreamDissectorOptions {
  /** Who sent these bytes. */
  readonly from: Side;
  /** permessage-deflate parameters agreed elsewhere (a response head in the stream sets them too). */
  readonly deflate?: Partial<PerMessageDeflateParams> | null;
  /** Largest message the validating connection accepts (default: the codec's 16 MiB). */
  readonly maxMessageSize?: number;
}

type Phase = 'start' | 'frames' | 'body' | 'stopped';

interface Header {
  readonly size: number;
  readonly payloadLength: number;
  readonly lengthEncoding: LengthEncoding;
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { fatal: false });

export class StreamDissector {
  readonly from: Side;
  /** `Sec-WebSocket-Key` of the request this response answers, to check `Sec-WebSocket-Accept`. */
  requestKey: string | null = null;

  private phase: Phase = 'start';
  private deflate: Partial<PerMessageDeflateParams> | null;
  private readonly maxMessageSize: number | undefined;
  private validator: Connection | null = null;
  // Received bytes not yet dissected: a list, joined only once a whole frame is there,
  // so a large frame arriving in many chunks is copied once, not once per chunk.
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private offset = 0;
  private header: Header | null = null;
  private message: { compressed: boolean; frames: number; wireLength: number } | null = null;

  constructor(options: StreamDissectorOptions) {
    this.from = options.from;
    this.deflate = options.deflate ?? null;
    this.maxMessageSize = options.maxMessageSize;
  }

  /** The permessage-deflate parameters in force (from the options or a response head), or null. */
  get deflateParams(): Partial<PerMessageDeflateParams> | null {
    return this.deflate;
  }

  /** Sets permessage-deflate before the first frame (a session learns it from the other direction). */
  setDeflate(params: Partial<PerMessageDeflateParams> | null): void {
    this.deflate = params;
  }

  /** True once a rule was broken: later bytes are not dissected. */
  get stopped(): boolean {
    return this.phase === 'stopped';
  }

  /** Dissects what these bytes complete. The bytes are not modified. */
  push(bytes: Uint8Array): DissectRecord[] {
    const out: DissectRecord[] = [];
    if (bytes.length === 0 || this.phase === 'stopped') return out;
    if (this.phase === 'body') {
      out.push({ kind: 'http-body', offset: this.offset, bytes: bytes.slice() });
      this.offset += bytes.length;
      return out;
    }
    this.pending.push(bytes);
    this.pendingLength += bytes.length;
    if (this.phase === 'start' && !this.readStart(out)) return out;
    while (this.phase === 'frames' && this.readFrame(out)) {
      // each pass dissects one frame
    }
    // readStart may have moved on to the body of a refusal (TS narrows too eagerly here).
    if ((this.phase as Phase) === 'body' && this.pendingLength > 0) {
      const rest = this.take(this.pendingLength);
      out.push({ kind: 'http-body', offset: this.offset - rest.length, bytes: rest });
    }
    return out;
  }

  /** The input ended: reports a frame or head cut short, if any. */
  end(): DissectRecord[] {
    if (this.phase === 'stopped' || this.phase === 'body' || this.pendingLength === 0) return [];
    const have = this.pendingLength;
    let reason: string;
    if (this.phase === 'start') reason = `input ended inside the HTTP head (${have} bytes, no blank line yet)`;
    else if (this.header === null) {
      const first = this.peek(2);
      const need = first.length < 2 ? 2 : headerSize(first[1] as number);
      reason = `input ended inside a frame header: ${have} of ${need} header bytes`;
    } else {
      reason = `input ended inside a frame: ${have} of ${this.header.size + this.header.payloadLength} bytes (header ${this.header.size}, payload ${this.header.payloadLength})`;
    }
    this.phase = 'stopped';
    return [{ kind: 'error', offset: this.offset, code: null, reason }];
  }

  private readStart(out: DissectRecord[]): boolean {
    const bytes = this.peek(Math.min(this.pendingLength, 16 * 1024 + 4));
    const http = looksLikeHttp(bytes);
    if (http === null) {
      // A prefix of "GET " or "HTTP/" may still become one; frames never start with ASCII capitals.
      if (bytes.length < 5 && bytes.every((b) => b >= 0x41 && b <= 0x5a)) return false;
      this.phase = 'frames';
      return true;
    }
    const split = splitHead(this.peek(this.pendingLength));
    if (split.type === 'incomplete') return false;
    if (split.type === 'invalid') {
      out.push({ kind: 'error', offset: this.offset, code: null, reason: split.reason });
      this.phase = 'stopped';
      return false;
    }
    const headOffset = this.offset;
    const headBytes = this.take(split.head.length);
    if (http === 'request') {
      out.push(this.requestRecord(headOffset, headBytes, split.head));
      this.phase = 'frames';
    } else {
      const record = this.responseRecord(headOffset, split.head);
      out.push(record);
      this.phase = record.status === 101 && record.problem === null ? 'frames' : 'body';
    }
    return true;
  }

  private requestRecord(offset: number, headBytes: Uint8Array, head: SplitHead): HttpRequestRecord {
    // The codec's server handshake decides whether this is a valid upgrade.
    const handshake = new ServerHandshake();
    handshake.receive(headBytes.slice());
    const ev = handshake.nextEvent();
    const key = headerValue(head, 'sec-websocket-key') ?? null;
    let problem: string | null = null;
    if (ev === undefined) problem = 'the codec found the head incomplete';
    else if (ev.type === 'bad-request') problem = `${ev.status}: ${ev.reason}`;
    return {
      kind: 'http-request',
      offset,
      startLine: head.startLine,
      headers: head.headers,
      length: head.length,
      key,
      expectedAccept: key === null || problem !== null ? null : computeAcceptKey(key),
      problem,
    };
  }

  private responseRecord(offset: number, head: SplitHead): HttpResponseRecord {
    const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head.startLine)?.[1] ?? Number.NaN);
    const accept = headerValue(head, 'sec-websocket-accept') ?? null;
    const acceptMatches = this.requestKey === null || accept === null ? null : computeAcceptKey(this.requestKey) === accept;
    let problem: string | null = null;
    let deflate: string | null = null;
    if (Number.isNaN(status)) problem = `not an HTTP status line: ${JSON.stringify(head.startLine)}`;
    else if (status === 101) {
      if (acceptMatches === false) problem = 'Sec-WebSocket-Accept does not match the request key';
      const extensions = headerValue(head, 'sec-websocket-extensions');
      if (extensions !== undefined && problem === null) {
        const parsed = parseExtensions(extensions);
        if (!parsed.ok) problem = `Sec-WebSocket-Extensions: ${parsed.reason}`;
        else {
          const element = parsed.value.find((e) => e.name.toLowerCase() === 'permessage-deflate');
          if (element !== undefined) {
            const params = parseDeflateParams(element.params, true);
            if (!params.ok) problem = `permessage-deflate: ${params.reason}`;
            else {
              // In a response a window parameter always has a value, so null does not occur.
              this.deflate = { ...params.params, clientMaxWindowBits: params.params.clientMaxWindowBits ?? undefined };
              deflate = extensions;
            }
          }
        }
      }
    }
    return {
      kind: 'http-response',
      offset,
      startLine: head.startLine,
      status,
      headers: head.headers,
      length: head.length,
      accept,
      acceptMatches,
      deflate,
      problem,
    };
  }

  /** Dissects one frame if its bytes are all there; false when more input is needed or decoding stopped. */
  private readFrame(out: DissectRecord[]): boolean {
    if (this.header === null) {
      if (this.pendingLength < 2) return false;
      const size = headerSize(this.peek(2)[1] as number);
      if (this.pendingLength < size) return false;
      const headerBytes = this.peek(size);
      const header = parseHeader(headerBytes);
      this.header = header;
      // Header rules (mask, RSV, opcode, limits) are checked by the codec now,
      // so a frame announcing 2^60 bytes fails here instead of waiting forever.
      const events: DissectRecord[] = [];
      if (this.validate(headerBytes.slice(), events, this.offset, null)) {
        out.push(this.frameRecord(this.offset, headerBytes, header, EMPTY), ...events);
        this.phase = 'stopped';
        return false;
      }
    }
    const header = this.header;
    const total = header.size + header.payloadLength;
    if (this.pendingLength < total) return false;
    const offset = this.offset;
    const bytes = this.take(total);
    this.header = null;
    const frame = this.frameRecord(offset, bytes, header, bytes.subarray(header.size));
    out.push(frame);
    this.trackMessage(frame);
    if (this.validate(bytes.slice(header.size), out, offset, frame)) {
      this.phase = 'stopped';
      return false;
    }
    return true;
  }

  private frameRecord(offset: number, bytes: Uint8Array, header: Header, maskedPayload: Uint8Array): FrameRecord {
    const b0 = bytes[0] as number;
    const b1 = bytes[1] as number;
    const masked = (b1 & 0x80) !== 0;
    const maskKey = masked ? bytes.slice(header.size - 4, header.size) : null;
    const payload = maskedPayload.slice();
    if (maskKey !== null) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (maskKey[i & 3] as number);
    const opcode = b0 & 0x0f;
    const rsv1 = (b0 & 0x40) !== 0;
    const isData = opcode === 0x1 || opcode === 0x2;
    let close: FrameRecord['close'] = null;
    if (opcode === 0x8 && payload.length >= 2) {
      const code = ((payload[0] as number) << 8) | (payload[1] as number);
      close = { code, codeName: closeCodeName(code), reason: utf8.decode(payload.subarray(2)) };
    }
    return {
      kind: 'frame',
      offset,
      fin: (b0 & 0x80) !== 0,
      rsv1,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode,
      opcodeName: opcodeName(opcode),
      masked,
      maskKey,
      payloadLength: header.payloadLength,
      lengthEncoding: header.lengthEncoding,
      header: bytes.slice(0, header.size),
      payload,
      compressed: isData ? rsv1 : opcode === 0x0 && (this.message?.compressed ?? false),
      close,
    };
  }

  private trackMessage(frame: FrameRecord): void {
    if (frame.opcode === 0x1 || frame.opcode === 0x2) {
      this.message = { compressed: frame.rsv1, frames: 1, wireLength: frame.payloadLength };
    } else if (frame.opcode === 0x0 && this.message !== null) {
      this.message.frames++;
      this.message.wireLength += frame.payloadLength;
    }
  }

  /**
   * Feeds bytes (a copy: the codec unmasks in place) to the validating
   * connection and turns its events into records. True when it failed.
   */
  private validate(bytes: Uint8Array, out: DissectRecord[], frameOffset: number, frame: FrameRecord | null): boolean {
    if (this.validator === null) {
      this.validator = new Connection({
        role: this.from === 'client' ? 'server' : 'client',
        ...(this.maxMessageSize === undefined ? {} : { maxMessageSize: this.maxMessageSize }),
        extensions: this.deflate === null ? [] : [perMessageDeflateAgreement(this.deflate)],
      });
    }
    const conn = this.validator;
    conn.receive(bytes);
    for (let ev = conn.nextEvent(); ev; ev = conn.nextEvent()) {
      if (ev.type === 'protocol-error') {
        const hint = this.deflate === null && frame === null && /RSV/i.test(ev.reason) ? ' (pass --deflate if permessage-deflate was negotiated)' : '';
        out.push({ kind: 'error', offset: frameOffset, code: ev.code, reason: ev.reason + hint });
        return true;
      }
      if (ev.type === 'text' || ev.type === 'binary') {
        const m = this.message ?? { compressed: false, frames: 1, wireLength: 0 };
        const length = typeof ev.data === 'string' ? new TextEncoder().encode(ev.data).length : ev.data.length;
        out.push({
          kind: 'message',
          type: ev.type,
          data: typeof ev.data === 'string' ? ev.data : ev.data.slice(),
          wireLength: m.wireLength,
          length,
          compressed: m.compressed,
          frames: m.frames,
        });
        this.message = null;
      }
    }
    // The validator's replies (pongs, close echoes) are not part of the stream being dissected.
    conn.takeOutgoing();
    return false;
  }

  private peek(n: number): Uint8Array {
    if (this.pending.length === 1 || n <= (this.pending[0]?.length ?? 0)) return (this.pending[0] ?? EMPTY).subarray(0, n);
    const joined = new Uint8Array(this.pendingLength);
    let p = 0;
    for (const chunk of this.pending) {
      joined.set(chunk, p);
      p += chunk.length;
    }
    this.pending = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const bytes = this.peek(n);
    const first = this.pending[0] as Uint8Array;
    this.pending = first.length === n ? [] : [first.subarray(n)];
    this.pendingLength -= n;
    this.offset += n;
    return bytes;
  }
}

/** Header size from the second byte: 2, +2 or +8 for the length, +4 for a mask key. */
function headerSize(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

function parseHeader(h: Uint8Array): Header {
  const len7 = (h[1] as number) & 0x7f;
  const size = headerSize(h[1] as number);
  if (len7 === 126) return { size, payloadLength: ((h[2] as number) << 8) | (h[3] as number), lengthEncoding: '16-bit' };
  if (len7 === 127) {
    const view = new DataView(h.buffer, h.byteOffset + 2, 8);
    // Beyond 2^53 the number is approximate, but such a frame fails the size limit anyway.
    return { size, payloadLength: view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4), lengthEncoding: '64-bit' };
  }
  return { size, payloadLength: len7, lengthEncoding: '7-bit' };
}

/**
 * Both directions of one session: the request's key checks the response's
 * accept value, and the response's permessage-deflate applies to both sides.
 */
export class SessionDissector {
  readonly client: StreamDissector;
  readonly server: StreamDissector;

  constructor(options: { readonly maxMessageSize?: number; readonly deflate?: Partial<PerMessageDeflateParams> | null } = {}) {
    this.client = new StreamDissector({ from: 'client', ...options });
    this.server = new StreamDissector({ from: 'server', ...options });
  }

  push(from: Side, bytes: Uint8Array): DissectRecord[] {
    const records = (from === 'client' ? this.client : this.server).push(bytes);
    for (const record of records) {
      if (record.kind === 'http-request' && record.key !== null) this.server.requestKey = record.key;
      if (record.kind === 'http-response') this.client.setDeflate(this.server.deflateParams);
    }
    return records;
  }
}
