/**
 * permessage-deflate on open endpoints that negotiated it: RSV1 ownership, the compressed-message
 * format of RFC 7692 §7.2, context takeover, limits on inflated bytes, and
 * the interplay with streaming, fragmentation and parts mode.
 */
import { deflateRawSync, constants as zc } from 'node:zlib';
import { Z_DEFAULT_STRATEGY, Z_SYNC_FLUSH, ZStream, zlibDeflate, zlibDeflateInit2 } from 'pako';
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import {
  type CompressionBackend,
  DEFAULT_MAX_MESSAGE_SIZE,
  type Endpoint,
  Opcode,
  pakoBackend,
  type PerMessageDeflateParams,
  permessageDeflate,
} from '../src/index.js';
import {
  deflateParams,
  feed,
  fullDeflateParams,
  openDeflatePair,
  openPair,
  outgoingBytes,
  rawFrame,
  seededRandom,
  server as plainServer,
} from './helpers.js';

const enc = new TextEncoder();

/** Endpoints that negotiated `params`, with the frame options on both sides. */
function pair(
  params: Partial<PerMessageDeflateParams> = {},
  extra: { threshold?: number; maxMessageSize?: number; fragmentSize?: number; messageMode?: 'whole' | 'parts' } = {},
) {
  const frame = {
    maxMessageSize: extra.maxMessageSize,
    fragmentSize: extra.fragmentSize,
    messageMode: extra.messageMode,
  };
  const { client, server } = openDeflatePair(params, {
    tuning: { threshold: extra.threshold ?? 0 },
    server: frame,
    client: { ...frame, random: seededRandom(3) },
  });
  expect(deflateParams(server)).toEqual(fullDeflateParams(params));
  expect(deflateParams(client)).toEqual(fullDeflateParams(params));
  return { client, server };
}

/** Raw DEFLATE of `bytes` as a peer sends it: sync flush, trailing 00 00 ff ff removed. */
function compressed(bytes: Uint8Array): Uint8Array {
  const out = deflateRawSync(bytes, { finishFlush: zc.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

const unmasked = (endpoint: Endpoint) => outgoingBytes(endpoint);

describe('permessage-deflate framing', () => {
  it('sets RSV1 on the first frame only and round-trips through fragmentation', () => {
    const { client, server } = pair({}, { fragmentSize: 7 });
    const text = 'a compressible message, a compressible message, a compressible message';
    client.send({ type: 'text', data: text });
    const wire = outgoingBytes(client);
    expect(wire[0]).toBe(0x40 | Opcode.Text); // RSV1, not FIN: fragmented
    // Every later frame is a continuation without RSV bits.
    expect(feed(server, [wire])).toEqual([{ type: 'text', data: text }]);
  });

  it('compresses the empty message to the single byte 0x00, also after context was kept', () => {
    const { client, server } = pair();
    server.send({ type: 'text', data: '' });
    expect(Array.from(unmasked(server))).toEqual([0xc1, 0x01, 0x00]);
    server.send({ type: 'text', data: 'some text' });
    server.send({ type: 'text', data: '' });
    const wire = unmasked(server);
    expect(Array.from(wire.subarray(wire.length - 3))).toEqual([0xc1, 0x01, 0x00]);
    expect(feed(client, [wire])).toEqual([
      { type: 'text', data: 'some text' },
      { type: 'text', data: '' },
    ]);
  });

  it('strips the 00 00 ff ff tail and decodes what zlib produces', () => {
    const { client } = pair();
    const payload = compressed(enc.encode('Hello'));
    expect(Array.from(payload)).toEqual([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    const frame = rawFrame({ rsv: 0x40, opcode: Opcode.Text, payload, mask: null });
    expect(feed(client, [frame])).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('decodes the RFC 7692 §7.2.3 examples: shared window, BFINAL block, stored block', () => {
    const { client } = pair();
    const frames = [
      // "Hello" twice, the second referring to the first (§7.2.3.2).
      [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
      [0xf2, 0x00, 0x11, 0x00, 0x00],
      // Stored block (§7.2.3.3).
      [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00],
      // A BFINAL block (§7.2.3.4): the next message starts a new stream.
      [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
      [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
    ].map((p) => rawFrame({ rsv: 0x40, opcode: Opcode.Text, payload: new Uint8Array(p), mask: null }));
    expect(feed(client, frames).map((e) => e.data)).toEqual(['Hello', 'Hello', 'Hello', 'Hello', 'Hello']);
  });

  it('reads on after a message a peer ended with a BFINAL block (a whole deflateRaw stream), in both whole and parts mode', () => {
    for (const messageMode of ['whole', 'parts'] as const) {
      const { client } = pair({}, { messageMode });
      // zlib's one-shot raw deflate ends with BFINAL and needs no 00 00 ff ff tail.
      const final = new Uint8Array(deflateRawSync(enc.encode('first message')));
      const frames = [final, compressed(enc.encode('Hello')), final, final].map((p) =>
        rawFrame({ rsv: 0x40, opcode: Opcode.Text, payload: p, mask: null }),
      );
      const messages: string[] = [];
      let pending = '';
      for (const ev of feed(client, frames)) {
        pending += ev.data as string;
        if (ev.type === 'text' || ev.last === true) {
          messages.push(pending);
          pending = '';
        }
      }
      expect(messages).toEqual(['first message', 'Hello', 'first message', 'first message']);
    }
  });

  it('still accepts uncompressed messages', () => {
    const { server } = pair();
    expect(feed(server, [rawFrame({ opcode: Opcode.Text, payload: enc.encode('plain') })])).toEqual([
      { type: 'text', data: 'plain' },
    ]);
  });

  it('leaves messages under the threshold uncompressed', () => {
    const { client, server } = pair({}, { threshold: 100 });
    server.send({ type: 'text', data: 'short' });
    server.send({ type: 'text', data: 'x'.repeat(200) });
    const wire = unmasked(server);
    expect(wire[0]).toBe(0x81);
    expect(wire[7]).toBe(0xc1);
    expect(feed(client, [wire]).map((e) => (e.data as string).length)).toEqual([5, 200]);
  });

  it('rejects RSV1 on a continuation frame and on a control frame with 1002', () => {
    const a = pair().server;
    const first = rawFrame({
      fin: false,
      rsv: 0x40,
      opcode: Opcode.Text,
      payload: compressed(enc.encode('ab')).subarray(0, 1),
    });
    const cont = rawFrame({ rsv: 0x40, opcode: Opcode.Continuation, payload: new Uint8Array([0]) });
    expect(feed(a, [first, cont]).at(-1)).toEqual({
      type: 'protocol-error',
      phase: 'frames',
      code: 1002,
      reason: 'RSV1 set on a continuation frame',
    });
    const b = pair().server;
    expect(feed(b, [rawFrame({ rsv: 0x40, opcode: Opcode.Ping })])).toEqual([
      { type: 'protocol-error', phase: 'frames', code: 1002, reason: 'RSV bit set on a control frame' },
    ]);
    // Without the extension RSV1 stays a protocol error.
    const c = plainServer();
    expect(feed(c, [rawFrame({ rsv: 0x40, opcode: Opcode.Text, payload: new Uint8Array([0]) })])[0]).toMatchObject({
      code: 1002,
    });
    // RSV2 is not permessage-deflate's.
    const d = pair().server;
    expect(feed(d, [rawFrame({ rsv: 0x20, opcode: Opcode.Text, payload: new Uint8Array([0]) })])[0]).toMatchObject({
      code: 1002,
    });
  });

  it('fails invalid compressed data with 1007 and a reason', () => {
    const { server } = pair();
    const evs = feed(server, [
      rawFrame({ rsv: 0x40, opcode: Opcode.Binary, payload: new Uint8Array([0xff, 0xff, 0xff, 0xff]) }),
    ]);
    expect(evs[0]).toMatchObject({ type: 'protocol-error', phase: 'frames', code: 1007 });
    expect(evs[0]!.reason).toMatch(/^invalid compressed data: /);
    expect(server.shouldCloseTransport).toBe(true);
  });

  it('fails invalid UTF-8 in a decompressed text message with 1007, in the piece that holds it', () => {
    const { server } = pair();
    const bad = concat([enc.encode('ok '), new Uint8Array([0xc0, 0xaf]), new Uint8Array(100_000).fill(0x41)]);
    const payload = compressed(bad);
    const frame = rawFrame({ fin: false, rsv: 0x40, opcode: Opcode.Text, payload });
    // Fail-fast: the error comes with the first frame, before the message ends.
    expect(feed(server, [frame])).toEqual([
      { type: 'protocol-error', phase: 'frames', code: 1007, reason: 'invalid UTF-8 in a text message' },
    ]);
  });

  it('keeps context across messages unless no_context_takeover applies', () => {
    const text = 'the same sentence, said again and again; '.repeat(4);
    const sizes = (params: Partial<PerMessageDeflateParams>) => {
      const { server, client } = pair(params);
      const out: number[] = [];
      for (let i = 0; i < 3; i++) {
        server.send({ type: 'text', data: text });
        const wire = unmasked(server);
        out.push(wire.length);
        expect(feed(client, [wire])).toEqual([{ type: 'text', data: text }]);
      }
      return out;
    };
    const kept = sizes({});
    expect(kept[1]).toBeLessThan(kept[0]!);
    const reset = sizes({ serverNoContextTakeover: true });
    expect(reset[1]).toBe(reset[0]);
    expect(reset[2]).toBe(reset[0]);
  });

  it('streams a compressed message with fin:false, interleaved with pings', () => {
    const { client, server } = pair({}, { fragmentSize: 50 });
    client.send({ type: 'binary', data: new Uint8Array(3000).fill(1), fin: false });
    client.send({ type: 'ping', data: 'p' });
    client.send({ type: 'binary', data: new Uint8Array(0), fin: false });
    client.send({ type: 'binary', data: new Uint8Array(2000).fill(2), fin: true });
    const evs = feed(server, [outgoingBytes(client)]);
    expect(evs.map((e) => e.type)).toEqual(['ping', 'binary']);
    const data = evs[1]!.data as number[];
    expect(data.length).toBe(5000);
    expect(data[2999]).toBe(1);
    expect(data[3000]).toBe(2);
  });

  it('delivers decompressed parts in parts mode, never larger than one step', () => {
    const { client, server } = pair({}, { messageMode: 'parts' });
    const text = 'é'.repeat(100_000);
    client.send({ type: 'text', data: text });
    const evs = feed(server, [outgoingBytes(client)]);
    expect(evs.every((e) => e.type === 'text-part')).toBe(true);
    expect(evs.length).toBeGreaterThan(3);
    expect(evs.at(-1)!.last).toBe(true);
    expect(evs.map((e) => e.data).join('')).toBe(text);
  });

  it('counts the decompressed size against maxMessageSize', () => {
    const { client, server } = pair({}, { maxMessageSize: 10_000 });
    client.send({ type: 'binary', data: new Uint8Array(10_000) });
    client.send({ type: 'binary', data: new Uint8Array(10_001) });
    const evs = feed(server, [outgoingBytes(client)]);
    expect(evs[0]).toMatchObject({ type: 'binary' });
    expect(evs[1]).toEqual({
      type: 'protocol-error',
      phase: 'frames',
      code: 1009,
      reason: 'message of at least 10001 bytes exceeds the limit of 10000',
    });
  });

  it('fails a 1 GiB bomb with 1009 after inflating little more than the limit, and with bounded memory', () => {
    const bomb = zeroBomb(1024);
    expect(bomb.length).toBeLessThan(1_100_000);
    const inflation = countingBackend();
    const { server } = openPair({
      server: { extensions: [permessageDeflate({ backend: inflation.backend })] },
      client: { extensions: [permessageDeflate()] },
    });
    expect(deflateParams(server)).toEqual(fullDeflateParams({}));
    const frame = rawFrame({ rsv: 0x40, opcode: Opcode.Binary, payload: bomb });
    globalThis.gc?.();
    const before = process.memoryUsage();
    server.receive(frame);
    const ev = server.nextEvent();
    const after = process.memoryUsage();
    expect(ev).toMatchObject({ type: 'protocol-error', phase: 'frames', code: 1009 });
    // The work done is the bytes inflated: up to the limit and one step past it, never the whole 1 GiB.
    expect(inflation.produced).toBeGreaterThan(DEFAULT_MAX_MESSAGE_SIZE);
    expect(inflation.produced).toBeLessThanOrEqual(DEFAULT_MAX_MESSAGE_SIZE + inflation.largestStep);
    // The default limit is 16 MiB: growth stays near it, far from 1 GiB.
    const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    expect(grown).toBeLessThan(48 * 1024 * 1024);
  });

  it('fails a small bomb against a small limit after producing little output', () => {
    const { server } = openDeflatePair({}, { server: { maxMessageSize: 1024 } });
    const bomb = zeroBomb(1); // 1 MiB of zeros in about 1 KiB
    expect(bomb.length).toBeLessThan(1100);
    const evs = feed(server, [rawFrame({ rsv: 0x40, opcode: Opcode.Text, payload: bomb })]);
    expect(evs).toEqual([
      {
        type: 'protocol-error',
        phase: 'frames',
        code: 1009,
        reason: expect.stringMatching(/exceeds the limit of 1024$/),
      },
    ]);
  });
});

/** pako's inflater, counting the bytes it inflates and the largest room it was given in one step. */
function countingBackend(): { backend: CompressionBackend; readonly produced: number; readonly largestStep: number } {
  let produced = 0;
  let largestStep = 0;
  const backend: CompressionBackend = {
    name: 'counting pako',
    createDeflater: (options) => pakoBackend.createDeflater(options),
    createInflater(windowBits) {
      const inner = pakoBackend.createInflater(windowBits);
      return {
        setInput: (bytes) => inner.setInput(bytes),
        get pendingInput() {
          return inner.pendingInput;
        },
        inflate(out, at, room) {
          const status = inner.inflate(out, at, room);
          produced += inner.produced;
          largestStep = Math.max(largestStep, room);
          return status;
        },
        get produced() {
          return inner.produced;
        },
        get error() {
          return inner.error;
        },
        reset: () => inner.reset(),
      };
    },
  };
  return {
    backend,
    get produced() {
      return produced;
    },
    get largestStep() {
      return largestStep;
    },
  };
}

/**
 * `mib` MiB of zeros, raw-deflated in 1 MiB steps with a sync flush after
 * each, the way a streaming peer would send it, trailing 00 00 ff ff removed.
 * Once the window is full of zeros every step deflates to the same bytes, so
 * the stream is the first step followed by the second repeated.
 */
function zeroBomb(mib: number): Uint8Array {
  const strm = new ZStream();
  zlibDeflateInit2(strm, 9, 8, -15, 8, Z_DEFAULT_STRATEGY);
  const step = new Uint8Array(1 << 20);
  const flushStep = () => {
    strm.input = step;
    strm.next_in = 0;
    strm.avail_in = step.length;
    const out = new Uint8Array(64 * 1024);
    strm.output = out;
    strm.next_out = 0;
    strm.avail_out = out.length;
    zlibDeflate(strm, Z_SYNC_FLUSH);
    return out.slice(0, strm.next_out);
  };
  const first = flushStep();
  const steady = flushStep();
  expect(Array.from(flushStep())).toEqual(Array.from(steady));
  const parts = [first];
  for (let i = 1; i < mib; i++) parts.push(steady);
  const all = concat(parts);
  return all.subarray(0, all.length - 4);
}
