/**
 * A WebSocket client over HTTP/2 for the tests: node:http2 opens the
 * extended CONNECT stream (RFC 8441), the codec's frame layer writes masked
 * frames and reads the server's, and node:zlib (not the server's deflater)
 * compresses and inflates permessage-deflate messages, offered without
 * context takeover so each message stands alone.
 */
import { once } from 'node:events';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  connect,
} from 'node:http2';
import { randomBytes } from 'node:crypto';
import { constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { encodeFrame, Opcode, parseFrameHeader } from '@rfc6455/codec/frames';

export { Opcode };

/** A whole message or control frame from the server. */
export interface PeerMessage {
  readonly opcode: number;
  readonly data: Buffer;
  /** The first frame's RSV bits (0x40: compressed). */
  readonly rsv: number;
  /** How many frames carried it. */
  readonly frames: number;
}

export const DEFLATE_OFFER = 'permessage-deflate; client_no_context_takeover; server_no_context_takeover';

export async function connectH2(authority: string): Promise<ClientHttp2Session> {
  const session = connect(authority, { rejectUnauthorized: false });
  session.on('error', () => {});
  await once(session, 'remoteSettings');
  return session;
}

export interface OpenOptions {
  readonly path?: string;
  /** Extra request fields, or pseudo-header overrides (`':protocol'`, …); a value of undefined removes a field. */
  readonly headers?: Record<string, string | undefined>;
}

/** Sends an extended CONNECT and waits for the response (or the stream's end without one). */
export async function openStream(session: ClientHttp2Session, options: OpenOptions = {}): Promise<H2Peer> {
  const headers: OutgoingHttpHeaders = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':path': options.path ?? '/',
    'sec-websocket-version': '13',
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  const stream = session.request(headers, { endStream: false });
  const peer = new H2Peer(stream);
  await peer.responded;
  return peer;
}

/** One WebSocket on an HTTP/2 stream, seen from the client. */
export class H2Peer {
  status: number | null = null;
  responseHeaders: IncomingHttpHeaders = {};
  /** The error code of the RST_STREAM that ended the stream (0 for a clean end). */
  rstCode: number | undefined;
  readonly responded: Promise<void>;
  readonly closed: Promise<void>;
  /** Every byte of the response body (the WebSocket's frames once accepted). */
  body: Buffer = Buffer.alloc(0);
  ended = false;
  private readonly messages: PeerMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private inbox: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private partOpcode = 0;
  private partRsv = 0;
  private partFrames = 0;
  private inflate = false;

  constructor(readonly stream: ClientHttp2Stream) {
    stream.on('error', () => {});
    this.responded = new Promise((resolve) => {
      stream.once('response', (h) => {
        this.status = Number(h[':status']);
        this.responseHeaders = h;
        this.inflate = String(h['sec-websocket-extensions'] ?? '').startsWith('permessage-deflate');
        resolve();
      });
      stream.once('close', () => resolve());
    });
    this.closed = new Promise((resolve) =>
      stream.once('close', () => {
        this.rstCode = stream.rstCode;
        this.wake();
        resolve();
      }),
    );
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Sends one frame, masked with a fresh key; `compress` deflates the payload and sets RSV1. */
  frame(opcode: number, payload: Uint8Array | string, options: { fin?: boolean; compress?: boolean } = {}): void {
    let bytes: Uint8Array = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (options.compress) {
      const out = deflateRawSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      bytes = out.subarray(0, out.length - 4); // RFC 7692 §7.2.1: without the final 00 00 ff ff
    }
    this.stream.write(
      encodeFrame(
        { opcode, fin: options.fin ?? true, rsv: options.compress ? 0x40 : 0, maskKey: randomBytes(4) },
        bytes,
      ),
    );
  }

  text(data: string, compress = false): void {
    this.frame(Opcode.Text, data, { compress });
  }

  binary(data: Uint8Array, compress = false): void {
    this.frame(Opcode.Binary, data, { compress });
  }

  close(code: number, reason = ''): void {
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.frame(Opcode.Close, payload);
  }

  /** The next message or control frame; rejects if the stream ends first. */
  async next(): Promise<PeerMessage> {
    for (;;) {
      const message = this.messages.shift();
      if (message !== undefined) return message;
      if (this.ended || this.rstCode !== undefined) throw new Error('the stream ended without another message');
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  /** Waits for the server's END_STREAM (or the stream's close). */
  async end(): Promise<void> {
    while (!this.ended && this.rstCode === undefined) await new Promise<void>((resolve) => this.waiters.add(resolve));
  }

  private wake(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const w of waiting) w();
  }

  private onData(chunk: Buffer): void {
    this.body = Buffer.concat([this.body, chunk]);
    if (this.status !== 200) return;
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    for (;;) {
      const parsed = parseFrameHeader(this.inbox, 0, { expectMasked: false, allowedRsv: 0x40 });
      if (parsed.type === 'need-more') break;
      if (parsed.type === 'invalid') throw new Error(`the server sent an invalid frame: ${parsed.reason}`);
      const { headerLength, payloadLength, opcode, fin, rsv } = parsed.header;
      if (this.inbox.length < headerLength + payloadLength) break;
      const payload = this.inbox.subarray(headerLength, headerLength + payloadLength);
      this.inbox = this.inbox.subarray(headerLength + payloadLength);
      if (opcode >= 8) {
        this.messages.push({ opcode, data: Buffer.from(payload), rsv, frames: 1 });
        continue;
      }
      if (opcode !== Opcode.Continuation) {
        this.partOpcode = opcode;
        this.partRsv = rsv;
        this.partFrames = 0;
        this.parts = [];
      }
      this.parts.push(Buffer.from(payload));
      this.partFrames++;
      if (!fin) continue;
      let data = Buffer.concat(this.parts);
      if (this.inflate && this.partRsv === 0x40) {
        data = inflateRawSync(Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]), {
          finishFlush: zlibConstants.Z_SYNC_FLUSH,
        });
      }
      this.messages.push({ opcode: this.partOpcode, data, rsv: this.partRsv, frames: this.partFrames });
    }
    this.wake();
  }
}

/** The close frame's code and reason. */
export function closeOf(message: PeerMessage): { code: number; reason: string } {
  if (message.opcode !== Opcode.Close) throw new Error(`expected a close frame, got opcode ${message.opcode}`);
  return message.data.length < 2
    ? { code: 1005, reason: '' }
    : { code: message.data.readUInt16BE(0), reason: message.data.subarray(2).toString() };
}
