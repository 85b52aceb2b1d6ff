import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import type { Endpoint } from '../src/index.js';
import { client, feed, hex, openPair, outgoingBytes, rawFrame, server } from './helpers.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Feeds one open server endpoint and returns its single protocol error, checking the close frame it queued. */
function serverError(chunks: Uint8Array[], conn: Endpoint = server()) {
  const events = feed(conn, chunks);
  const last = events.at(-1) as { type: string; code: number; reason: string };
  expect(last.type).toBe('protocol-error');
  expect(events.filter((e) => e.type === 'protocol-error')).toHaveLength(1);
  const out = outgoingBytes(conn);
  // The close frame carries the same code (unmasked from a server).
  expect(out[0]).toBe(0x88);
  expect((out[2]! << 8) | out[3]!).toBe(last.code);
  expect(conn.state).toBe('closed');
  expect(conn.shouldCloseTransport).toBe(true);
  return { code: last.code, reason: last.reason, events };
}

describe('framing errors fail the connection with 1002', () => {
  it('an unmasked frame sent to a server', () => {
    const r = serverError([rawFrame({ opcode: 1, payload: utf8('hi'), mask: null })]);
    expect(r).toMatchObject({ code: 1002, reason: 'a client frame was not masked' });
  });

  it('a masked frame sent to a client', () => {
    const c = client();
    const events = feed(c, [rawFrame({ opcode: 1, payload: utf8('hi') })]);
    expect(events).toEqual([
      { type: 'protocol-error', phase: 'frames', code: 1002, reason: 'a server frame was masked' },
    ]);
    const out = outgoingBytes(c);
    expect(out[0]).toBe(0x88);
    expect(out[1]! & 0x80).toBe(0x80); // the client's close frame is masked
  });

  it.each([0x40, 0x20, 0x10])('RSV bit 0x%s without a negotiated extension', (rsv) => {
    expect(serverError([rawFrame({ opcode: 2, rsv, payload: new Uint8Array(3) })]).code).toBe(1002);
  });

  it.each([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf])('reserved opcode %i', (opcode) => {
    const r = serverError([rawFrame({ opcode })]);
    expect(r.code).toBe(1002);
    expect(r.reason).toContain('reserved opcode');
  });

  it.each([8, 9, 10])('a control frame (opcode %i) with 126 bytes of payload', (opcode) => {
    expect(serverError([rawFrame({ opcode, payload: new Uint8Array(126) })]).code).toBe(1002);
  });

  it.each([8, 9, 10])('a fragmented control frame (opcode %i)', (opcode) => {
    expect(serverError([rawFrame({ opcode, fin: false, payload: new Uint8Array(2) })]).code).toBe(1002);
  });

  it('a continuation frame with nothing to continue', () => {
    expect(serverError([rawFrame({ opcode: 0, payload: utf8('x') })]).code).toBe(1002);
  });

  it('a new data frame inside a fragmented message', () => {
    const r = serverError([
      rawFrame({ opcode: 1, fin: false, payload: utf8('a') }),
      rawFrame({ opcode: 2, payload: utf8('b') }),
    ]);
    expect(r.code).toBe(1002);
    expect(r.reason).toContain('inside an unfinished fragmented message');
  });

  it('a 64-bit length with its most significant bit set', () => {
    const frame = hex('82 ff 80 00 00 00 00 00 00 01 01 02 03 04');
    expect(serverError([frame]).code).toBe(1002);
  });

  it('ignores everything after the error, including valid frames in the same chunk', () => {
    const conn = server();
    const bad = rawFrame({ opcode: 3 });
    const good = rawFrame({ opcode: 1, payload: utf8('after') });
    const events = feed(conn, [concat([bad, good])]);
    expect(events).toHaveLength(1);
    conn.receive(good);
    expect(conn.nextEvent()).toBeUndefined();
  });
});

describe('close frames', () => {
  it('a 1-byte close payload is a protocol error', () => {
    expect(serverError([rawFrame({ opcode: 8, payload: new Uint8Array([3]) })]).code).toBe(1002);
  });

  const closeWith = (code: number, reason = '') =>
    rawFrame({ opcode: 8, payload: concat([new Uint8Array([code >> 8, code & 0xff]), utf8(reason)]) });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])(
    'code %i may not appear on the wire → 1002',
    (code) => {
      const r = serverError([closeWith(code)]);
      expect(r.code).toBe(1002);
      expect(r.reason).toBe(`invalid close code ${code}`);
    },
  );

  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999])(
    'code %i is accepted and echoed with its reason',
    (code) => {
      const conn = server();
      expect(feed(conn, [closeWith(code, 'bye')])).toEqual([{ type: 'close', code, reason: 'bye' }]);
      expect(outgoingBytes(conn)).toEqual(new Uint8Array([0x88, 5, code >> 8, code & 0xff, 0x62, 0x79, 0x65]));
    },
  );

  it('an empty close is reported as 1005 and answered with an empty close', () => {
    const conn = server();
    expect(feed(conn, [rawFrame({ opcode: 8 })])).toEqual([{ type: 'close', code: 1005, reason: '' }]);
    expect(outgoingBytes(conn)).toEqual(new Uint8Array([0x88, 0]));
  });

  it('a close reason that is not UTF-8 → 1007', () => {
    const frame = rawFrame({
      opcode: 8,
      payload: new Uint8Array([
        0x03, 0xe8, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80,
      ]),
    });
    expect(serverError([frame]).code).toBe(1007);
  });
});

describe('invalid UTF-8 fails with 1007, fast', () => {
  it('in a single-frame text message', () => {
    expect(serverError([rawFrame({ opcode: 1, payload: new Uint8Array([0x61, 0xff, 0x62]) })]).code).toBe(1007);
  });

  it('in the fragment that contains the first bad byte, before the message ends', () => {
    const conn = server();
    expect(feed(conn, [rawFrame({ opcode: 1, fin: false, payload: utf8('κόσμε') })])).toEqual([]);
    // The second fragment holds an encoded surrogate (ED A0 80); the final fragment is never sent.
    const r = serverError(
      [rawFrame({ opcode: 0, fin: false, payload: new Uint8Array([0x61, 0xed, 0xa0, 0x80]) })],
      conn,
    );
    expect(r.code).toBe(1007);
  });

  it('inside one large frame, in the chunk that contains the bad byte', () => {
    const payload = new Uint8Array(10_000).fill(0x61);
    payload[3000] = 0xc0; // never valid
    const frame = rawFrame({ opcode: 1, payload });
    const conn = server();
    expect(feed(conn, [frame.subarray(0, 2000)])).toEqual([]);
    expect(serverError([frame.subarray(2000, 4000)], conn).code).toBe(1007);
  });

  it('a code point split across fragments is fine', () => {
    const euro = utf8('€'); // e2 82 ac
    const conn = server();
    const events = feed(conn, [
      rawFrame({ opcode: 1, fin: false, payload: euro.subarray(0, 1) }),
      rawFrame({ opcode: 0, fin: false, payload: euro.subarray(1, 2) }),
      rawFrame({ opcode: 0, payload: euro.subarray(2) }),
    ]);
    expect(events).toEqual([{ type: 'text', data: '€' }]);
  });

  it('a sequence truncated at the end of the message', () => {
    const r = serverError([
      rawFrame({ opcode: 1, fin: false, payload: utf8('ab') }),
      rawFrame({ opcode: 0, payload: new Uint8Array([0xe2, 0x82]) }),
    ]);
    expect(r.code).toBe(1007);
  });

  // That the reason does not depend on how the frame is split is a property, with this frame among its
  // examples, in arbitrary-input.property.test.ts.
  it('names a sequence truncated at the end of a single-frame message as such', () => {
    const frame = new Uint8Array([129, 129, 9, 8, 7, 6, 203]);
    expect(serverError([frame]).reason).toBe('a truncated UTF-8 sequence at the end of a text message');
  });

  it('in parts mode too, at the part that contains it', () => {
    const conn = server({ messageMode: 'parts' });
    expect(feed(conn, [rawFrame({ opcode: 1, fin: false, payload: utf8('ok') })])).toEqual([
      { type: 'text-part', data: 'ok', last: false },
    ]);
    expect(serverError([rawFrame({ opcode: 0, fin: false, payload: new Uint8Array([0xf8]) })], conn).code).toBe(1007);
  });

  it.each([
    ['overlong 2-byte', [0xc1, 0xbf]],
    ['overlong 3-byte', [0xe0, 0x80, 0x80]],
    ['surrogate', [0xed, 0xb0, 0x80]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['lone continuation', [0x80]],
    ['F5 lead byte', [0xf5, 0x80, 0x80, 0x80]],
  ])('%s, fragmented', (_name, bad) => {
    const r = serverError([
      rawFrame({ opcode: 1, fin: false, payload: utf8('x') }),
      rawFrame({ opcode: 0, fin: false, payload: new Uint8Array(bad) }),
    ]);
    expect(r.code).toBe(1007);
  });
});

describe('limits fail with 1009, decided from the header', () => {
  it('a frame over maxFramePayload fails before any payload byte arrives', () => {
    const conn = server({ maxMessageSize: 1000 });
    const header = rawFrame({ opcode: 2, payload: new Uint8Array(1001) }).subarray(0, 8);
    const r = serverError([header], conn);
    expect(r.code).toBe(1009);
    expect(r.reason).toContain('1001');
  });

  it('a fragmented message whose next fragment would pass maxMessageSize', () => {
    const conn = server({ maxMessageSize: 1000 });
    expect(feed(conn, [rawFrame({ opcode: 2, fin: false, payload: new Uint8Array(600) })])).toEqual([]);
    const header = rawFrame({ opcode: 0, payload: new Uint8Array(401) }).subarray(0, 8);
    expect(serverError([header], conn).code).toBe(1009);
  });

  it('a 64-bit length of 2^53 and more is over any limit', () => {
    expect(serverError([hex('82 ff 00 20 00 00 00 00 00 00 01 02 03 04')]).code).toBe(1009);
  });

  it('accepts a 4 MiB message sent as 65 536 fragments of 64 bytes by default', () => {
    const { client: sender, server: conn } = openPair({ client: { fragmentSize: 64 } });
    const payload = Uint8Array.from({ length: 4 * 1024 * 1024 }, (_, i) => i & 0xff);
    sender.send({ type: 'binary', data: payload });
    const chunks = sender.takeOutgoing();
    const out: Uint8Array[] = [];
    for (const chunk of chunks) {
      conn.receive(chunk);
      for (let ev = conn.nextEvent(); ev; ev = conn.nextEvent()) if (ev.type === 'binary') out.push(ev.data);
    }
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBe(payload.length);
    expect(out[0]!.subarray(0, 300)).toEqual(payload.subarray(0, 300));
    expect(out[0]!.subarray(-300)).toEqual(payload.subarray(-300));
  });

  it('a flood of empty fragments does not grow memory', () => {
    const empty = rawFrame({ opcode: 0, fin: false });
    const conn = server();
    feed(conn, [rawFrame({ opcode: 2, fin: false, payload: new Uint8Array(1) })]);
    const chunk = concat(Array.from({ length: 10_000 }, () => empty));
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100; i++) {
      conn.receive(chunk.slice());
      expect(conn.nextEvent()).toBeUndefined();
    }
    globalThis.gc?.();
    const grown = process.memoryUsage().heapUsed - before;
    // One million fragments: retaining even 16 bytes each would be 16 MB.
    expect(grown).toBeLessThan(8 * 1024 * 1024);
    expect(feed(conn, [rawFrame({ opcode: 0, payload: new Uint8Array([2]) })])).toEqual([
      { type: 'binary', data: [0, 2] },
    ]);
  });
});
