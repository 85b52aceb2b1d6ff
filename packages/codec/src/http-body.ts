/**
 * Reads the body of a non-101 handshake response, so an application can show
 * the server's explanation (a 401 challenge, a 403 page, a 503 notice). It is
 * only informational: it is capped at a size limit and a malformed body just
 * ends early, flagged incomplete.
 */

import { concat } from 'uint8arrays/concat';
import type { HttpHeaders } from './http-head.js';
import { copyOf } from './byte-copy.js';

/** How the body's end is delimited (RFC 7230 §3.3.3). */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'until-eof' }
  | { readonly kind: 'invalid' };

/** Works out the body framing of a response from its status and fields. */
export function responseBodyFraming(status: number, headers: HttpHeaders): BodyFraming {
  if ((status >= 100 && status < 200) || status === 204 || status === 304) return { kind: 'none' };
  const transferEncoding = headers.get('transfer-encoding');
  if (transferEncoding !== undefined) {
    const codings = transferEncoding.split(',');
    const last = (codings[codings.length - 1] ?? '').trim().toLowerCase();
    return last === 'chunked' ? { kind: 'chunked' } : { kind: 'until-eof' };
  }
  const lengths = headers.getAll('content-length');
  if (lengths.length === 0) return { kind: 'until-eof' };
  return contentLength(lengths);
}

/** Every listed value must be the same decimal number (RFC 7230 §3.3.2). */
function contentLength(values: readonly string[]): BodyFraming {
  let length: number | null = null;
  for (const value of values) {
    for (const item of value.split(',')) {
      const text = item.trim();
      if (text.length === 0 || text.length > 15 || !isDigits(text)) return { kind: 'invalid' };
      const n = Number(text);
      if (length !== null && n !== length) return { kind: 'invalid' };
      length = n;
    }
  }
  return length === null ? { kind: 'invalid' } : { kind: 'length', length };
}

function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

const LF = 0x0a;
/** Chunk-size and trailer lines longer than this end the body as malformed. */
const MAX_CONTROL_LINE = 4096;

const ChunkPhase = {
  SizeLine: 'size-line',
  Data: 'data',
  DataEnd: 'data-end',
  Trailer: 'trailer',
} as const;
type ChunkPhase = (typeof ChunkPhase)[keyof typeof ChunkPhase];

/** Collects a response body up to `maxSize` bytes. */
export class BodyReader {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  private finished = false;
  private complete = false;
  // Chunked decoding state.
  private phase: ChunkPhase = ChunkPhase.SizeLine;
  private line = '';
  private remaining = 0;

  constructor(
    private readonly framing: BodyFraming,
    private readonly maxSize: number,
  ) {
    if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0)) this.end(true);
    else if (framing.kind === 'invalid') this.end(false);
  }

  /** Whether the body is over: complete, capped, malformed, or cut by EOF. */
  get done(): boolean {
    return this.finished;
  }

  /** Feeds bytes; returns {@link done}. Bytes after the end are ignored. */
  push(chunk: Uint8Array): boolean {
    if (this.finished) return true;
    if (this.framing.kind === 'chunked') {
      this.pushChunked(chunk);
    } else if (this.framing.kind === 'length') {
      this.store(chunk.subarray(0, this.framing.length - this.size));
      if (!this.finished && this.size === this.framing.length) this.end(true);
    } else {
      this.store(chunk);
    }
    return this.finished;
  }

  /** The transport ended: the body is complete only if it was delimited by EOF. */
  receiveEof(): void {
    if (!this.finished) this.end(this.framing.kind === 'until-eof');
  }

  /** The bytes read so far, and whether they are the whole body. */
  result(): { readonly body: Uint8Array<ArrayBuffer>; readonly complete: boolean } {
    return { body: concat(this.parts, this.size), complete: this.complete };
  }

  /** Keeps body bytes up to the cap; going past it ends the body as incomplete. */
  private store(bytes: Uint8Array): void {
    const room = this.maxSize - this.size;
    const take = Math.min(room, bytes.length);
    if (take > 0) {
      this.parts.push(copyOf(bytes, 0, take));
      this.size += take;
    }
    const expectsMore = this.framing.kind === 'length' && this.framing.length > this.size;
    if (bytes.length > room || (this.size === this.maxSize && expectsMore)) this.end(false);
  }

  private pushChunked(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.finished) {
      if (this.phase === ChunkPhase.Data) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.store(chunk.subarray(i, i + take));
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.phase = ChunkPhase.DataEnd;
        continue;
      }
      const byte = chunk[i++] ?? 0;
      if (byte === LF) this.onControlLine(this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line);
      else if (this.line.length >= MAX_CONTROL_LINE) this.end(false);
      else this.line += String.fromCharCode(byte);
    }
  }

  private onControlLine(line: string): void {
    this.line = '';
    switch (this.phase) {
      case ChunkPhase.SizeLine: {
        const size = parseChunkSize(line);
        if (size === null) this.end(false);
        else if (size === 0) this.phase = ChunkPhase.Trailer;
        else {
          this.remaining = size;
          this.phase = ChunkPhase.Data;
        }
        return;
      }
      case ChunkPhase.DataEnd:
        if (line === '') this.phase = ChunkPhase.SizeLine;
        else this.end(false);
        return;
      case ChunkPhase.Trailer:
        if (line === '') this.end(true);
        return;
      default:
        return;
    }
  }

  private end(complete: boolean): void {
    this.finished = true;
    this.complete = complete;
  }
}

/** `chunk-size [ chunk-ext ]`: hexadecimal, extensions ignored; null if malformed. */
function parseChunkSize(line: string): number | null {
  const semicolon = line.indexOf(';');
  const hex = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
  if (hex.length === 0 || hex.length > 12) return null;
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i);
    const isHex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    if (!isHex) return null;
  }
  return Number.parseInt(hex, 16);
}
