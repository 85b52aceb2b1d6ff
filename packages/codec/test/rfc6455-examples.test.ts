import { describe, expect, it } from 'vitest';
import { fromString } from 'uint8arrays/from-string';
import { client, feed, fixedKey, hex, outgoingBytes, server } from './helpers.js';

const hello = Array.from(fromString('Hello'));

describe('RFC 6455 §5.7 examples, byte for byte', () => {
  it('decodes a single-frame unmasked text message (client receives)', () => {
    expect(feed(client(), [hex('81 05 48 65 6c 6c 6f')])).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('decodes a single-frame masked text message (server receives)', () => {
    expect(feed(server(), [hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')])).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('decodes a fragmented unmasked text message', () => {
    expect(feed(client(), [hex('01 03 48 65 6c'), hex('80 02 6c 6f')])).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('decodes an unmasked ping and queues the identical pong (masked, from the client)', () => {
    const c = client({ random: fixedKey([0x37, 0xfa, 0x21, 0x3d]) });
    expect(feed(c, [hex('89 05 48 65 6c 6c 6f')])).toEqual([{ type: 'ping', data: hello }]);
    // The masked pong of the RFC example is exactly what the client answers with this key.
    expect(outgoingBytes(c)).toEqual(hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'));
  });

  it('decodes a masked pong', () => {
    expect(feed(server(), [hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58')])).toEqual([{ type: 'pong', data: hello }]);
  });

  it('encodes the same bytes: unmasked text, masked text, fragments, ping', () => {
    const s = server();
    s.send({ type: 'text', data: 'Hello' });
    expect(outgoingBytes(s)).toEqual(hex('81 05 48 65 6c 6c 6f'));

    const c = client({ random: fixedKey([0x37, 0xfa, 0x21, 0x3d]) });
    c.send({ type: 'text', data: 'Hello' });
    expect(outgoingBytes(c)).toEqual(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));

    s.send({ type: 'text', data: 'Hel', fin: false });
    s.send({ type: 'text', data: 'lo' });
    expect(outgoingBytes(s)).toEqual(hex('01 03 48 65 6c 80 02 6c 6f'));

    s.send({ type: 'ping', data: 'Hello' });
    expect(outgoingBytes(s)).toEqual(hex('89 05 48 65 6c 6c 6f'));
  });

  it('256 bytes of binary use the 16-bit length: 82 7e 01 00', () => {
    const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
    const s = server();
    s.send({ type: 'binary', data: payload });
    const bytes = outgoingBytes(s);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x82, 0x7e, 0x01, 0x00]);
    expect(bytes.subarray(4)).toEqual(payload);
    expect(feed(client(), [bytes])).toEqual([{ type: 'binary', data: Array.from(payload) }]);
  });

  it('64 KiB of binary use the 64-bit length: 82 7f 00 00 00 00 00 01 00 00', () => {
    const payload = Uint8Array.from({ length: 65536 }, (_, i) => (i * 7) & 0xff);
    const s = server();
    s.send({ type: 'binary', data: payload });
    const bytes = outgoingBytes(s);
    expect(Array.from(bytes.subarray(0, 10))).toEqual([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(bytes.length).toBe(65546);
    const events = feed(client(), [bytes]);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({ type: 'binary', data: Array.from(payload) });
  });
});

describe('frames from a widely published Wireshark capture', () => {
  it('server → client "Welcome, 192.168.43.1 !", unmasked, 23 bytes', () => {
    const text = 'Welcome, 192.168.43.1 !';
    const frame = hex('81 17 57 65 6c 63 6f 6d 65 2c 20 31 39 32 2e 31 36 38 2e 34 33 2e 31 20 21');
    expect(frame.length - 2).toBe(23);
    expect(feed(client(), [frame])).toEqual([{ type: 'text', data: text }]);
    const s = server();
    s.send({ type: 'text', data: text });
    expect(outgoingBytes(s)).toEqual(frame);
  });

  it('client → server "test message", masked with key e17e8eb9, 12 bytes', () => {
    // Payload bytes XOR e1 7e 8e b9 repeated.
    const frame = hex('81 8c e1 7e 8e b9 95 1b fd cd c1 13 eb ca 92 1f e9 dc');
    expect(feed(server(), [frame])).toEqual([{ type: 'text', data: 'test message' }]);
    const c = client({ random: fixedKey([0xe1, 0x7e, 0x8e, 0xb9]) });
    c.send({ type: 'text', data: 'test message' });
    expect(outgoingBytes(c)).toEqual(frame);
  });
});
