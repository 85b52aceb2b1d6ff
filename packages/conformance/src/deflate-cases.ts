/**
 * permessage-deflate (RFC 7692) cases for either receiver. Against a server
 * the suite's offer varies; against a client (the fuzzing server) the
 * server's preferences vary (`case.deflate.offer` holds them). The bytes are
 * built after the handshake because they depend on what was agreed (the
 * window our deflater may use, whether we must reset it per message).
 */
import {
  type DeflateOffer,
  deflateOfferElement,
  pakoBackend,
  type PerMessageDeflateParams,
  type Role,
  serializeExtensions,
} from '@rfc6455/codec';
import { encodeFrame, text } from '@rfc6455/codec/testing';
import fc from 'fast-check';
import type { BuildContext, Case, Reply } from './case.js';
import { closeBody, concat, Op } from './wire.js';

const utf8 = new TextEncoder();

const offers: readonly DeflateOffer[] = [
  {},
  { clientMaxWindowBits: true },
  { clientNoContextTakeover: true },
  { serverNoContextTakeover: true },
  { serverNoContextTakeover: true, clientNoContextTakeover: true },
  { serverMaxWindowBits: 10, clientMaxWindowBits: true },
  { clientMaxWindowBits: 9 },
  { serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
];

/**
 * What the fuzzing server prefers when it accepts a client's offer: context
 * takeover or not on either side, smaller windows (the client's only when it
 * offered `client_max_window_bits`).
 */
const serverPreferences: readonly DeflateOffer[] = [
  {},
  { serverNoContextTakeover: true },
  { clientNoContextTakeover: true },
  { serverMaxWindowBits: 10 },
  { clientMaxWindowBits: 9 },
  { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9 },
];

/** The preferences of a server in the server's own terms, for descriptions. */
function preferenceText(o: DeflateOffer): string {
  const parts = [
    ...(o.serverNoContextTakeover ? ['server_no_context_takeover'] : []),
    ...(o.clientNoContextTakeover ? ['client_no_context_takeover'] : []),
    ...(o.serverMaxWindowBits !== undefined ? [`server window ${o.serverMaxWindowBits}`] : []),
    ...(typeof o.clientMaxWindowBits === 'number' ? [`client window ${o.clientMaxWindowBits} if offered`] : []),
  ];
  return parts.length === 0 ? 'defaults' : parts.join(', ');
}

/** The offer as it goes on the wire, for descriptions. */
function wireOffer(o: DeflateOffer): string {
  return serializeExtensions([deflateOfferElement(o)]);
}

interface PlannedMessage {
  readonly reply: Reply & { type: 'text' | 'binary' };
  readonly compressed: boolean;
  /** Cut points in the compressed payload, as fractions. */
  readonly cuts: readonly number[];
}

/** Compresses messages as the sender (the receiver's peer) may under the agreement, keeping context unless it must not. */
function compressor(params: PerMessageDeflateParams, receiver: Role): (bytes: Uint8Array) => Uint8Array {
  const senderIsClient = receiver === 'server';
  const bits = senderIsClient ? params.clientMaxWindowBits : params.serverMaxWindowBits;
  const reset = senderIsClient ? params.clientNoContextTakeover : params.serverNoContextTakeover;
  // zlib cannot deflate with an 8-bit window; 9 is what every zlib-based peer really uses.
  const deflater = pakoBackend.createDeflater({ windowBits: Math.max(9, bits), level: 6, memLevel: 8 });
  return (bytes) => {
    const out = deflater.compress(bytes);
    // Strip the sync flush's 00 00 ff ff (RFC 7692 §7.2.1); copy, the view is reused.
    const body = out.slice(0, out.length - 4);
    if (reset) deflater.reset();
    return body.length === 0 ? Uint8Array.of(0) : body;
  };
}

function split(payload: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * payload.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    if (p > at) out.push(payload.subarray(at, p));
    at = Math.max(at, p);
  }
  out.push(payload.subarray(at));
  return out;
}

function mustAgree(ctx: BuildContext): PerMessageDeflateParams {
  if (ctx.deflate === undefined) throw new Error('a deflate case was built without an agreement');
  return ctx.deflate;
}

/** A key per frame, drawn from a generated pool so cases replay from the seed; no key when a server sends. */
function keyring(pool: readonly Uint8Array[], receiver: Role): () => Uint8Array | null {
  let i = 0;
  return () => (receiver === 'client' ? null : (pool[i++ % pool.length] as Uint8Array));
}

const message = fc
  .tuple(
    fc.oneof(
      text({ maxLength: 200 }).map((s) => ({ type: 'text' as const, data: s })),
      // Repetitive text compresses, so back-references across messages exercise context takeover.
      // Up to ~2 KB, so echoes cross a peer's compression threshold (1 KiB by default here and in ws).
      fc
        .tuple(fc.constantFrom('hello ', '{"k":1}', 'abcabc'), fc.integer({ min: 1, max: 350 }))
        .map(([s, n]) => ({ type: 'text' as const, data: s.repeat(n) })),
      fc.uint8Array({ maxLength: 400 }).map((data) => ({ type: 'binary' as const, data })),
    ),
    fc.boolean(),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  )
  .map(
    ([reply, uncompressed, cuts]): PlannedMessage => ({
      reply,
      compressed: !uncompressed || reply.type === 'text',
      cuts,
    }),
  );

export function deflateCases(receiver: Role = 'server'): fc.Arbitrary<Case> {
  const keys = fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { minLength: 8, maxLength: 8 });
  const offer = fc.constantFrom(...(receiver === 'server' ? offers : serverPreferences));
  const offerText =
    receiver === 'server'
      ? (o: DeflateOffer) => `offer "${wireOffer(o)}"`
      : (o: DeflateOffer) => `server prefers ${preferenceText(o)}`;
  const messages: fc.Arbitrary<Case> = fc
    .tuple(
      offer,
      fc.array(message, { minLength: 1, maxLength: 5 }),
      fc.option(fc.integer({ min: 0, max: 125 }), { nil: undefined }),
      keys,
    )
    .map(([o, plan, pingAt, pool]) => ({
      family: 'deflate',
      variant: 'deflate/messages',
      description: `${offerText(o)}; ${plan.map((m) => `${m.compressed ? 'compressed' : 'plain'} ${m.reply.type} in ${m.cuts.length + 1} piece(s)`).join(', ')}`,
      deflate: { offer: o },
      build: (ctx) => {
        const params = mustAgree(ctx);
        const compress = compressor(params, receiver);
        const key = keyring(pool, receiver);
        const frames: Uint8Array[] = [];
        plan.forEach((m, mi) => {
          const raw = m.reply.type === 'text' ? utf8.encode(m.reply.data) : m.reply.data;
          const parts = split(m.compressed ? compress(raw) : raw, m.cuts);
          const opcode = m.reply.type === 'text' ? Op.Text : Op.Binary;
          parts.forEach((part, i) => {
            // RSV1 marks the message on its first frame only (RFC 7692 §6.1).
            frames.push(
              encodeFrame({
                fin: i === parts.length - 1,
                rsv: i === 0 && m.compressed ? 0x40 : 0,
                opcode: i === 0 ? opcode : Op.Continuation,
                payload: part,
                maskKey: key(),
              }),
            );
            // A ping after the first frame (inside the message when it is fragmented): control frames are never compressed.
            if (pingAt !== undefined && i === 0 && mi === 0)
              frames.push(
                encodeFrame({ fin: true, rsv: 0, opcode: Op.Ping, payload: new Uint8Array(pingAt), maskKey: key() }),
              );
          });
        });
        frames.push(encodeFrame({ fin: true, rsv: 0, opcode: Op.Close, payload: closeBody(1000), maskKey: key() }));
        return { send: concat(frames) };
      },
      expect: {
        kind: 'echo',
        replies: [
          ...(pingAt === undefined ? [] : [{ type: 'pong' as const, data: new Uint8Array(pingAt) }]),
          ...plan.map((m) => m.reply),
        ],
        closeCodes: [1000],
        strictCode: 1000,
      },
    }));
  const broken: fc.Arbitrary<Case> = fc
    .tuple(
      offer,
      fc.constantFrom(0x06, 0x07),
      fc.uint8Array({ maxLength: 20 }),
      fc.constantFrom(Op.Text, Op.Binary),
      keys,
    )
    .map(([o, head, tail, opcode, pool]) => ({
      family: 'deflate',
      variant: 'deflate/broken',
      description: `${offerText(o)}; a compressed ${opcode === Op.Text ? 'text' : 'binary'} message whose DEFLATE data has the reserved block type 11`,
      deflate: { offer: o },
      build: () => ({
        send: encodeFrame({
          fin: true,
          rsv: 0x40,
          opcode,
          payload: concat([Uint8Array.of(head), tail]),
          maskKey: keyring(pool, receiver)(),
        }),
      }),
      expect: { kind: 'fail', before: [], code: 1007 },
    }));
  const misplacedRsv1: fc.Arbitrary<Case> = fc
    .tuple(offer, fc.constantFrom('continuation', 'ping', 'pong'), keys)
    .map(([o, where, pool]) => ({
      family: 'deflate',
      variant: `deflate/rsv1-${where}`,
      description: `${offerText(o)}; RSV1 set on a ${where} frame`,
      deflate: { offer: o },
      build: () => {
        const key = keyring(pool, receiver);
        const frames =
          where !== 'continuation'
            ? [
                encodeFrame({
                  fin: true,
                  rsv: 0x40,
                  opcode: where === 'ping' ? Op.Ping : Op.Pong,
                  payload: Uint8Array.of(0),
                  maskKey: key(),
                }),
              ]
            : [
                encodeFrame({ fin: false, rsv: 0, opcode: Op.Binary, payload: Uint8Array.of(1, 2), maskKey: key() }),
                encodeFrame({
                  fin: true,
                  rsv: 0x40,
                  opcode: Op.Continuation,
                  payload: Uint8Array.of(0),
                  maskKey: key(),
                }),
              ];
        return { send: concat(frames) };
      },
      expect: { kind: 'fail', before: [], code: 1002 },
    }));
  return fc.oneof(
    { weight: 4, arbitrary: messages },
    { weight: 1, arbitrary: broken },
    { weight: 1, arbitrary: misplacedRsv1 },
  );
}
