/**
 * The public frame layer (`@rfc6455/codec/frames`): headers parsed and
 * encoded as RFC 6455 §5.2 writes them, and messages encoded once for many
 * server endpoints.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { equals } from 'uint8arrays/equals';
import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeFrameHeader, MessagePreEncoder, parseFrameHeader } from '../src/frames.js';
import { ClientEndpoint, type EndpointEvent, permessageDeflate, ServerEndpoint } from '../src/index.js';
import { hex } from './helpers.js';

describe('parseFrameHeader', () => {
  it('reads the RFC 6455 §5.7 examples', () => {
    expect(parseFrameHeader(hex('81 05 48 65 6c 6c 6f'))).toEqual({
      type: 'header',
      header: {
        fin: true,
        rsv: 0,
        opcode: 1,
        masked: false,
        maskKey: null,
        payloadLength: 5,
        lengthEncoding: 7,
        headerLength: 2,
      },
    });
    expect(parseFrameHeader(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'))).toMatchObject({
      type: 'header',
      header: { masked: true, maskKey: hex('37 fa 21 3d'), payloadLength: 5, headerLength: 6 },
    });
    expect(parseFrameHeader(hex('01 03 48 65 6c'))).toMatchObject({ header: { fin: false, opcode: 1 } });
    expect(parseFrameHeader(hex('82 7E 01 00'))).toMatchObject({
      header: { payloadLength: 256, lengthEncoding: 16, headerLength: 4 },
    });
    expect(parseFrameHeader(hex('82 7F 00 00 00 00 00 01 00 00'))).toMatchObject({
      header: { payloadLength: 65536, lengthEncoding: 64, headerLength: 10 },
    });
  });

  it('says how many bytes a partial header needs', () => {
    expect(parseFrameHeader(hex('82'))).toEqual({ type: 'need-more', bytes: 2 });
    expect(parseFrameHeader(hex('82 FF 00 00'))).toEqual({ type: 'need-more', bytes: 14 });
    expect(parseFrameHeader(hex('00 00 82 7E 01'), 2)).toEqual({ type: 'need-more', bytes: 4 });
  });

  it('applies the receiver’s rules and names the close code', () => {
    expect(parseFrameHeader(hex('83 00'))).toMatchObject({
      type: 'invalid',
      code: 1002,
      reason: 'reserved opcode 0x3',
    });
    expect(parseFrameHeader(hex('c1 00'))).toMatchObject({ type: 'invalid', code: 1002 });
    expect(parseFrameHeader(hex('c1 00'), 0, { allowedRsv: 0x40 }).type).toBe('header');
    expect(parseFrameHeader(hex('81 00'), 0, { expectMasked: true })).toMatchObject({
      type: 'invalid',
      reason: 'a client frame was not masked',
    });
    expect(parseFrameHeader(hex('09 00'))).toMatchObject({
      type: 'invalid',
      code: 1002,
      reason: 'fragmented ping frame',
    });
    expect(parseFrameHeader(hex('89 7E 00 7E'))).toMatchObject({ type: 'invalid', code: 1002 });
    expect(parseFrameHeader(hex('82 7E 01 00'), 0, { maxFramePayload: 255 })).toMatchObject({
      type: 'invalid',
      code: 1009,
    });
    expect(parseFrameHeader(hex('82 7F 80 00 00 00 00 00 00 00'))).toMatchObject({
      type: 'invalid',
      code: 1002,
      header: null,
    });
  });

  it('reads back whatever encodeFrame wrote, for every length encoding and mask', () => {
    fc.assert(
      fc.property(
        fc.record({
          fin: fc.boolean(),
          rsv: fc.constantFrom(0, 0x40, 0x20, 0x10, 0x70),
          opcode: fc.constantFrom(0, 1, 2),
        }),
        fc.oneof(fc.integer({ min: 0, max: 125 }), fc.integer({ min: 126, max: 70_000 })),
        fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 }), { nil: undefined }),
        (init, length, maskKey) => {
          const payload = new Uint8Array(length).map((_, i) => i & 0xff);
          const frame = encodeFrame({ ...init, ...(maskKey && { maskKey }) }, payload);
          const parsed = parseFrameHeader(frame, 0, { allowedRsv: 0x70 });
          if (parsed.type !== 'header') throw new Error(parsed.type);
          const h = parsed.header;
          expect(h).toMatchObject({ ...init, masked: maskKey !== undefined, payloadLength: length });
          expect(h.lengthEncoding).toBe(length < 126 ? 7 : length < 65536 ? 16 : 64);
          expect(frame.length).toBe(h.headerLength + length);
          expect(frame.subarray(0, h.headerLength)).toEqual(
            encodeFrameHeader({ ...init, ...(maskKey && { maskKey }) }, length),
          );
          const body = frame.slice(h.headerLength);
          if (maskKey !== undefined)
            for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (maskKey[i & 3] as number);
          // equals(), not toEqual(): a deep diff of 70 000 elements is what would make this slow.
          expect(equals(body, payload)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** A server endpoint and a client endpoint agreed on `deflate` (undefined: no extension). */
function pair(deflate?: Parameters<typeof permessageDeflate>[0]): { server: ServerEndpoint; client: ClientEndpoint } {
  const server = new ServerEndpoint({ extensions: deflate === undefined ? [] : [permessageDeflate(deflate)] });
  const client = new ClientEndpoint('ws://localhost/', { extensions: [permessageDeflate({ threshold: 0 })] });
  for (const b of client.takeOutgoing()) server.receive(b);
  server.nextEvent();
  server.send({ type: 'accept' });
  server.nextEvent();
  for (const b of server.takeOutgoing()) client.receive(b);
  client.nextEvent();
  return { server, client };
}

function deliver(server: ServerEndpoint, client: ClientEndpoint): EndpointEvent[] {
  client.receive(concat(server.takeOutgoing()));
  return client.events();
}

describe('MessagePreEncoder', () => {
  it('encodes a broadcast once per encoding, and every kind of client reads it', () => {
    const encoder = new MessagePreEncoder();
    const text = 'a broadcast, long enough to be worth compressing. '.repeat(40);
    const endpoints = [
      pair(),
      pair({ threshold: 0 }),
      pair({ threshold: 0, serverNoContextTakeover: true }),
      pair({ threshold: 0, serverNoContextTakeover: true, serverMaxWindowBits: 10 }),
    ];
    const cache = new Map<string, ReturnType<MessagePreEncoder['encode']>>();
    for (const { server, client } of endpoints) {
      let message = cache.get(server.sharedEncoding);
      if (message === undefined) {
        message = encoder.encode({ type: 'text', data: text }, server.extensions);
        cache.set(server.sharedEncoding, message);
      }
      expect(message.encoding).toBe(server.sharedEncoding);
      server.send({ type: 'pre-encoded', message });
      // The connection's own messages still flow around it, with its own compression context.
      server.send({ type: 'text', data: text });
      expect(deliver(server, client)).toEqual([
        { type: 'text', data: text },
        { type: 'text', data: text },
      ]);
    }
    // Plain, and one per window size without server context takeover.
    expect([...cache.keys()].sort()).toEqual([
      '',
      'permessage-deflate; server_max_window_bits=10',
      'permessage-deflate; server_max_window_bits=15',
    ]);
    const compressed = cache.get('permessage-deflate; server_max_window_bits=15');
    expect(compressed?.byteLength).toBeLessThan(text.length / 4);
    expect((compressed?.frames[0]?.[0] ?? 0) & 0x40).toBe(0x40);
  });

  it('refuses a message encoded for another connection kind, and one inside a streamed message', () => {
    const encoder = new MessagePreEncoder();
    const shared = pair({ threshold: 0, serverNoContextTakeover: true });
    const plain = pair();
    const compressed = encoder.encode({ type: 'binary', data: new Uint8Array(100) }, shared.server.extensions);
    expect(() => plain.server.send({ type: 'pre-encoded', message: compressed })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    shared.server.send({ type: 'text', data: 'part', fin: false });
    expect(() => shared.server.send({ type: 'pre-encoded', message: compressed })).toThrow(
      expect.objectContaining({ code: 'ERR_MESSAGE_INTERLEAVED' }),
    );
    expect(() => encoder.encode({ type: 'binary', data: 'not bytes' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('takes text as UTF-8 bytes: the same frames as its string, and an endpoint reads it', () => {
    const utf8 = new TextEncoder();
    const encoder = new MessagePreEncoder({ fragmentSize: 100 });
    const endpoints = [pair(), pair({ threshold: 0, serverNoContextTakeover: true })];
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.boolean(), (text, compressed) => {
        const { server, client } = endpoints[compressed ? 1 : 0] as (typeof endpoints)[number];
        const fromBytes = encoder.encode({ type: 'text', data: utf8.encode(text) }, server.extensions);
        const fromString = encoder.encode({ type: 'text', data: text }, server.extensions);
        expect(fromBytes.encoding).toBe(fromString.encoding);
        // Compressed frames depend on the deflater's state, so only plain ones are compared byte for byte.
        if (!compressed) expect(equals(concat([...fromBytes.frames]), concat([...fromString.frames]))).toBe(true);
        server.send({ type: 'pre-encoded', message: fromBytes });
        expect(deliver(server, client)).toEqual([{ type: 'text', data: text }]);
      }),
      {
        numRuns: 150,
        examples: [
          ['', false],
          ['€', true],
        ],
      },
    );
  });

  it('rejects text bytes that are not UTF-8 as an endpoint send does, and stays usable', () => {
    // The oracle: a fatal TextDecoder accepts exactly the well-formed UTF-8 of RFC 3629.
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const isUtf8 = (bytes: Uint8Array): boolean => {
      try {
        strict.decode(bytes);
        return true;
      } catch {
        return false;
      }
    };
    const encoder = new MessagePreEncoder();
    const { server, client } = pair();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const message = { type: 'text', data: bytes } as const;
        if (isUtf8(bytes)) {
          server.send({ type: 'pre-encoded', message: encoder.encode(message) });
          expect(deliver(server, client)).toEqual([{ type: 'text', data: strict.decode(bytes) }]);
          return;
        }
        expect(() => encoder.encode(message)).toThrow(
          expect.objectContaining({ name: 'UsageError', code: 'ERR_INVALID_ARGUMENT' }),
        );
        expect(() => server.send(message)).toThrow(
          expect.objectContaining({ name: 'UsageError', code: 'ERR_INVALID_ARGUMENT' }),
        );
        // Nothing was queued for either, and the next message goes through.
        expect(server.takeOutgoing()).toEqual([]);
        server.send({ type: 'pre-encoded', message: encoder.encode({ type: 'text', data: 'ok' }) });
        expect(deliver(server, client)).toEqual([{ type: 'text', data: 'ok' }]);
      }),
      {
        numRuns: 300,
        examples: [
          [Uint8Array.of(0xff)],
          [Uint8Array.of(0xc0, 0x80)],
          [Uint8Array.of(0xed, 0xa0, 0x80)],
          [Uint8Array.of(0xe2, 0x82)],
          [Uint8Array.of(0xf4, 0x90, 0x80, 0x80)],
          [Uint8Array.of(0x00)],
        ],
      },
    );
  });
});
