/**
 * The opening handshake from the client's side (RFC 6455 §4.1): the fuzzing
 * server answers an upgrade request with a defective response and judges the
 * client's reaction on the wire.
 *
 * - Defective response (a 101 with a wrong or missing Sec-WebSocket-Accept,
 *   Upgrade or Connection, an extension or subprotocol that was not offered,
 *   permessage-deflate parameters RFC 7692 §7.1 forbids; another status with
 *   a body; a head that never ends or is over 64 KiB): the client must _Fail
 *   the WebSocket Connection_ — send nothing (no frame: the connection never
 *   opened) and close TCP within the deadline. A browser-style API reports an
 *   error and close 1006 (WHATWG WebSockets), which the wire cannot show.
 *   Every defective 101 is followed at once by a text frame, so a client that
 *   wrongly opens shows it by echoing.
 * - A valid 101 followed, in the same write, by frames: the client must read
 *   them as the connection's first frames (echo them and answer our close).
 */
import { createHash } from 'node:crypto';
import { encodeFrame, validStream } from '@rfc6455/codec/testing';
import fc from 'fast-check';
import type { Case, Reply } from './case.js';
import { repliesOf } from './cases.js';
import { closeBody, closeCodeOf, concat, FrameReader, Op } from './wire.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const latin1 = new TextEncoder();

/** What the client asked for, as the fuzzing server read it. */
export interface UpgradeRequestInfo {
  readonly key: string;
  /** Sec-WebSocket-Extensions as sent; undefined when absent. */
  readonly extensions: string | undefined;
  readonly protocols: readonly string[];
}

export type HandshakeReply =
  /** A complete defective response, written at once. `extensions`: the Sec-WebSocket-Extensions it carries. */
  | { readonly type: 'response'; readonly bytes: Uint8Array; readonly extensions?: string }
  /** A head that never ends: `start`, then `more(i)` for i = 0, 1, … for as long as the client reads. */
  | { readonly type: 'endless'; readonly start: Uint8Array; readonly more: (i: number) => Uint8Array }
  /** Part of a head, then nothing: the client's handshake timeout must end it. */
  | { readonly type: 'stalled'; readonly bytes: Uint8Array }
  /** A valid 101 and, in the same write, the frames of `frames`. */
  | { readonly type: 'open'; readonly head: Uint8Array; readonly frames: Case }
  /** The case cannot apply to this request (e.g. no permessage-deflate offered). */
  | { readonly type: 'n/a'; readonly reason: string };

export interface ClientHandshakeCase {
  readonly family: 'handshake';
  /** e.g. `handshake/accept-wrong`, `handshake/deflate/server-max-window-bits-7`, `handshake/frames-with-101`. */
  readonly variant: string;
  readonly description: string;
  readonly reply: (req: UpgradeRequestInfo) => HandshakeReply;
}

export interface ClientHandshakeOptions {
  /**
   * The client's own handshake timeout (ms), when it has one: enables
   * `handshake/stalled-head`, which it must end within that time (plus the
   * fuzzing server's `failTimeout`).
   */
  readonly clientHandshakeTimeout?: number;
}

export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** The parameters of each permessage-deflate element offered (names lower-cased). */
function deflateOffers(header: string | undefined): string[][] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((element) => element.split(';').map((p) => p.trim()))
    .filter(([name]) => name?.toLowerCase() === 'permessage-deflate')
    .map(([, ...params]) => params.map((p) => (p.split('=')[0] ?? '').trim().toLowerCase()));
}

/** A text frame sent right after a defective 101: a client that opened would echo it. */
const PROBE = encodeFrame({ fin: true, rsv: 0, opcode: Op.Text, payload: latin1.encode('opened?'), maskKey: null });

type Lines = readonly (string | undefined)[];

function head101(lines: Lines): Uint8Array {
  return latin1.encode(
    `HTTP/1.1 101 Switching Protocols\r\n${lines
      .filter((l) => l !== undefined)
      .map((l) => `${l}\r\n`)
      .join('')}\r\n`,
  );
}

/** A 101 that is right but for `change`: the base fields are replaced or removed by name. */
function defective101(
  req: UpgradeRequestInfo,
  change: {
    upgrade?: string | null;
    connection?: string | null;
    accept?: readonly string[] | null;
    extra?: readonly string[];
  },
): Uint8Array {
  const accept = change.accept === undefined ? [acceptFor(req.key)] : (change.accept ?? []);
  const lines: Lines = [
    change.upgrade === null ? undefined : `Upgrade: ${change.upgrade ?? 'websocket'}`,
    change.connection === null ? undefined : `Connection: ${change.connection ?? 'Upgrade'}`,
    ...accept.map((a) => `Sec-WebSocket-Accept: ${a}`),
    ...(change.extra ?? []),
  ];
  return concat([head101(lines), PROBE]);
}

function variantCase(
  variant: string,
  description: string,
  reply: (req: UpgradeRequestInfo) => HandshakeReply,
): ClientHandshakeCase {
  return { family: 'handshake', variant, description, reply };
}

function slug(description: string): string {
  return description
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function swapCase(s: string): string {
  return Array.from(s, (ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join('');
}

function accepts(): fc.Arbitrary<ClientHandshakeCase> {
  const wrong: readonly [string, (key: string) => readonly string[]][] = [
    [
      'the accept value of another key',
      (key) => [
        acceptFor(key === 'AAAAAAAAAAAAAAAAAAAAAA==' ? 'AQAAAAAAAAAAAAAAAAAAAA==' : 'AAAAAAAAAAAAAAAAAAAAAA=='),
      ],
    ],
    ['SHA-1 of the key without the GUID', (key) => [createHash('sha1').update(key).digest('base64')]],
    ['the key itself', (key) => [key]],
    ['the right value with its letters in the other case', (key) => [swapCase(acceptFor(key))]],
    ["the right value without its '=' padding", (key) => [acceptFor(key).replace(/=+$/, '')]],
    ['two fields, the right value and another', (key) => [acceptFor(key), acceptFor(`${key}x`)]],
  ];
  return fc.oneof(
    fc.constant(
      variantCase('handshake/accept-missing', 'a 101 without Sec-WebSocket-Accept', (req) => ({
        type: 'response',
        bytes: defective101(req, { accept: null }),
      })),
    ),
    fc.constantFrom(...wrong).map(([what, values]) =>
      variantCase('handshake/accept-wrong', `a 101 whose Sec-WebSocket-Accept is ${what}`, (req) => ({
        type: 'response',
        bytes: defective101(req, { accept: values(req.key) }),
      })),
    ),
  );
}

function upgradeAndConnection(): fc.Arbitrary<ClientHandshakeCase> {
  return fc.constantFrom(
    variantCase('handshake/upgrade-missing', 'a 101 without Upgrade', (req) => ({
      type: 'response',
      bytes: defective101(req, { upgrade: null }),
    })),
    variantCase('handshake/upgrade-wrong', 'a 101 with Upgrade: h2c', (req) => ({
      type: 'response',
      bytes: defective101(req, { upgrade: 'h2c' }),
    })),
    variantCase('handshake/upgrade-wrong', 'a 101 with Upgrade: websocket2', (req) => ({
      type: 'response',
      bytes: defective101(req, { upgrade: 'websocket2' }),
    })),
    variantCase('handshake/connection-missing', 'a 101 without Connection', (req) => ({
      type: 'response',
      bytes: defective101(req, { connection: null }),
    })),
    variantCase('handshake/connection-wrong', 'a 101 with Connection: keep-alive', (req) => ({
      type: 'response',
      bytes: defective101(req, { connection: 'keep-alive' }),
    })),
    variantCase('handshake/connection-wrong', 'a 101 with Connection: close', (req) => ({
      type: 'response',
      bytes: defective101(req, { connection: 'close' }),
    })),
  );
}

function notOffered(): fc.Arbitrary<ClientHandshakeCase> {
  return fc.constantFrom(
    variantCase('handshake/extension-not-offered', 'a 101 accepting an extension the client did not offer', (req) => {
      // permessage-deflate when it was not offered; otherwise a name no client offers.
      const name = deflateOffers(req.extensions).length === 0 ? 'permessage-deflate' : 'x-unoffered-extension';
      return {
        type: 'response',
        bytes: defective101(req, { extra: [`Sec-WebSocket-Extensions: ${name}`] }),
        extensions: name,
      };
    }),
    variantCase('handshake/subprotocol-not-offered', 'a 101 choosing a subprotocol the client did not offer', (req) => {
      const name = ['chat', 'superchat', 'x-unoffered'].find((p) => !req.protocols.includes(p)) as string;
      return { type: 'response', bytes: defective101(req, { extra: [`Sec-WebSocket-Protocol: ${name}`] }) };
    }),
  );
}

/** permessage-deflate responses RFC 7692 §7.1 forbids; each needs the client to have offered the extension. */
const deflateDefects: readonly {
  readonly description: string;
  readonly response: string;
  readonly needs?: 'no-client-window-offer';
}[] = [
  { description: 'server_max_window_bits=7', response: 'permessage-deflate; server_max_window_bits=7' },
  { description: 'server_max_window_bits=16', response: 'permessage-deflate; server_max_window_bits=16' },
  { description: 'server_max_window_bits=0', response: 'permessage-deflate; server_max_window_bits=0' },
  {
    description: 'server_max_window_bits with a leading zero',
    response: 'permessage-deflate; server_max_window_bits=09',
  },
  { description: 'server_max_window_bits without a value', response: 'permessage-deflate; server_max_window_bits' },
  {
    description: 'server_max_window_bits twice',
    response: 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
  },
  {
    description: 'server_no_context_takeover twice',
    response: 'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
  },
  {
    description: 'server_no_context_takeover with a value',
    response: 'permessage-deflate; server_no_context_takeover=1',
  },
  { description: 'an unknown parameter', response: 'permessage-deflate; x_unknown_parameter=1' },
  { description: 'client_max_window_bits=7', response: 'permessage-deflate; client_max_window_bits=7' },
  { description: 'client_max_window_bits without a value', response: 'permessage-deflate; client_max_window_bits' },
  {
    description: 'client_max_window_bits when the client did not offer it',
    response: 'permessage-deflate; client_max_window_bits=10',
    needs: 'no-client-window-offer',
  },
  { description: 'permessage-deflate accepted twice', response: 'permessage-deflate, permessage-deflate' },
];

export const CLIENT_DEFLATE_DEFECTS: readonly string[] = deflateDefects.map((d) => slug(d.description));

function deflateParams(): fc.Arbitrary<ClientHandshakeCase> {
  return fc.constantFrom(...deflateDefects).map((d) =>
    variantCase(
      `handshake/deflate/${slug(d.description)}`,
      `a 101 with "Sec-WebSocket-Extensions: ${d.response}" (${d.description})`,
      (req) => {
        const offers = deflateOffers(req.extensions);
        if (offers.length === 0) return { type: 'n/a', reason: 'the client offered no permessage-deflate' };
        if (d.needs === 'no-client-window-offer' && offers.some((params) => params.includes('client_max_window_bits')))
          return { type: 'n/a', reason: 'the client offered client_max_window_bits' };
        return {
          type: 'response',
          bytes: defective101(req, { extra: [`Sec-WebSocket-Extensions: ${d.response}`] }),
          extensions: d.response,
        };
      },
    ),
  );
}

const reasons: Readonly<Record<number, string>> = {
  200: 'OK',
  301: 'Moved Permanently',
  302: 'Found',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Another status than 101, with a body framed by Content-Length or chunked, or a large one. */
function statuses(): fc.Arbitrary<ClientHandshakeCase> {
  const status = fc.constantFrom(...Object.keys(reasons).map(Number));
  const body = fc.constantFrom('content-length', 'chunked', 'empty', 'large');
  return fc.tuple(status, body).map(([code, framing]) => {
    const text =
      framing === 'large'
        ? 'x'.repeat(256 * 1024)
        : framing === 'empty'
          ? ''
          : `<html><body>${code} ${reasons[code]}</body></html>\n`;
    const extra = [
      ...(code >= 300 && code < 400 ? ['Location: /redirected'] : []),
      ...(code === 401 ? ['WWW-Authenticate: Basic realm="conformance"'] : []),
      ...(code === 426 ? ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13'] : []),
      ...(code === 503 || code === 429 ? ['Retry-After: 1'] : []),
    ];
    const framed = framing === 'chunked' ? ['Transfer-Encoding: chunked'] : [`Content-Length: ${text.length}`];
    const payload = framing === 'chunked' ? `${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n` : text;
    const bytes = latin1.encode(
      `HTTP/1.1 ${code} ${reasons[code]}\r\nContent-Type: text/html\r\n${[...extra, ...framed].map((l) => `${l}\r\n`).join('')}\r\n${payload}`,
    );
    const what = framing === 'large' ? 'a 256 KiB body' : framing === 'empty' ? 'an empty body' : `a ${framing} body`;
    return variantCase(`handshake/status-${Math.floor(code / 100)}xx`, `${code} ${reasons[code]} with ${what}`, () => ({
      type: 'response',
      bytes,
    }));
  });
}

/** Heads that never end (lines forever, or one endless value), and complete heads over 64 KiB. */
function bigHeads(): fc.Arbitrary<ClientHandshakeCase> {
  const endless = fc.constantFrom('lines', 'value').map((kind) =>
    variantCase(
      'handshake/endless-head',
      kind === 'lines' ? 'a 101 head whose header lines never end' : 'a 101 head with a header value that never ends',
      (req) => ({
        type: 'endless',
        start: latin1.encode(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(req.key)}\r\n${kind === 'value' ? 'X-Endless: ' : ''}`,
        ),
        more: (i) => latin1.encode(kind === 'lines' ? `X-Line-${i}: ${'v'.repeat(1000)}\r\n` : 'v'.repeat(1024)),
      }),
    ),
  );
  const oversized = fc
    .oneof(
      fc.integer({ min: 65 * 1024, max: 256 * 1024 }).map((n) => ({ big: n })),
      fc.integer({ min: 3000, max: 5000 }).map((n) => ({ lines: n })),
    )
    .map((size) =>
      variantCase(
        'handshake/oversized-head',
        'big' in size
          ? `a valid 101 but for one ${size.big}-byte header`
          : `a valid 101 but for ${size.lines} extra header lines`,
        (req) => {
          const extra =
            'big' in size
              ? [`X-Padding: ${'a'.repeat(size.big)}`]
              : Array.from({ length: size.lines }, (_, i) => `X-Header-${i}: ${'v'.repeat(16)}`);
          return { type: 'response', bytes: defective101(req, { extra }) };
        },
      ),
    );
  return fc.oneof(endless, oversized);
}

function stalled(): fc.Arbitrary<ClientHandshakeCase> {
  return fc.constantFrom('status', 'headers').map((cut) =>
    variantCase(
      'handshake/stalled-head',
      cut === 'status' ? 'half a status line, then nothing' : 'a 101 head without its final empty line, then nothing',
      (req) => ({
        type: 'stalled',
        bytes: latin1.encode(
          cut === 'status'
            ? 'HTTP/1.1 10'
            : `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(req.key)}\r\n`,
        ),
      }),
    ),
  );
}

/** A valid 101 and a valid stream (then our close) in one write: the frames are the connection's first. */
function framesWith101(): fc.Arbitrary<ClientHandshakeCase> {
  return validStream({ sender: 'server', maxMessageLength: 100, maxMessages: 4 }).map((s) => {
    const replies: Reply[] = repliesOf(s.expected);
    const send = concat([
      s.bytes,
      encodeFrame({ fin: true, rsv: 0, opcode: Op.Close, payload: closeBody(1000), maskKey: null }),
    ]);
    const frames: Case = {
      family: 'handshake',
      variant: 'handshake/frames-with-101',
      description: `a valid 101 and, in the same TCP write, ${s.frames.length} frames (${s.expected.map((e) => e.type).join(', ') || 'none'}) and a close`,
      build: () => ({ send }),
      expect: { kind: 'echo', replies, closeCodes: [1000], strictCode: 1000 },
    };
    return variantCase(frames.variant, frames.description, (req) => ({
      type: 'open',
      head: head101(['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(req.key)}`]),
      frames,
    }));
  });
}

export function clientHandshakeCases(o: ClientHandshakeOptions = {}): fc.Arbitrary<ClientHandshakeCase> {
  return fc.oneof(
    { weight: 3, arbitrary: accepts() },
    { weight: 3, arbitrary: upgradeAndConnection() },
    { weight: 2, arbitrary: notOffered() },
    { weight: 4, arbitrary: deflateParams() },
    { weight: 3, arbitrary: statuses() },
    { weight: 2, arbitrary: bigHeads() },
    ...(o.clientHandshakeTimeout !== undefined ? [{ weight: 1, arbitrary: stalled() }] : []),
    { weight: 3, arbitrary: framesWith101() },
  );
}

/** Every variant of the family, e.g. to run one alone by skipping the others. */
export const CLIENT_HANDSHAKE_VARIANTS: readonly string[] = [
  'handshake/accept-missing',
  'handshake/accept-wrong',
  'handshake/upgrade-missing',
  'handshake/upgrade-wrong',
  'handshake/connection-missing',
  'handshake/connection-wrong',
  'handshake/extension-not-offered',
  'handshake/subprotocol-not-offered',
  ...CLIENT_DEFLATE_DEFECTS.map((d) => `handshake/deflate/${d}`),
  'handshake/status-2xx',
  'handshake/status-3xx',
  'handshake/status-4xx',
  'handshake/status-5xx',
  'handshake/endless-head',
  'handshake/oversized-head',
  'handshake/stalled-head',
  'handshake/frames-with-101',
];

/** What the client did after a defective response. */
export interface RefusalObservation {
  /** Bytes the client sent after our response. */
  readonly sent: Uint8Array;
  /** The client closed (or reset) TCP. */
  readonly closed: boolean;
  /** The deadline it had, in ms. */
  readonly waited: number;
  /** Head bytes an endless head had written when the case ended. */
  readonly endlessBytes?: number;
}

function describeSent(sent: Uint8Array): string {
  const frames = new FrameReader().push(sent);
  const first = frames[0];
  if (first === undefined) return `${sent.length} byte(s) that are not a whole frame`;
  const names: Readonly<Record<number, string>> = {
    0: 'continuation',
    1: 'text',
    2: 'binary',
    8: 'close',
    9: 'ping',
    10: 'pong',
  };
  const code = first.opcode === Op.Close ? closeCodeOf(first.payload) : undefined;
  const what = `a ${names[first.opcode] ?? `0x${first.opcode.toString(16)}`} frame${code !== undefined ? ` (${code})` : ''}`;
  return frames.length > 1 ? `${what} and ${frames.length - 1} more` : what;
}

/**
 * RFC 6455 §4.1: on a defective response the client must _Fail the WebSocket
 * Connection_ — the connection never opened, so nothing may be sent (not even
 * a close frame) — and close TCP.
 */
export function judgeRefusal(o: RefusalObservation): { status: 'pass' } | { status: 'fail'; reason: string } {
  if (o.sent.length > 0)
    return {
      status: 'fail',
      reason: `sent ${describeSent(o.sent)} after a defective response: a client must fail the connection without sending anything (RFC 6455 §4.1)`,
    };
  if (!o.closed) {
    const reading =
      o.endlessBytes !== undefined ? ` (read ${Math.round(o.endlessBytes / 1024)} KiB of a head that never ends)` : '';
    return {
      status: 'fail',
      reason: `did not close the connection within ${o.waited} ms of a defective response${reading} (RFC 6455 §4.1: Fail the WebSocket Connection)`,
    };
  }
  return { status: 'pass' };
}
