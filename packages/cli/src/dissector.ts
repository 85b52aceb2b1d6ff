/**
 * Dissects one direction of a WebSocket byte stream into records: the HTTP
 * head if there is one, then every frame with its header fields as written,
 * and the messages the codec assembles from them.
 *
 * Two jobs, kept apart on purpose. What the bytes say is read with the
 * codec's lower layers: heads with the parsers of `@rfc6455/codec/http`,
 * frame headers with `parseFrameHeader` of `@rfc6455/codec/frames` (the
 * endpoints report messages, not frames). Whether the bytes are allowed is
 * never decided here: a request is judged by `validateUpgradeRequest`, a 101
 * by `validateUpgradeResponse` against the request seen in the other
 * direction and then by a `ClientEndpoint` that agrees its extensions, and
 * every frame is fed to a real endpoint of the receiving role, whose
 * `protocol-error` is where dissection stops, with its close code and
 * reason (receiving-endpoint.ts builds those endpoints). So what this tool
 * calls invalid is exactly what this project's endpoints refuse.
 */
import {
  closeCodeName,
  type ClientEndpoint,
  type ExtensionElement,
  type PerMessageDeflateParams,
  type ServerEndpoint,
} from '@rfc6455/codec';
import { opcodeName, parseFrameHeader, unmaskInPlace, type FrameHeader } from '@rfc6455/codec/frames';
import {
  HandshakeFailure,
  computeAcceptKey,
  createRequestHeadParser,
  createResponseHeadParser,
  validateUpgradeRequest,
  type HttpHeadParser,
  type HttpHeaders,
  type RequestLine,
  type StatusLine,
  type UpgradeRequestEvent,
} from '@rfc6455/codec/http';
import { streamStart } from './detect-side.js';
import { plainBytes } from './plain-bytes.js';
import { deflateElement, judgeSwitchingProtocols, receivingEndpoint } from './receiving-endpoint.js';
import type {
  DissectRecord,
  ErrorRecord,
  FrameRecord,
  HttpRequestRecord,
  HttpResponseRecord,
  Side,
} from './records.js';

export interface StreamDissectorOptions {
  /** Who sent these bytes. */
  readonly from: Side;
  /** permessage-deflate parameters agreed elsewhere (a response head in the stream, or the other direction's, agrees them too). */
  readonly deflate?: Partial<PerMessageDeflateParams> | null;
  /** Largest message the validating endpoint accepts (default: the codec's 16 MiB). */
  readonly maxMessageSize?: number;
}

type Phase = 'start' | 'head' | 'frames' | 'body' | 'stopped';

type HeadReader =
  | { readonly type: 'request'; readonly parser: HttpHeadParser<RequestLine> }
  | { readonly type: 'response'; readonly parser: HttpHeadParser<StatusLine> };

/** Either role's endpoint: the one that receives what this stream carries. */
type Validator = ClientEndpoint | ServerEndpoint;

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();
/** A ClientEndpoint tolerates this many 1xx responses before the real one. */
const MAX_INTERIM_RESPONSES = 8;
const LENGTH_ENCODING = { 7: '7-bit', 16: '16-bit', 64: '64-bit' } as const;

export class StreamDissector {
  readonly from: Side;

  private phase: Phase = 'start';
  private readonly deflate: Partial<PerMessageDeflateParams> | null;
  private readonly maxMessageSize: number | undefined;
  private requestValue: UpgradeRequestEvent | null = null;
  private answering: UpgradeRequestEvent | null = null;
  private agreedValue: readonly ExtensionElement[] | null = null;
  private validator: Validator | null = null;
  private head: HeadReader | null = null;
  /** Bytes of the current head given to its parser so far. */
  private headConsumed = 0;
  private interimResponses = 0;
  // Received bytes not yet dissected: a list, joined only once a whole frame is there,
  // so a large frame arriving in many chunks is copied once, not once per chunk.
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  /** Stream offset of the first pending byte (of the current head, while one is read). */
  private offset = 0;
  private header: FrameHeader | null = null;
  /** Whether the current frame is part of a compressed message. */
  private frameCompressed = false;
  /** Records the endpoint produced from the current frame's header alone. */
  private headerEvents: DissectRecord[] = [];
  private message: { compressed: boolean; frames: number; wireLength: number } | null = null;

  constructor(options: StreamDissectorOptions) {
    this.from = options.from;
    this.deflate = options.deflate ?? null;
    this.maxMessageSize = options.maxMessageSize;
  }

  /** The valid upgrade request this stream carried, once its head was read. */
  get request(): UpgradeRequestEvent | null {
    return this.requestValue;
  }

  /** The extensions a valid 101 in this stream agreed (empty: none), or null before one. */
  get agreedExtensions(): readonly ExtensionElement[] | null {
    return this.agreedValue;
  }

  /**
   * The request a response in this stream answers, seen in the other
   * direction: the response is checked against its key, subprotocols and
   * extension offers. Without it a 101 is checked only for what holds
   * whatever was offered.
   */
  answers(request: UpgradeRequestEvent): void {
    this.answering = request;
  }

  /** Extensions the server agreed (seen in the other direction); they apply from the first frame on. */
  agree(extensions: readonly ExtensionElement[]): void {
    this.agreedValue = extensions;
  }

  /** True once a rule was broken: later bytes are not dissected. */
  get stopped(): boolean {
    return this.phase === 'stopped';
  }

  /** Dissects what these bytes complete. The bytes are not modified. */
  push(input: Uint8Array): DissectRecord[] {
    const bytes = plainBytes(input);
    const out: DissectRecord[] = [];
    if (bytes.length === 0 || this.phase === 'stopped') return out;
    if (this.phase === 'body') {
      out.push({ kind: 'http-body', offset: this.offset, bytes: bytes.slice() });
      this.offset += bytes.length;
      return out;
    }
    this.pending.push(bytes);
    this.pendingLength += bytes.length;
    for (;;) {
      const phase = this.phase as Phase;
      if (phase === 'start' && this.readStart()) continue;
      if (phase === 'head' && this.readHead(out)) continue;
      if (phase === 'frames' && this.readFrame(out)) continue;
      break;
    }
    // A refusal's head may have arrived with its body (TS narrows `phase` too eagerly here).
    if ((this.phase as Phase) === 'body' && this.pendingLength > 0) {
      const offset = this.offset;
      out.push({ kind: 'http-body', offset, bytes: this.take(this.pendingLength).slice() });
    }
    return out;
  }

  /** The input ended: reports a frame or head cut short, if any. */
  end(): DissectRecord[] {
    if (this.phase === 'stopped' || this.phase === 'body') return [];
    const have = this.headConsumed + this.pendingLength;
    if (have === 0) return [];
    let reason: string;
    if (this.phase === 'start' || this.phase === 'head')
      reason = `input ended inside the HTTP head (${have} bytes, no blank line yet)`;
    else if (this.header === null) {
      const first = parseFrameHeader(this.peek(Math.min(this.pendingLength, 14)));
      const need = first.type === 'need-more' ? first.bytes : 2;
      reason = `input ended inside a frame header: ${have} of ${need} header bytes`;
    } else {
      const { headerLength, payloadLength } = this.header;
      reason = `input ended inside a frame: ${have} of ${headerLength + payloadLength} bytes (header ${headerLength}, payload ${payloadLength})`;
    }
    this.phase = 'stopped';
    return [stop(this.offset, 'truncated', reason)];
  }

  /** Decides whether a head or frames come first; false while that cannot be told yet. */
  private readStart(): boolean {
    const start = streamStart(this.peek(Math.min(this.pendingLength, 8)));
    if (start === 'undecided') return false;
    if (start === 'frames') this.phase = 'frames';
    else this.startHead(start);
    return true;
  }

  private startHead(type: 'request' | 'response'): void {
    this.head =
      type === 'request' ? { type, parser: createRequestHeadParser() } : { type, parser: createResponseHeadParser() };
    this.headConsumed = 0;
    this.phase = 'head';
  }

  /** Feeds the head parser; true when the head was complete and the next phase began. */
  private readHead(out: DissectRecord[]): boolean {
    const head = this.head as HeadReader;
    if (head.type === 'request') {
      return this.readHeadWith(
        head.parser,
        out,
        (offset, length, line, headers) => this.onRequest(out, offset, length, line, headers),
        (status) => ({
          status,
          failure: requestFailure(status),
        }),
      );
    }
    return this.readHeadWith(
      head.parser,
      out,
      (offset, length, line, headers) => this.onResponse(out, offset, length, line, headers),
      (status) => ({
        // A client names a response it cannot read this way (and has no status to report).
        failure: status === 431 ? HandshakeFailure.ResponseTooLarge : HandshakeFailure.MalformedResponse,
      }),
    );
  }

  private readHeadWith<T>(
    parser: HttpHeadParser<T>,
    out: DissectRecord[],
    complete: (offset: number, length: number, line: T, headers: HttpHeaders) => void,
    refused: (status: 400 | 431) => { readonly status?: number; readonly failure: HandshakeFailure },
  ): boolean {
    while (this.pending.length > 0) {
      const chunk = this.pending.shift() as Uint8Array;
      this.pendingLength -= chunk.length;
      this.headConsumed += chunk.length;
      const result = parser.push(chunk);
      if (result.type === 'incomplete') continue;
      const offset = this.offset;
      // The parser hands back what followed the head in the last chunk.
      const length = this.headConsumed - (result.type === 'complete' ? result.trailing.length : 0);
      this.headConsumed = 0;
      this.head = null;
      if (result.type === 'invalid') {
        this.phase = 'stopped';
        out.push(stop(offset, 'handshake', result.reason, refused(result.status)));
        return false;
      }
      if (result.trailing.length > 0) {
        this.pending.unshift(result.trailing);
        this.pendingLength += result.trailing.length;
      }
      this.offset += length;
      complete(offset, length, result.startLine, result.headers);
      return this.phase !== 'stopped';
    }
    return false;
  }

  private onRequest(
    out: DissectRecord[],
    offset: number,
    length: number,
    line: RequestLine,
    headers: HttpHeaders,
  ): void {
    const verdict = validateUpgradeRequest(line, headers);
    const key = headers.getAll('sec-websocket-key').length === 1 ? (headers.get('sec-websocket-key') as string) : null;
    const record: HttpRequestRecord = {
      kind: 'http-request',
      offset,
      startLine: `${line.method} ${line.target} HTTP/${line.httpVersion}`,
      headers: headers.entries(),
      length,
      key,
      expectedAccept: verdict.ok ? computeAcceptKey(verdict.request.key) : null,
      problem: verdict.ok ? null : `${verdict.status}: ${verdict.reason}`,
    };
    out.push(record);
    if (!verdict.ok) {
      // A server reads nothing after a request it refuses.
      out.push(
        stop(offset, 'handshake', verdict.reason, { status: verdict.status, failure: requestFailure(verdict.status) }),
      );
      this.phase = 'stopped';
      return;
    }
    this.requestValue = verdict.request;
    this.phase = 'frames';
  }

  private onResponse(
    out: DissectRecord[],
    offset: number,
    length: number,
    line: StatusLine,
    headers: HttpHeaders,
  ): void {
    const accept =
      headers.getAll('sec-websocket-accept').length === 1 ? (headers.get('sec-websocket-accept') as string) : null;
    const key = this.answering?.key ?? null;
    const base = {
      kind: 'http-response' as const,
      offset,
      startLine: `HTTP/${line.httpVersion} ${line.status}${line.reason === '' ? '' : ` ${line.reason}`}`,
      status: line.status,
      headers: headers.entries(),
      length,
      accept,
      acceptMatches: key === null || accept === null ? null : computeAcceptKey(key) === accept,
    };
    if (line.status !== 101) {
      out.push({ ...base, deflate: null, problem: null });
      if (line.status >= 200) {
        this.phase = 'body';
        return;
      }
      // 1xx other than 101 (e.g. 103 Early Hints) precede the real response.
      if (++this.interimResponses > MAX_INTERIM_RESPONSES) {
        out.push(
          stop(offset, 'handshake', `more than ${MAX_INTERIM_RESPONSES} interim responses`, {
            failure: HandshakeFailure.MalformedResponse,
          }),
        );
        this.phase = 'stopped';
        return;
      }
      this.startHead('response');
      return;
    }
    const checked = judgeSwitchingProtocols(headers, this.answering, { maxMessageSize: this.maxMessageSize });
    const record: HttpResponseRecord = {
      ...base,
      deflate: checked.ok && checked.agreed.length > 0 ? (headers.get('sec-websocket-extensions') ?? null) : null,
      problem: checked.ok ? null : checked.reason,
    };
    out.push(record);
    if (!checked.ok) {
      out.push(stop(offset, 'handshake', checked.reason, { status: 101, failure: checked.failure }));
      this.phase = 'stopped';
      return;
    }
    this.agreedValue = checked.agreed;
    // The endpoint that judged the response reads the frames after it, when it is their receiver.
    if (this.from === 'server' && this.validator === null) this.validator = checked.endpoint;
    this.phase = 'frames';
  }

  /** Dissects one frame if its bytes are all there; false when more input is needed or decoding stopped. */
  private readFrame(out: DissectRecord[]): boolean {
    if (this.header === null) {
      const peeked = this.peek(Math.min(this.pendingLength, 14));
      const parsed = parseFrameHeader(peeked);
      if (parsed.type === 'need-more') return false;
      // The header is only read here: an `invalid` one is shown all the same and judged by the endpoint.
      const header = parsed.header;
      if (header === null) {
        // A length no frame may have: nothing to show but the verdict.
        if (!this.validate(peeked.slice(), out, this.offset, null)) {
          out.push(
            stop(
              this.offset,
              'frames',
              parsed.type === 'invalid' ? parsed.reason : 'unreadable frame header',
              parsed.type === 'invalid' ? { code: parsed.code } : {},
            ),
          );
        }
        this.phase = 'stopped';
        return false;
      }
      this.header = header;
      this.frameCompressed = this.trackMessage(header);
      // Header rules (mask, RSV, opcode, limits) are the endpoint's to check now,
      // so a frame announcing 2^60 bytes fails here instead of waiting forever.
      // What it reports goes after the frame's record (an empty frame is whole already).
      if (this.validate(peeked.slice(0, header.headerLength), this.headerEvents, this.offset, null)) {
        out.push(this.frameRecord(this.offset, this.peek(header.headerLength), header, EMPTY), ...this.headerEvents);
        this.phase = 'stopped';
        return false;
      }
    }
    const header = this.header;
    const total = header.headerLength + header.payloadLength;
    if (this.pendingLength < total) return false;
    const offset = this.offset;
    const bytes = this.take(total);
    this.header = null;
    const frame = this.frameRecord(offset, bytes, header, bytes.subarray(header.headerLength));
    out.push(frame, ...this.headerEvents);
    this.headerEvents = [];
    if (this.validate(bytes.slice(header.headerLength), out, offset, frame)) {
      this.phase = 'stopped';
      return false;
    }
    return true;
  }

  private frameRecord(offset: number, bytes: Uint8Array, header: FrameHeader, maskedPayload: Uint8Array): FrameRecord {
    const payload = maskedPayload.slice();
    if (header.maskKey !== null) unmaskInPlace(payload, header.maskKey, 0);
    const { opcode } = header;
    let close: FrameRecord['close'] = null;
    if (opcode === 0x8 && payload.length >= 2) {
      const code = ((payload[0] as number) << 8) | (payload[1] as number);
      close = { code, codeName: closeCodeName(code), reason: utf8.decode(payload.subarray(2)) };
    }
    return {
      kind: 'frame',
      offset,
      fin: header.fin,
      rsv1: (header.rsv & 0x40) !== 0,
      rsv2: (header.rsv & 0x20) !== 0,
      rsv3: (header.rsv & 0x10) !== 0,
      opcode,
      opcodeName: opcodeName(opcode),
      masked: header.masked,
      maskKey: header.maskKey,
      payloadLength: header.payloadLength,
      lengthEncoding: LENGTH_ENCODING[header.lengthEncoding],
      header: bytes.slice(0, header.headerLength),
      payload,
      compressed: this.frameCompressed,
      close,
    };
  }

  /**
   * Counts a frame into the message it belongs to, before the endpoint sees
   * it (its message may end with it); true when that message is compressed.
   */
  private trackMessage(header: FrameHeader): boolean {
    if (header.opcode === 0x1 || header.opcode === 0x2) {
      const compressed = (header.rsv & 0x40) !== 0;
      this.message = { compressed, frames: 1, wireLength: header.payloadLength };
      return compressed;
    }
    if (header.opcode !== 0x0 || this.message === null) return false;
    this.message.frames++;
    this.message.wireLength += header.payloadLength;
    return this.message.compressed;
  }

  /**
   * Feeds bytes (a copy: the endpoint unmasks in place) to the validating
   * endpoint and turns its events into records. True when it failed.
   */
  private validate(bytes: Uint8Array, out: DissectRecord[], frameOffset: number, frame: FrameRecord | null): boolean {
    if (this.validator === null) {
      // Opened with the extensions agreed by a 101 seen in either direction, else by the options.
      const agreed = this.agreedValue ?? (this.deflate === null ? [] : [deflateElement(this.deflate)]);
      const made = receivingEndpoint(this.from, agreed, { maxMessageSize: this.maxMessageSize });
      if (typeof made === 'string') {
        out.push(stop(frameOffset, 'frames', `cannot validate the frames: ${made}`));
        return true;
      }
      this.validator = made;
    }
    const endpoint = this.validator;
    endpoint.receive(bytes);
    for (let ev = endpoint.nextEvent(); ev !== undefined; ev = endpoint.nextEvent()) {
      if (ev.type === 'protocol-error') {
        const unknown = this.agreedValue === null && this.deflate === null;
        const hint =
          unknown && frame === null && /RSV/i.test(ev.reason)
            ? ' (pass --deflate if permessage-deflate was negotiated)'
            : '';
        out.push(stop(frameOffset, 'frames', ev.reason + hint, ev.phase === 'frames' ? { code: ev.code } : {}));
        return true;
      }
      if (ev.type === 'text' || ev.type === 'binary') {
        const m = this.message ?? { compressed: false, frames: 1, wireLength: 0 };
        out.push({
          kind: 'message',
          type: ev.type,
          data: typeof ev.data === 'string' ? ev.data : ev.data.slice(),
          wireLength: m.wireLength,
          length: typeof ev.data === 'string' ? utf8Encoder.encode(ev.data).length : ev.data.length,
          compressed: m.compressed,
          frames: m.frames,
        });
        this.message = null;
      }
    }
    // The endpoint's replies (pongs, close echoes) are not part of the stream being dissected.
    endpoint.takeOutgoing();
    return false;
  }

  private peek(n: number): Uint8Array {
    if (this.pending.length === 1 || n <= (this.pending[0]?.length ?? 0))
      return (this.pending[0] ?? EMPTY).subarray(0, n);
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

function stop(
  offset: number,
  phase: ErrorRecord['phase'],
  reason: string,
  detail: { readonly code?: number; readonly status?: number; readonly failure?: HandshakeFailure | null } = {},
): ErrorRecord {
  return {
    kind: 'error',
    offset,
    phase,
    code: detail.code ?? null,
    status: detail.status ?? null,
    failure: detail.failure ?? null,
    reason,
  };
}

/** How a server endpoint names the refusals of a request, by status. */
function requestFailure(status: number): HandshakeFailure {
  return status === 426
    ? HandshakeFailure.UnsupportedVersion
    : status === 431
      ? HandshakeFailure.RequestTooLarge
      : HandshakeFailure.BadRequest;
}

/**
 * Both directions of one session: the request in the client's bytes is what
 * the response in the server's bytes is checked against, and the extensions
 * that response agrees apply to the frames of both sides.
 */
export class SessionDissector {
  readonly client: StreamDissector;
  readonly server: StreamDissector;

  constructor(
    options: { readonly maxMessageSize?: number; readonly deflate?: Partial<PerMessageDeflateParams> | null } = {},
  ) {
    this.client = new StreamDissector({ from: 'client', ...options });
    this.server = new StreamDissector({ from: 'server', ...options });
  }

  push(from: Side, bytes: Uint8Array): DissectRecord[] {
    const records = (from === 'client' ? this.client : this.server).push(bytes);
    for (const record of records) {
      if (record.kind === 'http-request' && this.client.request !== null) this.server.answers(this.client.request);
      if (record.kind === 'http-response' && this.server.agreedExtensions !== null)
        this.client.agree(this.server.agreedExtensions);
    }
    return records;
  }
}
