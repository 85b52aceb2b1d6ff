/**
 * The HTTP/1.1 messages one direction of a captured connection carries, one
 * after another (keep-alive), with their bodies: enough to follow
 * long-polling requests and to find the request that upgrades to WebSocket,
 * where the bytes are handed on whole. Heads are read by the codec's
 * parsers; body framing follows RFC 9112 §6.
 */
import {
  BodyReader,
  createRequestHeadParser,
  createResponseHeadParser,
  responseBodyFraming,
  type BodyFraming,
  type HttpHeadParser,
  type HttpHeaders,
  type RequestLine,
  type StatusLine,
} from '@rfc6455/codec/http';

export type HttpHead =
  | { readonly type: 'request'; readonly line: RequestLine; readonly headers: HttpHeaders }
  | { readonly type: 'response'; readonly line: StatusLine; readonly headers: HttpHeaders };

export type HttpStreamItem =
  | { readonly type: 'message'; readonly head: HttpHead; readonly body: Uint8Array; readonly complete: boolean }
  /** From here on the bytes are not HTTP: `bytes` starts with the head that switched protocols (or with the response to it). */
  | { readonly type: 'switch'; readonly bytes: Uint8Array }
  | { readonly type: 'invalid'; readonly reason: string };

/** Largest body kept (and largest chunked body followed), in bytes. */
const DEFAULT_MAX_BODY = 1024 * 1024;

export class HttpStream {
  private parser: HttpHeadParser<RequestLine> | HttpHeadParser<StatusLine>;
  private headBytes: Uint8Array[] = [];
  private head: HttpHead | null = null;
  private body: { framing: BodyFraming; reader: BodyReader; remaining: number } | null = null;
  private broken = false;
  private switched = false;
  /** Responses: how many have been read, and after how many the protocol switches. */
  private messages = 0;
  private switchAfter: number | null = null;
  private readonly maxBody: number;
  /** Requests whose responses have no body (HEAD), by message index; responses only. */
  readonly bodiless = new Set<number>();

  constructor(
    readonly kind: 'request' | 'response',
    options: { readonly maxBody?: number } = {},
  ) {
    this.parser = kind === 'request' ? createRequestHeadParser() : createResponseHeadParser();
    this.maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
  }

  /** Responses: the response after `count` earlier ones answers an upgrade request. */
  switchAt(count: number): void {
    this.switchAfter = count;
  }

  push(bytes: Uint8Array): HttpStreamItem[] {
    const out: HttpStreamItem[] = [];
    let rest = bytes;
    while (rest.length > 0 && !this.broken && !this.switched) {
      if (this.head === null) {
        if (this.kind === 'response' && this.switchAfter === this.messages && this.headBytes.length === 0) {
          this.switched = true;
          out.push({ type: 'switch', bytes: rest });
          return out;
        }
        rest = this.readHead(rest, out);
      } else rest = this.readBody(rest, out);
    }
    return out;
  }

  /** The connection's direction ended: a body delimited by the end is complete. */
  end(): HttpStreamItem[] {
    if (this.body === null || this.head === null) return [];
    this.body.reader.receiveEof();
    return [this.finish()];
  }

  private readHead(bytes: Uint8Array, out: HttpStreamItem[]): Uint8Array {
    const result = this.parser.push(bytes);
    if (result.type === 'incomplete') {
      this.headBytes.push(bytes);
      return bytes.subarray(bytes.length);
    }
    if (result.type === 'invalid') {
      this.broken = true;
      out.push({ type: 'invalid', reason: `not a valid HTTP ${this.kind} head: ${result.reason}` });
      return bytes.subarray(bytes.length);
    }
    const used = bytes.subarray(0, bytes.length - result.trailing.length);
    const raw = concat([...this.headBytes, used]);
    this.headBytes = [];
    this.parser = this.kind === 'request' ? createRequestHeadParser() : createResponseHeadParser();
    const head =
      this.kind === 'request'
        ? { type: 'request' as const, line: result.startLine as RequestLine, headers: result.headers }
        : { type: 'response' as const, line: result.startLine as StatusLine, headers: result.headers };
    if (head.type === 'request' && isWebSocketUpgrade(head.headers)) {
      this.switched = true;
      out.push({ type: 'switch', bytes: concat([raw, result.trailing]) });
      return bytes.subarray(bytes.length);
    }
    this.head = head;
    const framing = this.framing(head);
    this.body = {
      framing,
      reader: new BodyReader(framing, this.maxBody),
      remaining: framing.kind === 'length' ? framing.length : 0,
    };
    if (framing.kind === 'invalid') {
      this.broken = true;
      out.push({ type: 'invalid', reason: 'a message whose body length cannot be told (conflicting Content-Length)' });
      return bytes.subarray(bytes.length);
    }
    if (this.body.reader.done) out.push(this.finish());
    return result.trailing;
  }

  private readBody(bytes: Uint8Array, out: HttpStreamItem[]): Uint8Array {
    const body = this.body as NonNullable<HttpStream['body']>;
    let used: number;
    if (body.framing.kind === 'length') {
      used = Math.min(body.remaining, bytes.length);
      body.reader.push(bytes.subarray(0, used));
      body.remaining -= used;
      if (body.remaining > 0) return bytes.subarray(used);
    } else if (body.framing.kind === 'chunked') {
      // The reader does not say where a chunked body ends, so it is fed a byte at a time.
      used = 0;
      while (used < bytes.length && !body.reader.done) body.reader.push(bytes.subarray(used, ++used));
      if (!body.reader.done) return bytes.subarray(used);
      if (!body.reader.result().complete) {
        this.broken = true;
        out.push({ type: 'invalid', reason: `a chunked body that is malformed or larger than ${this.maxBody} bytes` });
        return bytes.subarray(bytes.length);
      }
    } else {
      body.reader.push(bytes);
      return bytes.subarray(bytes.length);
    }
    out.push(this.finish());
    return bytes.subarray(used);
  }

  private finish(): HttpStreamItem {
    const head = this.head as HttpHead;
    const { body, complete } = (this.body as NonNullable<HttpStream['body']>).reader.result();
    this.head = null;
    this.body = null;
    // An interim (1xx) response precedes the real one to the same request.
    if (head.type === 'request' || head.line.status >= 200) this.messages++;
    return { type: 'message', head, body, complete };
  }

  private framing(head: HttpHead): BodyFraming {
    if (head.type === 'response') {
      if (this.bodiless.has(this.messages)) return { kind: 'none' };
      return responseBodyFraming(head.line.status, head.headers);
    }
    // Requests have a body only when they say so (RFC 9112 §6.3).
    if (head.headers.has('transfer-encoding')) return { kind: 'chunked' };
    if (!head.headers.has('content-length')) return { kind: 'none' };
    const framing = responseBodyFraming(200, head.headers);
    return framing;
  }
}

function isWebSocketUpgrade(headers: HttpHeaders): boolean {
  return (headers.get('upgrade') ?? '').split(',').some((token) => token.trim().toLowerCase() === 'websocket');
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
