/**
 * fast-check arbitraries for WebSocket byte streams, for property tests and
 * fuzzing of any implementation (`@rfc6455/codec/testing`). Every generator
 * builds its bytes independently of the codec's encoder, and says what a
 * conforming receiver must report: the events of a valid stream, or the close
 * code of an invalid one.
 *
 * `fast-check` is an optional peer dependency, needed only by this entry.
 */
import fc from 'fast-check';
import { concat as concatBytes } from 'uint8arrays/concat';
import { encodeBase64 } from './base64.js';
import { isValidWireCloseCode } from './close-codes.js';
import type { Role } from './role.js';
import { Opcode } from './opcode.js';

/** One frame, field by field. `maskKey` null means unmasked. */
export interface FrameSpec {
  readonly fin: boolean;
  /** RSV bits as they sit in the first header byte (0x40, 0x20, 0x10). */
  readonly rsv: number;
  readonly opcode: number;
  readonly payload: Uint8Array;
  readonly maskKey: Uint8Array | null;
  /** Length field form; 'minimal' (default) is what a conforming sender uses. */
  readonly lengthEncoding?: 'minimal' | '16' | '64';
  /** Overrides the length written in the header (for lying headers). */
  readonly declaredLength?: number;
}

/** What a conforming receiver reports for a valid stream (whole-message mode). */
export type ExpectedEvent =
  | { readonly type: 'text'; readonly data: string }
  | { readonly type: 'binary'; readonly data: Uint8Array }
  | { readonly type: 'ping'; readonly data: Uint8Array }
  | { readonly type: 'pong'; readonly data: Uint8Array };

export interface ValidStream {
  readonly frames: readonly FrameSpec[];
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly expected: readonly ExpectedEvent[];
}

export type InvalidFamily =
  | 'opcode'
  | 'rsv'
  | 'masking'
  | 'length'
  | 'control-size'
  | 'control-fragmented'
  | 'continuation'
  | 'close-payload'
  | 'close-code'
  | 'utf8';

export interface InvalidCase {
  readonly family: InvalidFamily;
  readonly description: string;
  /** Valid frames first (with their events in `expectedBefore`), then the violation. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly expectedBefore: readonly ExpectedEvent[];
  /** The close code a conforming receiver fails the connection with. */
  readonly expectedCode: 1002 | 1007 | 1009;
  /** The receiver's message size limit this case assumes ('length' family); always larger than the valid prefix. */
  readonly maxMessageSize?: number;
}

const utf8 = new TextEncoder();

/** Encodes a frame exactly as specified, masking the payload when a key is given. */
export function encodeFrame(f: FrameSpec): Uint8Array<ArrayBuffer> {
  const n = f.declaredLength ?? f.payload.length;
  const form = f.lengthEncoding ?? 'minimal';
  const ext =
    form === '64' || (form === 'minimal' && n > 0xffff) ? 8 : form === '16' || (form === 'minimal' && n > 125) ? 2 : 0;
  const keyLen = f.maskKey ? 4 : 0;
  const out = new Uint8Array(2 + ext + keyLen + f.payload.length);
  out[0] = (f.fin ? 0x80 : 0) | f.rsv | f.opcode;
  const maskBit = f.maskKey ? 0x80 : 0;
  if (ext === 0) out[1] = maskBit | n;
  else if (ext === 2) {
    out[1] = maskBit | 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = maskBit | 127;
    const high = Math.floor(n / 2 ** 32);
    const low = n >>> 0;
    for (let i = 0; i < 4; i++) {
      out[2 + i] = (high >>> (24 - 8 * i)) & 0xff;
      out[6 + i] = (low >>> (24 - 8 * i)) & 0xff;
    }
  }
  const at = 2 + ext + keyLen;
  if (f.maskKey) {
    out.set(f.maskKey, 2 + ext);
    for (let i = 0; i < f.payload.length; i++) out[at + i] = (f.payload[i] as number) ^ (f.maskKey[i & 3] as number);
  } else {
    out.set(f.payload, at);
  }
  return out;
}

/** A masking key for frames sent by `sender` (clients mask, servers do not). */
function keyFor(sender: Role): fc.Arbitrary<Uint8Array | null> {
  return sender === 'client' ? fc.uint8Array({ minLength: 4, maxLength: 4 }) : fc.constant(null);
}

/** Text of any Unicode scalar values (no lone surrogates), short or occasionally long. */
export function text(options: { maxLength?: number } = {}): fc.Arbitrary<string> {
  return fc.string({ unit: 'binary', maxLength: options.maxLength ?? 200 });
}

/** Binary payloads, including empty ones. */
export function bytes(options: { maxLength?: number } = {}): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength: options.maxLength ?? 300 });
}

/** A whole message as an application sees it. */
export function message(options: { maxLength?: number } = {}): fc.Arbitrary<ExpectedEvent> {
  return fc.oneof(
    text(options).map((data) => ({ type: 'text' as const, data })),
    bytes(options).map((data) => ({ type: 'binary' as const, data })),
  );
}

/** Cuts `payload` into 1–`max` pieces at arbitrary points (pieces may be empty). */
function pieces(payload: Uint8Array, max: number): fc.Arbitrary<Uint8Array[]> {
  return fc.array(fc.nat({ max: payload.length }), { maxLength: max - 1 }).map((cuts) => {
    const points = [...cuts].sort((a, b) => a - b);
    const out: Uint8Array[] = [];
    let at = 0;
    for (const p of points) {
      out.push(payload.subarray(at, p));
      at = p;
    }
    out.push(payload.subarray(at));
    return out;
  });
}

const control = (opcode: number) =>
  fc
    .uint8Array({ maxLength: 125 })
    .map((data) => ({ type: opcode === Opcode.Ping ? ('ping' as const) : ('pong' as const), data }));

/** The frames of one data message, fragmented at random, with control frames possibly inside. */
function messageFrames(
  sender: Role,
  maxLength: number,
): fc.Arbitrary<{ frames: FrameSpec[]; expected: ExpectedEvent[] }> {
  return message({ maxLength }).chain((msg) => {
    const payload = msg.type === 'text' ? utf8.encode(msg.data) : msg.data;
    const opcode = msg.type === 'text' ? Opcode.Text : Opcode.Binary;
    return fc
      .tuple(
        pieces(payload, 5),
        fc.array(fc.option(fc.constantFrom(Opcode.Ping, Opcode.Pong).chain(control), { nil: undefined, freq: 3 }), {
          maxLength: 4,
        }),
      )
      .chain(([parts, controls]) =>
        fc
          .array(keyFor(sender), {
            minLength: parts.length + controls.length,
            maxLength: parts.length + controls.length,
          })
          .map((keys) => {
            const frames: FrameSpec[] = [];
            const expected: ExpectedEvent[] = [];
            let k = 0;
            parts.forEach((part, i) => {
              frames.push({
                fin: i === parts.length - 1,
                rsv: 0,
                opcode: i === 0 ? opcode : Opcode.Continuation,
                payload: part,
                maskKey: keys[k++] ?? null,
              });
              const c = controls[i];
              // Control frames may sit between the fragments of a message (RFC 6455 §5.4).
              if (c !== undefined && i < parts.length - 1) {
                frames.push({
                  fin: true,
                  rsv: 0,
                  opcode: c.type === 'ping' ? Opcode.Ping : Opcode.Pong,
                  payload: c.data,
                  maskKey: keys[k++] ?? null,
                });
                expected.push(c);
              }
            });
            expected.push(msg);
            return { frames, expected };
          }),
      );
  });
}

/**
 * A valid stream as `sender` would send it: messages of any content, each
 * fragmented at random, pings and pongs between and inside them. `expected`
 * is what the other side must report, in order.
 */
export function validStream(options: {
  sender: Role;
  maxMessages?: number;
  maxMessageLength?: number;
}): fc.Arbitrary<ValidStream> {
  const one = fc.oneof(
    { weight: 4, arbitrary: messageFrames(options.sender, options.maxMessageLength ?? 300) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(Opcode.Ping, Opcode.Pong).chain(control), keyFor(options.sender))
        .map(([c, key]) => ({
          frames: [
            { fin: true, rsv: 0, opcode: c.type === 'ping' ? Opcode.Ping : Opcode.Pong, payload: c.data, maskKey: key },
          ],
          expected: [c as ExpectedEvent],
        })),
    },
  );
  return fc.array(one, { maxLength: options.maxMessages ?? 8 }).map((items) => {
    const frames = items.flatMap((i) => i.frames);
    return { frames, bytes: concatBytes(frames.map(encodeFrame)), expected: items.flatMap((i) => i.expected) };
  });
}

/** Splits of a byte stream: a function from bytes to chunks, from one piece down to single bytes. */
export function chunking(options: { maxCuts?: number } = {}): fc.Arbitrary<(bytes: Uint8Array) => Uint8Array[]> {
  return fc
    .oneof(
      {
        weight: 6,
        arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: options.maxCuts ?? 30 }),
      },
      { weight: 1, arbitrary: fc.constant('bytewise' as const) },
    )
    .map((cuts) => {
      const split = (b: Uint8Array): Uint8Array[] => {
        if (cuts === 'bytewise') return Array.from(b, (x) => Uint8Array.of(x));
        const points = [...new Set(cuts.map((c) => Math.floor(c * b.length)))].sort((x, y) => x - y);
        const out: Uint8Array[] = [];
        let at = 0;
        for (const p of points) {
          if (p > at) out.push(b.slice(at, p));
          at = Math.max(at, p);
        }
        if (at < b.length) out.push(b.slice(at));
        return out;
      };
      return Object.assign(split, { toString: () => (cuts === 'bytewise' ? 'bytewise' : `cuts(${cuts.join(',')})`) });
    });
}

const invalidUtf8Sequences: readonly (readonly number[])[] = [
  [0x80], // lone continuation
  [0xc0, 0xaf], // overlong
  [0xc1, 0xbf], // overlong
  [0xe0, 0x80, 0xaf], // overlong 3-byte
  [0xed, 0xa0, 0x80], // surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf5, 0x80, 0x80, 0x80], // invalid lead byte
  [0xff],
  [0xe2, 0x82, 0x41], // continuation missing
];

/** One violation of RFC 6455 that a receiver in `receiver` role must fail with a known close code. */
export function invalidInput(options: {
  receiver: Role;
  families?: readonly InvalidFamily[];
}): fc.Arbitrary<InvalidCase> {
  const sender: Role = options.receiver === 'server' ? 'client' : 'server';
  const key = keyFor(sender);
  const all: Record<
    InvalidFamily,
    fc.Arbitrary<Omit<InvalidCase, 'bytes' | 'expectedBefore'> & { frames: FrameSpec[] }>
  > = {
    opcode: fc
      .tuple(fc.constantFrom(3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf), bytes({ maxLength: 20 }), key)
      .map(([opcode, payload, k]) => ({
        family: 'opcode' as const,
        description: `reserved opcode 0x${opcode.toString(16)}`,
        expectedCode: 1002 as const,
        frames: [{ fin: true, rsv: 0, opcode, payload, maskKey: k }],
      })),
    rsv: fc
      .tuple(fc.constantFrom(0x40, 0x20, 0x10, 0x70), fc.constantFrom(Opcode.Text, Opcode.Binary, Opcode.Ping), key)
      .map(([rsv, opcode, k]) => ({
        family: 'rsv' as const,
        description: `RSV bits 0x${rsv.toString(16)} without a negotiated extension`,
        expectedCode: 1002 as const,
        frames: [{ fin: true, rsv, opcode, payload: utf8.encode('x'), maskKey: k }],
      })),
    masking: fc.tuple(bytes({ maxLength: 20 }), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([payload, k]) => ({
      family: 'masking' as const,
      description:
        options.receiver === 'server' ? 'an unmasked frame sent to a server' : 'a masked frame sent to a client',
      expectedCode: 1002 as const,
      frames: [
        { fin: true, rsv: 0, opcode: Opcode.Binary, payload, maskKey: options.receiver === 'server' ? null : k },
      ],
    })),
    length: fc.oneof(
      fc.tuple(fc.integer({ min: 0x8000_0000, max: 0xffff_ffff }), key).map(([high, k]) => ({
        family: 'length' as const,
        description: 'a 64-bit length with its most significant bit set',
        expectedCode: 1002 as const,
        frames: [
          {
            fin: true,
            rsv: 0,
            opcode: Opcode.Binary,
            payload: new Uint8Array(0),
            maskKey: k,
            lengthEncoding: '64' as const,
            declaredLength: high * 2 ** 32,
          },
        ],
      })),
      fc.tuple(fc.integer({ min: 1024, max: 60_000 }), key).map(([limit, k]) => ({
        family: 'length' as const,
        description: `a frame one byte over a ${limit}-byte message limit (header only)`,
        expectedCode: 1009 as const,
        maxMessageSize: limit,
        frames: [
          {
            fin: true,
            rsv: 0,
            opcode: Opcode.Binary,
            payload: new Uint8Array(0),
            maskKey: k,
            declaredLength: limit + 1,
          },
        ],
      })),
    ),
    'control-size': fc
      .tuple(fc.constantFrom(Opcode.Ping, Opcode.Pong, Opcode.Close), fc.integer({ min: 126, max: 300 }), key)
      .map(([opcode, n, k]) => ({
        family: 'control-size' as const,
        description: `a control frame (0x${opcode.toString(16)}) with ${n} bytes of payload`,
        expectedCode: 1002 as const,
        frames: [{ fin: true, rsv: 0, opcode, payload: new Uint8Array(n), maskKey: k }],
      })),
    'control-fragmented': fc.tuple(fc.constantFrom(Opcode.Ping, Opcode.Pong, Opcode.Close), key).map(([opcode, k]) => ({
      family: 'control-fragmented' as const,
      description: `a control frame (0x${opcode.toString(16)}) without FIN`,
      expectedCode: 1002 as const,
      frames: [{ fin: false, rsv: 0, opcode, payload: new Uint8Array(0), maskKey: k }],
    })),
    continuation: fc.oneof(
      key.map((k) => ({
        family: 'continuation' as const,
        description: 'a continuation frame with nothing to continue',
        expectedCode: 1002 as const,
        frames: [{ fin: true, rsv: 0, opcode: Opcode.Continuation, payload: utf8.encode('x'), maskKey: k }],
      })),
      fc.tuple(key, key, fc.constantFrom(Opcode.Text, Opcode.Binary)).map(([k1, k2, opcode]) => ({
        family: 'continuation' as const,
        description: 'a new data frame inside a fragmented message',
        expectedCode: 1002 as const,
        frames: [
          { fin: false, rsv: 0, opcode: Opcode.Binary, payload: utf8.encode('a'), maskKey: k1 },
          { fin: true, rsv: 0, opcode, payload: utf8.encode('b'), maskKey: k2 },
        ],
      })),
    ),
    'close-payload': key.map((k) => ({
      family: 'close-payload' as const,
      description: 'a close frame with a 1-byte payload',
      expectedCode: 1002 as const,
      frames: [{ fin: true, rsv: 0, opcode: Opcode.Close, payload: new Uint8Array([0x03]), maskKey: k }],
    })),
    'close-code': fc
      .tuple(
        fc.integer({ min: 0, max: 0xffff }).filter((c) => !isValidWireCloseCode(c)),
        key,
      )
      .map(([code, k]) => ({
        family: 'close-code' as const,
        description: `close code ${code}, which may not appear on the wire`,
        expectedCode: 1002 as const,
        frames: [
          { fin: true, rsv: 0, opcode: Opcode.Close, payload: new Uint8Array([code >> 8, code & 0xff]), maskKey: k },
        ],
      })),
    utf8: fc
      .tuple(
        text({ maxLength: 40 }),
        text({ maxLength: 40 }),
        fc.constantFrom(...invalidUtf8Sequences),
        fc.constantFrom('text', 'fragmented', 'close-reason'),
        key,
        key,
      )
      .map(([before, after, bad, where, k1, k2]) => {
        const payload = concatBytes([utf8.encode(before), Uint8Array.from(bad), utf8.encode(after)]);
        const frames: FrameSpec[] =
          where === 'text'
            ? [{ fin: true, rsv: 0, opcode: Opcode.Text, payload, maskKey: k1 }]
            : where === 'fragmented'
              ? [
                  { fin: false, rsv: 0, opcode: Opcode.Text, payload: utf8.encode(before), maskKey: k1 },
                  {
                    fin: true,
                    rsv: 0,
                    opcode: Opcode.Continuation,
                    payload: concatBytes([Uint8Array.from(bad), utf8.encode(after)]),
                    maskKey: k2,
                  },
                ]
              : [
                  {
                    fin: true,
                    rsv: 0,
                    opcode: Opcode.Close,
                    payload: concatBytes([Uint8Array.of(0x03, 0xe8), payload.subarray(0, 123)]),
                    maskKey: k1,
                  },
                ];
        return {
          family: 'utf8' as const,
          description: `invalid UTF-8 (${bad.map((b) => b.toString(16).padStart(2, '0')).join(' ')}) in a ${where === 'close-reason' ? 'close reason' : `${where} message`}`,
          expectedCode: 1007 as const,
          frames,
        };
      })
      .filter((c) => c.frames.every((f) => f.opcode !== Opcode.Close || f.payload.length <= 125)),
  };
  const families = options.families ?? (Object.keys(all) as InvalidFamily[]);
  const violation = fc.oneof(...families.map((f) => all[f]));
  return fc.tuple(validStream({ sender, maxMessages: 3, maxMessageLength: 60 }), violation).map(([prefix, v]) => {
    const { frames, ...rest } = v;
    return { ...rest, bytes: concatBytes([prefix.bytes, ...frames.map(encodeFrame)]), expectedBefore: prefix.expected };
  });
}

/** An RFC 7230 token usable as a subprotocol name. */
export function token(): fc.Arbitrary<string> {
  return fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,16}$/);
}

/** A permessage-deflate offer as a header value: valid ones and ones a server must decline. */
export function deflateOffer(): fc.Arbitrary<{ readonly header: string; readonly valid: boolean }> {
  const bits = fc.integer({ min: 8, max: 15 });
  const valid = fc
    .record({
      serverNoContextTakeover: fc.boolean(),
      clientNoContextTakeover: fc.boolean(),
      serverMaxWindowBits: fc.option(bits, { nil: undefined }),
      clientMaxWindowBits: fc.option(fc.oneof(fc.constant(true as const), bits), { nil: undefined }),
    })
    .map((o) => {
      const params = ['permessage-deflate'];
      if (o.serverNoContextTakeover) params.push('server_no_context_takeover');
      if (o.clientNoContextTakeover) params.push('client_no_context_takeover');
      if (o.serverMaxWindowBits !== undefined) params.push(`server_max_window_bits=${o.serverMaxWindowBits}`);
      if (o.clientMaxWindowBits === true) params.push('client_max_window_bits');
      else if (o.clientMaxWindowBits !== undefined) params.push(`client_max_window_bits=${o.clientMaxWindowBits}`);
      return { header: params.join('; '), valid: true };
    });
  const invalid = fc
    .constantFrom(
      'permessage-deflate; server_max_window_bits=7',
      'permessage-deflate; server_max_window_bits=16',
      'permessage-deflate; server_max_window_bits=010',
      'permessage-deflate; server_max_window_bits',
      'permessage-deflate; client_max_window_bits=0',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; server_no_context_takeover=1',
      'permessage-deflate; unknown_param',
    )
    .map((header) => ({ header, valid: false }));
  return fc.oneof(valid, invalid);
}

/** A valid HTTP/1.1 upgrade request, with the fields it carries. */
export function upgradeRequest(): fc.Arbitrary<{
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly key: string;
  readonly protocols: readonly string[];
  readonly path: string;
}> {
  return fc
    .record({
      key: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => encodeBase64(b)),
      protocols: fc.uniqueArray(token(), { maxLength: 4 }),
      path: fc.stringMatching(/^\/[a-z0-9/_-]{0,20}(\?[a-z0-9=&]{0,20})?$/),
      host: fc.constantFrom('localhost', 'example.com:8080', '127.0.0.1:9001', '[::1]'),
      upgradeCase: fc.constantFrom('websocket', 'WebSocket', 'WEBSOCKET'),
      connection: fc.constantFrom('Upgrade', 'upgrade', 'keep-alive, Upgrade'),
    })
    .map((r) => {
      const lines = [
        `GET ${r.path} HTTP/1.1`,
        `Host: ${r.host}`,
        `Upgrade: ${r.upgradeCase}`,
        `Connection: ${r.connection}`,
        `Sec-WebSocket-Key: ${r.key}`,
        'Sec-WebSocket-Version: 13',
      ];
      if (r.protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${r.protocols.join(', ')}`);
      return {
        bytes: utf8.encode(`${lines.join('\r\n')}\r\n\r\n`) as Uint8Array<ArrayBuffer>,
        key: r.key,
        protocols: r.protocols,
        path: r.path,
      };
    });
}

/** An upgrade request with one defect, and the status a server must answer it with. */
export function invalidUpgradeRequest(): fc.Arbitrary<{
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly expectedStatus: 400 | 426;
  readonly description: string;
}> {
  const defects: readonly [string, 400 | 426, (lines: string[]) => string[]][] = [
    ['method POST', 400, (l) => [l[0]!.replace('GET', 'POST'), ...l.slice(1)]],
    ['HTTP/1.0', 400, (l) => [l[0]!.replace('HTTP/1.1', 'HTTP/1.0'), ...l.slice(1)]],
    ['no Host', 400, (l) => l.filter((x) => !x.startsWith('Host:'))],
    ['no Upgrade', 400, (l) => l.filter((x) => !x.startsWith('Upgrade:'))],
    ['Upgrade: h2c', 400, (l) => l.map((x) => (x.startsWith('Upgrade:') ? 'Upgrade: h2c' : x))],
    ['Connection: keep-alive', 400, (l) => l.map((x) => (x.startsWith('Connection:') ? 'Connection: keep-alive' : x))],
    [
      'a 15-byte key',
      400,
      (l) => l.map((x) => (x.startsWith('Sec-WebSocket-Key:') ? 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA' : x)),
    ],
    ['no key', 400, (l) => l.filter((x) => !x.startsWith('Sec-WebSocket-Key:'))],
    ['version 8', 426, (l) => l.map((x) => (x.startsWith('Sec-WebSocket-Version:') ? 'Sec-WebSocket-Version: 8' : x))],
    ['no version', 426, (l) => l.filter((x) => !x.startsWith('Sec-WebSocket-Version:'))],
    ['a header without a colon', 400, (l) => [...l, 'Broken header']],
    ['obs-fold', 400, (l) => [...l, ' folded']],
  ];
  return fc.tuple(upgradeRequest(), fc.constantFrom(...defects)).map(([req, [description, expectedStatus, mutate]]) => {
    const lines = new TextDecoder().decode(req.bytes).split('\r\n').slice(0, -2);
    return {
      bytes: utf8.encode(`${mutate(lines).join('\r\n')}\r\n\r\n`) as Uint8Array<ArrayBuffer>,
      expectedStatus,
      description,
    };
  });
}
