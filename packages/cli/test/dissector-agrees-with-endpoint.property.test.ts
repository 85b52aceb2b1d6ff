/**
 * The dissector promises that what it calls invalid is what this project's
 * endpoints refuse. Checked here for every stream the codec's testing
 * arbitraries generate, under any chunking: the dissector and a real
 * endpoint of the receiving role, fed the same bytes, deliver the same
 * messages and stop at the same place with the same HTTP status, handshake
 * failure or close code. Both are also held to what the RFCs require (the
 * arbitraries' expectations, and the failures of the hand-written 101s
 * below), so agreeing on a wrong answer fails too.
 */
import { createHash } from 'node:crypto';
import { constants as zlib, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ClientEndpoint, ServerEndpoint, permessageDeflate, type Endpoint } from '@rfc6455/codec';
import {
  chunking,
  encodeFrame,
  invalidInput,
  invalidUpgradeRequest,
  token,
  upgradeRequest,
  validStream,
  type ExpectedEvent,
} from '@rfc6455/codec/testing';
import { SessionDissector, StreamDissector } from '../src/dissector.js';
import type { DissectRecord } from '../src/records.js';

const RUNS = Number(process.env.FC_RUNS ?? 100);
const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const utf8 = new TextEncoder();

type Message =
  | { readonly type: 'text'; readonly data: string }
  | { readonly type: 'binary'; readonly data: readonly number[] };

/** Where reading stopped; null when every byte was accepted. */
type Stop =
  | { readonly type: 'handshake'; readonly status: number | null; readonly failure: string | null }
  | { readonly type: 'rejected'; readonly status: number }
  | { readonly type: 'close'; readonly code: number | null }
  | { readonly type: 'truncated' };

interface Verdict {
  readonly messages: readonly Message[];
  readonly stop: Stop | null;
}

function message(type: 'text' | 'binary', data: string | Uint8Array): Message {
  return type === 'text' ? { type, data: data as string } : { type, data: Array.from(data as Uint8Array) };
}

/** The messages a conforming receiver delivers for these expected events (pings and pongs are not messages). */
function messagesOf(events: readonly ExpectedEvent[]): Message[] {
  return events.flatMap((e) => (e.type === 'text' || e.type === 'binary' ? [message(e.type, e.data)] : []));
}

function dissectorVerdict(records: readonly DissectRecord[]): Verdict {
  const messages: Message[] = [];
  for (const record of records) {
    if (record.kind === 'message') messages.push(message(record.type, record.data));
    if (record.kind === 'error') {
      const stop: Stop =
        record.phase === 'handshake'
          ? { type: 'handshake', status: record.status, failure: record.failure }
          : record.phase === 'frames'
            ? { type: 'close', code: record.code }
            : { type: 'truncated' };
      return { messages, stop };
    }
    if (record.kind === 'http-response' && record.status >= 200)
      return { messages, stop: { type: 'rejected', status: record.status } };
  }
  return { messages, stop: null };
}

/** Feeds chunks to an endpoint (a server accepts every valid request) and reads its verdict. */
function endpointVerdict(endpoint: Endpoint, chunks: readonly Uint8Array[]): Verdict {
  const messages: Message[] = [];
  for (const chunk of chunks) {
    endpoint.receive(chunk.slice());
    for (let ev = endpoint.nextEvent(); ev !== undefined; ev = endpoint.nextEvent()) {
      switch (ev.type) {
        case 'request':
          endpoint.send({ type: 'accept' });
          break;
        case 'text':
        case 'binary':
          messages.push(message(ev.type, ev.data));
          break;
        case 'rejected':
          return { messages, stop: { type: 'rejected', status: ev.status } };
        case 'protocol-error':
          return {
            messages,
            stop:
              ev.phase === 'handshake'
                ? { type: 'handshake', status: ev.status, failure: ev.failure }
                : { type: 'close', code: ev.code },
          };
        default:
          break;
      }
    }
    endpoint.takeOutgoing();
  }
  return { messages, stop: null };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A request the arbitrary made, with a permessage-deflate offer added. */
function withDeflateOffer(request: Uint8Array): Uint8Array {
  const text = new TextDecoder('latin1').decode(request);
  return latin1(`${text.slice(0, -2)}Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n`);
}

/** One message compressed per RFC 7692 §7.2.1 with node:zlib (not the codec), as a frame from `sender`. */
function compressedText(text: string, maskKey: Uint8Array | null): Uint8Array {
  const deflated = deflateRawSync(utf8.encode(text), { finishFlush: zlib.Z_SYNC_FLUSH });
  if (deflated.subarray(-4).join() !== '0,0,255,255') throw new Error('a sync flush ends with 00 00 ff ff');
  return encodeFrame({ fin: true, rsv: 0x40, opcode: 0x1, payload: deflated.subarray(0, -4), maskKey });
}

/** RFC 6455 §4.2.2: base64 of the SHA-1 of the key and the GUID. */
function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

const maskKey = fc.uint8Array({ minLength: 4, maxLength: 4 });

// Chunkings for counterexamples kept as examples (`chunking()` yields such functions).
const whole = (bytes: Uint8Array): Uint8Array[] => [bytes.slice()];
const bytewise = (bytes: Uint8Array): Uint8Array[] => Array.from(bytes, (b) => Uint8Array.of(b));

const PLAIN_REQUEST = latin1(
  'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n',
) as Uint8Array<ArrayBuffer>;

describe('client → server: the dissector stops where a ServerEndpoint does', () => {
  test('valid requests and streams, with permessage-deflate offered or not, with or without the head in view', () => {
    fc.assert(
      fc.property(
        upgradeRequest(),
        fc.boolean(),
        validStream({ sender: 'client' }),
        fc.option(fc.tuple(fc.string(), maskKey), { nil: undefined }),
        fc.boolean(),
        chunking(),
        (req, offerDeflate, stream, compressed, headInView, split) => {
          const request = offerDeflate ? withDeflateOffer(req.bytes) : req.bytes;
          const server = new ServerEndpoint({ extensions: [permessageDeflate()] });
          // The server's side of the session: its 101, which the session dissector reads before the client's frames.
          server.receive(request.slice());
          expect(server.nextEvent()?.type).toBe('request');
          server.send({ type: 'accept' });
          const response = concat(server.takeOutgoing());
          expect(server.extensions.length).toBe(offerDeflate ? 1 : 0);
          const frames = [
            stream.bytes,
            ...(compressed !== undefined && offerDeflate ? [compressedText(compressed[0], compressed[1])] : []),
          ];
          const expected = [
            ...messagesOf(stream.expected),
            ...(compressed !== undefined && offerDeflate ? [message('text', compressed[0])] : []),
          ];
          const frameChunks = split(concat(frames));

          const reference = endpointVerdict(new ServerEndpoint({ extensions: [permessageDeflate()] }), [
            ...split(request),
            ...frameChunks,
          ]);
          let records: DissectRecord[];
          if (headInView) {
            const session = new SessionDissector();
            records = [
              ...split(request).flatMap((c) => session.push('client', c)),
              ...session.push('server', response),
            ];
            records.push(...frameChunks.flatMap((c) => session.push('client', c)), ...session.client.end());
          } else {
            const dissector = new StreamDissector({ from: 'client', deflate: offerDeflate ? {} : null });
            records = [...frameChunks.flatMap((c) => dissector.push(c)), ...dissector.end()];
          }
          expect(dissectorVerdict(records)).toEqual(reference);
          expect(reference).toEqual({ messages: expected, stop: null });
        },
      ),
      {
        numRuns: RUNS,
        examples: [
          // An empty frame is a whole message as soon as its header is read: the endpoint reported it then, and the dissector lost it.
          [
            { bytes: PLAIN_REQUEST, key: 'AAAAAAAAAAAAAAAAAAAAAA==', protocols: [], path: '/' },
            false,
            {
              frames: [],
              bytes: Uint8Array.of(0x82, 0x80, 0, 0, 0, 0),
              expected: [{ type: 'binary', data: new Uint8Array(0) }],
            },
            undefined,
            false,
            whole,
          ],
        ],
      },
    );
  });

  test('invalid frames: the same close code after the same messages', () => {
    fc.assert(
      fc.property(upgradeRequest(), invalidInput({ receiver: 'server' }), chunking(), (req, c, split) => {
        const chunks = split(concat([req.bytes, c.bytes]));
        const options = c.maxMessageSize === undefined ? {} : { maxMessageSize: c.maxMessageSize };
        const reference = endpointVerdict(new ServerEndpoint(options), chunks);
        const dissector = new StreamDissector({ from: 'client', ...options });
        const verdict = dissectorVerdict([...chunks.flatMap((chunk) => dissector.push(chunk)), ...dissector.end()]);
        expect(verdict, c.description).toEqual(reference);
        expect(reference, c.description).toEqual({
          messages: messagesOf(c.expectedBefore),
          stop: { type: 'close', code: c.expectedCode },
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('defective requests: the same HTTP status, and nothing after the head is read', () => {
    fc.assert(
      fc.property(
        invalidUpgradeRequest(),
        validStream({ sender: 'client', maxMessages: 2 }),
        chunking(),
        (req, after, split) => {
          const chunks = split(concat([req.bytes, after.bytes]));
          const reference = endpointVerdict(new ServerEndpoint(), chunks);
          const dissector = new StreamDissector({ from: 'client' });
          const verdict = dissectorVerdict([...chunks.flatMap((chunk) => dissector.push(chunk)), ...dissector.end()]);
          expect(verdict, req.description).toEqual(reference);
          expect(reference.stop, req.description).toMatchObject({ type: 'handshake', status: req.expectedStatus });
          expect(reference.messages).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** What a 101 (or other answer) does wrong, and the failure RFC 6455 §4.1 makes the client report for it. */
const RESPONSE_DEFECTS = [
  { name: 'none', failure: null },
  { name: 'a 103 Early Hints first', failure: null },
  { name: 'a wrong Sec-WebSocket-Accept', failure: 'invalid-accept' },
  { name: 'no Sec-WebSocket-Accept', failure: 'invalid-accept' },
  { name: 'two Sec-WebSocket-Accept fields', failure: 'invalid-accept' },
  { name: 'no Upgrade', failure: 'invalid-upgrade' },
  { name: 'Upgrade: h2c', failure: 'invalid-upgrade' },
  { name: 'no Connection', failure: 'invalid-connection' },
  { name: 'Connection: keep-alive', failure: 'invalid-connection' },
  { name: 'a subprotocol that was not offered', failure: 'invalid-protocol' },
  { name: 'an extension that was not offered', failure: 'invalid-extensions' },
  { name: 'permessage-deflate parameters RFC 7692 forbids', failure: 'invalid-extensions' },
  { name: 'a header line without a colon', failure: 'malformed-response' },
  { name: 'a 403 refusal', failure: 'rejected' },
] as const;

type ResponseDefect = (typeof RESPONSE_DEFECTS)[number];

interface ResponsePlan {
  readonly protocols: readonly string[];
  readonly offerDeflate: boolean;
  /** Index into the offered subprotocols of the one chosen, or null for none. */
  readonly choose: number | null;
  readonly agreeDeflate: boolean;
  readonly forbidden: string;
  readonly defect: ResponseDefect;
}

const responsePlan: fc.Arbitrary<ResponsePlan> = fc.record({
  protocols: fc.uniqueArray(token(), { maxLength: 3 }),
  offerDeflate: fc.boolean(),
  choose: fc.option(fc.nat({ max: 2 }), { nil: null }),
  agreeDeflate: fc.boolean(),
  forbidden: fc.constantFrom(
    'permessage-deflate; server_max_window_bits=7',
    'permessage-deflate; client_max_window_bits=16',
    'permessage-deflate; unknown_param',
    'permessage-deflate; server_no_context_takeover=1',
  ),
  defect: fc.constantFrom(...RESPONSE_DEFECTS),
});

/** The server's answer to `key` as `plan` says, written by hand. */
function responseFor(key: string, plan: ResponsePlan): { readonly bytes: Uint8Array; readonly agreed: boolean } {
  const chosen = plan.choose === null ? undefined : plan.protocols[plan.choose];
  const fields: Array<[string, string]> = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', acceptFor(key)],
  ];
  if (chosen !== undefined) fields.push(['Sec-WebSocket-Protocol', chosen]);
  const agreed = plan.offerDeflate && plan.agreeDeflate;
  if (agreed) fields.push(['Sec-WebSocket-Extensions', 'permessage-deflate']);
  let status = 'HTTP/1.1 101 Switching Protocols';
  let before = '';
  let body = '';
  const set = (name: string, value: string | null) => {
    const rest = fields.filter(([n]) => n !== name);
    fields.length = 0;
    fields.push(...rest, ...(value === null ? [] : ([[name, value]] as Array<[string, string]>)));
  };
  switch (plan.defect.name) {
    case 'none':
      break;
    case 'a 103 Early Hints first':
      before = 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n';
      break;
    case 'a wrong Sec-WebSocket-Accept':
      set('Sec-WebSocket-Accept', acceptFor(`${key.slice(1)}A`));
      break;
    case 'no Sec-WebSocket-Accept':
      set('Sec-WebSocket-Accept', null);
      break;
    case 'two Sec-WebSocket-Accept fields':
      fields.push(['Sec-WebSocket-Accept', acceptFor(key)]);
      break;
    case 'no Upgrade':
      set('Upgrade', null);
      break;
    case 'Upgrade: h2c':
      set('Upgrade', 'h2c');
      break;
    case 'no Connection':
      set('Connection', null);
      break;
    case 'Connection: keep-alive':
      set('Connection', 'keep-alive');
      break;
    case 'a subprotocol that was not offered':
      set('Sec-WebSocket-Protocol', `${plan.protocols.join('')}x`);
      break;
    case 'an extension that was not offered':
      set('Sec-WebSocket-Extensions', plan.offerDeflate ? 'x-webkit-deflate-frame' : 'permessage-deflate');
      break;
    case 'permessage-deflate parameters RFC 7692 forbids':
      // When permessage-deflate was not offered, accepting it at all is the defect.
      set('Sec-WebSocket-Extensions', plan.forbidden);
      break;
    case 'a header line without a colon':
      fields.push(['Broken header', '']);
      break;
    case 'a 403 refusal':
      status = 'HTTP/1.1 403 Forbidden';
      fields.length = 0;
      body = 'log in first';
      fields.push(['Content-Type', 'text/plain'], ['Content-Length', String(body.length)]);
      break;
  }
  const head = fields.map(([n, v]) => (v === '' ? n : `${n}: ${v}`)).join('\r\n');
  return {
    bytes: latin1(`${before}${status}\r\n${head}\r\n\r\n${body}`),
    agreed: agreed && plan.defect.failure === null,
  };
}

describe('server → client: the dissector stops where a ClientEndpoint does', () => {
  test('101s with and without defects, then frames', () => {
    fc.assert(
      fc.property(
        responsePlan,
        validStream({ sender: 'server', maxMessages: 4 }),
        fc.option(fc.string(), { nil: undefined }),
        chunking(),
        (plan, stream, compressed, split) => {
          const options = { protocols: plan.protocols, extensions: plan.offerDeflate ? [permessageDeflate()] : [] };
          const client = new ClientEndpoint('ws://example.test/chat', options);
          const request = concat(client.takeOutgoing());
          const response = responseFor(client.key, plan);
          const compress = compressed !== undefined && response.agreed;
          const chunks = split(
            concat([response.bytes, stream.bytes, ...(compress ? [compressedText(compressed, null)] : [])]),
          );

          const reference = endpointVerdict(client, chunks);
          const session = new SessionDissector();
          session.push('client', request);
          const verdict = dissectorVerdict([
            ...chunks.flatMap((chunk) => session.push('server', chunk)),
            ...session.server.end(),
          ]);
          expect(verdict, plan.defect.name).toEqual(reference);

          const failure = plan.defect.failure;
          if (failure === null) {
            expect(reference).toEqual({
              messages: [...messagesOf(stream.expected), ...(compress ? [message('text', compressed)] : [])],
              stop: null,
            });
          } else if (failure === 'rejected') {
            expect(reference).toEqual({ messages: [], stop: { type: 'rejected', status: 403 } });
          } else {
            expect(reference).toEqual({
              messages: [],
              stop: { type: 'handshake', status: failure === 'malformed-response' ? null : 101, failure },
            });
          }
        },
      ),
      {
        numRuns: RUNS * 2,
        examples: [
          // Byte by byte, "HTTP/" without its version digit yet was taken for frames.
          [
            {
              protocols: [],
              offerDeflate: false,
              choose: null,
              agreeDeflate: false,
              forbidden: 'permessage-deflate; unknown_param',
              defect: RESPONSE_DEFECTS[0],
            },
            { frames: [], bytes: new Uint8Array(0), expected: [] },
            undefined,
            bytewise,
          ],
        ],
      },
    );
  });

  test('invalid frames after a valid 101: the same close code after the same messages, with or without the head in view', () => {
    fc.assert(
      fc.property(invalidInput({ receiver: 'client' }), fc.boolean(), chunking(), (c, headInView, split) => {
        const options = c.maxMessageSize === undefined ? {} : { maxMessageSize: c.maxMessageSize };
        const client = new ClientEndpoint('ws://example.test/', options);
        const request = concat(client.takeOutgoing());
        const response = latin1(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(client.key)}\r\n\r\n`,
        );
        const frameChunks = split(c.bytes);
        const reference = endpointVerdict(client, [response, ...frameChunks]);
        let records: DissectRecord[];
        if (headInView) {
          const session = new SessionDissector(options);
          session.push('client', request);
          records = [
            ...session.push('server', response),
            ...frameChunks.flatMap((chunk) => session.push('server', chunk)),
            ...session.server.end(),
          ];
        } else {
          const dissector = new StreamDissector({ from: 'server', ...options });
          records = [...frameChunks.flatMap((chunk) => dissector.push(chunk)), ...dissector.end()];
        }
        expect(dissectorVerdict(records), c.description).toEqual(reference);
        expect(reference, c.description).toEqual({
          messages: messagesOf(c.expectedBefore),
          stop: { type: 'close', code: c.expectedCode },
        });
      }),
      { numRuns: RUNS },
    );
  });
});
