// Text received as bytes (`textAs: 'bytes'`) and sent from bytes
// (`send(data, { binary: false })`), against the npm `ws` client: a relay
// passes text on without decoding or re-encoding it, and the peer sees the
// same text messages it would from strings.
import { once } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import { type WebSocket, type WebSocketServer, nodeTextCodec, UsageError } from '../src/index.js';
import { clientFrame, rawClient, startServer, until } from './helpers.js';

const servers: Array<Pick<WebSocketServer, 'close'>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 500 })));
});

async function relay(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer({ textAs: 'bytes', ...options });
  servers.push(s.wss);
  const received: Array<[Buffer | string, boolean]> = [];
  s.wss.on('connection', (ws: WebSocket) =>
    ws.on('message', (data, isBinary) => {
      received.push([data, isBinary]);
      ws.send(data, { binary: isBinary });
    }),
  );
  return { ...s, received };
}

async function open(url: string) {
  const c = new WebSocketClient(url);
  await once(c, 'open');
  return c;
}

const samples = ['héllo ✓', '', 'κόσμε 🚀 日本語', `${'a'.repeat(70_000)}é`];

describe("textAs: 'bytes'", () => {
  it('hands text to the application as Buffers of its UTF-8, marked not binary, and a relay echoes them as text', async () => {
    const { url, received } = await relay();
    const c = await open(url);
    const echoed: Array<[string, boolean]> = [];
    c.on('message', (d: Buffer, isBinary) => echoed.push([d.toString(), isBinary]));
    for (const s of samples) c.send(s);
    // A text message in fragments that cut characters apart.
    const split = Buffer.from('€uro ✓');
    c.send(split.subarray(0, 1), { binary: false, fin: false });
    c.send(split.subarray(1, 5), { binary: false, fin: false });
    c.send(split.subarray(5), { binary: false, fin: true });
    c.send(Buffer.from([0, 255]));
    await until(() => echoed.length === samples.length + 2, 5000, 'echoes');
    expect(received.map(([d, b]) => [Buffer.isBuffer(d), b])).toEqual([
      ...samples.map(() => [true, false]),
      [true, false],
      [true, true],
    ]);
    expect(received.slice(0, samples.length + 1).map(([d]) => (d as Buffer).toString())).toEqual([
      ...samples,
      '€uro ✓',
    ]);
    expect(echoed).toEqual([...samples.map((s) => [s, false]), ['€uro ✓', false], ['\u0000\ufffd', true]]);
    c.close();
    await once(c, 'close');
  });

  it('still fails a message with invalid UTF-8 with 1007', async () => {
    const { port } = await relay();
    const raw = await rawClient(port);
    raw.socket.write(clientFrame(0x81, Buffer.from([0x61, 0xed, 0xa0, 0x80])));
    const bytes = await raw.waitFor((b) => b.length >= 4);
    expect(bytes[0]).toBe(0x88);
    expect((bytes[2]! << 8) | bytes[3]!).toBe(1007);
    await raw.closed;
  });
});

describe('send(bytes, { binary: false })', () => {
  it('refuses bytes that are not UTF-8 with a UsageError and sends nothing', async () => {
    const s = await startServer();
    servers.push(s.wss);
    const thrown = new Promise<unknown>((resolve) =>
      s.wss.on('connection', (ws: WebSocket) => {
        try {
          ws.send(Buffer.from([0xc0, 0xaf]), { binary: false });
          resolve(undefined);
        } catch (error) {
          ws.send('still open');
          resolve(error);
        }
      }),
    );
    const c = new WebSocketClient(s.url);
    const first = once(c, 'message') as Promise<[Buffer, boolean]>;
    const error = await thrown;
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('ERR_INVALID_ARGUMENT');
    const [data, isBinary] = await first;
    expect([data.toString(), isBinary]).toEqual(['still open', false]);
    c.close();
    await once(c, 'close');
  });

  it("sends a string's UTF-8 as binary with binary: true", async () => {
    const s = await startServer();
    servers.push(s.wss);
    s.wss.on('connection', (ws: WebSocket) => ws.send('ü', { binary: true }));
    const c = new WebSocketClient(s.url);
    const [data, isBinary] = (await once(c, 'message')) as [Buffer, boolean];
    expect([Array.from(data), isBinary]).toEqual([[0xc3, 0xbc], true]);
    c.close();
    await once(c, 'close');
  });
});

const utf8Strings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'binary', minLength: 1000, maxLength: 5000 }),
  fc.string({ unit: 'binary-ascii', minLength: 1000, maxLength: 3000 }),
  // Latin-1 beyond ASCII only, and ASCII with one astral character far in.
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
    minLength: 1000,
    maxLength: 3000,
  }),
  fc
    .tuple(
      fc.string({ unit: 'binary-ascii', minLength: 1000, maxLength: 2000 }),
      fc.constantFrom('😀', '\u{10ffff}', '\ufeff', '\ufffd'),
    )
    .map(([a, b]) => a + b),
);

describe('nodeTextCodec', () => {
  it("decodes any valid UTF-8, at any offset of any buffer, as the platform's TextDecoder does", () => {
    fc.assert(
      fc.property(utf8Strings, fc.nat(7), (s, offset) => {
        const encoded = new TextEncoder().encode(s);
        const backing = new Uint8Array(encoded.length + offset + 1);
        backing.set(encoded, offset);
        const view = backing.subarray(offset, offset + encoded.length);
        expect(nodeTextCodec.validate?.(view)).toBe(true);
        const expected = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(view);
        expect(nodeTextCodec.decode(view)).toBe(expected);
        expect(nodeTextCodec.decodeIfValid?.(view)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what is not UTF-8, as the fatal TextDecoder does', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }),
          fc
            .tuple(fc.string({ unit: 'binary', minLength: 1000, maxLength: 2000 }), fc.uint8Array({ maxLength: 4 }))
            .map(([s, tail]) => Buffer.concat([Buffer.from(s), tail])),
        ),
        (bytes) => {
          let valid = true;
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(bytes);
          } catch {
            valid = false;
          }
          expect(nodeTextCodec.validate?.(bytes)).toBe(valid);
          if (!valid) expect(nodeTextCodec.decodeIfValid?.(bytes)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
    // A byte order mark is text, not a marker to drop, however long the text.
    expect(nodeTextCodec.decode(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41))).toBe('\ufeffA');
    const long = new TextEncoder().encode(`\ufeff${'é'.repeat(1000)}`);
    expect(nodeTextCodec.decode(long)).toBe(`\ufeff${'é'.repeat(1000)}`);
  });
});
