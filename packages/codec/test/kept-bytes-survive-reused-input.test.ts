/**
 * Where the codec promises that bytes it keeps are its own (a caller may
 * reuse the buffer it passed in), they must stay intact when the input is a
 * Uint8Array subclass whose `slice()` returns a view into the same memory, as
 * Node's Buffer does. Each case hands the codec Buffers, scribbles over them
 * right after the call, then checks what the codec kept against the original
 * bytes. (The bytes behind a request given to fromParsedRequest are checked
 * the same way in server-endpoint-handshake.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, parseFrameHeader } from '../src/frames.js';
import { BodyReader, createRequestHeadParser } from '../src/http.js';
import {
  type CompressionBackend,
  type Deflater,
  type DeflaterOptions,
  Opcode,
  pakoBackend,
  permessageDeflate,
} from '../src/index.js';
import { openPair } from './helpers.js';

/** Copies `bytes` into a fresh Buffer (a subclass whose slice() is a view). */
const buffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes);
const scribble = (b: Uint8Array): void => {
  b.fill(0xee);
};

describe('bytes the codec keeps survive a caller reusing its buffer', () => {
  it('a parsed frame header keeps its own masking key', () => {
    const key = [0x37, 0xfa, 0x21, 0x3d];
    const frame = encodeFrame({ opcode: Opcode.Text, maskKey: new Uint8Array(key) }, new TextEncoder().encode('Hi'));
    const input = buffer(frame);
    const parsed = parseFrameHeader(input);
    scribble(input);
    expect(parsed.type).toBe('header');
    if (parsed.type !== 'header') return;
    expect([...(parsed.header.maskKey ?? [])]).toEqual(key);
  });

  it('a body reader keeps its own copy of every chunk, for any body and any split', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 6 }),
        fc.constantFrom('length', 'chunked', 'until-eof'),
        (body, cuts, kind) => {
          const wire =
            kind === 'chunked'
              ? Uint8Array.from([
                  ...new TextEncoder().encode(`${body.length.toString(16)}\r\n`),
                  ...body,
                  ...new TextEncoder().encode('\r\n0\r\n\r\n'),
                ])
              : body;
          const framing =
            kind === 'length'
              ? ({ kind: 'length', length: body.length } as const)
              : kind === 'chunked'
                ? ({ kind: 'chunked' } as const)
                : ({ kind: 'until-eof' } as const);
          const reader = new BodyReader(framing, 1024);
          const points = [...new Set(cuts.map((c) => c % wire.length))].sort((a, b) => a - b);
          let at = 0;
          for (const end of [...points, wire.length]) {
            if (end <= at) continue;
            const chunk = buffer(wire.subarray(at, end));
            reader.push(chunk);
            scribble(chunk);
            at = end;
          }
          reader.receiveEof();
          const { body: kept, complete } = reader.result();
          expect(complete).toBe(true);
          expect([...kept]).toEqual([...body]);
        },
      ),
    );
  });

  it('a parsed request head keeps its own copy of the bytes behind it', () => {
    const head = 'GET / HTTP/1.1\r\nHost: h\r\n\r\n';
    const behind = [0x81, 0x82, 1, 2, 3, 4, 5, 6];
    const input = buffer(Uint8Array.from([...new TextEncoder().encode(head), ...behind]));
    const result = createRequestHeadParser().push(input);
    scribble(input);
    expect(result.type).toBe('complete');
    if (result.type !== 'complete') return;
    expect([...(result.trailing ?? [])]).toEqual(behind);
  });

  it('a compressed message survives a backend that returns its output as a view of reused memory', () => {
    // A backend as the Deflater contract allows: output valid only until the
    // next call, here a Buffer view of one shared Buffer.
    const shared = Buffer.alloc(64 * 1024);
    const viewing: CompressionBackend = {
      name: 'pako through a shared Buffer',
      createInflater: (bits) => pakoBackend.createInflater(bits),
      createDeflater: (options: DeflaterOptions): Deflater => {
        const inner = pakoBackend.createDeflater(options);
        return {
          compress: (bytes) => {
            const out = inner.compress(bytes);
            shared.set(out);
            return shared.subarray(0, out.length);
          },
          reset: () => inner.reset(),
        };
      },
    };
    const { server, client } = openPair({
      server: { extensions: [permessageDeflate({ backend: viewing, threshold: 0 })] },
      client: { extensions: [permessageDeflate({ threshold: 0 })] },
    });
    // Long and varied enough to compress to more than the frame encoder copies (it queues larger payloads by reference).
    const texts = [1, 2].map((seed) => {
      let x = seed;
      let t = '';
      for (let i = 0; i < 4000; i++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        t += String.fromCharCode(97 + (x % 26));
      }
      return t;
    });
    for (const data of texts) server.send({ type: 'text', data });
    for (const bytes of server.takeOutgoing()) client.receive(bytes);
    expect(client.events().map((e) => (e.type === 'text' ? e.data : e.type))).toEqual(texts);
  });
});
