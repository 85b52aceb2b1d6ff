/**
 * Reasons quote what the peer sent, worded for the thing that was wrong:
 * a head is a request's or a response's, and a 64-bit length is printed
 * exactly, not as the nearest double.
 */
import { describe, expect, it } from 'vitest';
import { encodeFrameHeader, parseFrameHeader } from '../src/frames.js';
import { ClientEndpoint, ServerEndpoint } from '../src/index.js';

const enc = new TextEncoder();

describe('reasons', () => {
  it('call an oversized request head a request head, and an oversized response head a response head', () => {
    const server = new ServerEndpoint();
    server.receive(enc.encode(`GET / HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(server.nextEvent()).toMatchObject({ status: 431, reason: 'request head larger than 16384 bytes' });
    const client = new ClientEndpoint('ws://x/');
    client.receive(enc.encode(`HTTP/1.1 101 Switching Protocols\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(client.nextEvent()).toMatchObject({
      failure: 'response-too-large',
      reason: 'response head larger than 16384 bytes',
    });
  });

  it.each([
    [2 ** 62, '4611686018427387904'],
    [2 ** 63 - 1, '9223372036854775807'],
    [2 ** 53 + 1, '9007199254740993'],
  ])('print a 64-bit length of %d exactly', (_n, text) => {
    // The header written by hand: a double cannot carry these lengths to an encoder.
    const header = new Uint8Array(10);
    header[0] = 0x82;
    header[1] = 127;
    let v = BigInt(text);
    for (let i = 9; i >= 2; i--) {
      header[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    expect(parseFrameHeader(header, 0, { maxFramePayload: 1024 })).toMatchObject({
      code: 1009,
      reason: `frame payload of ${text} bytes exceeds the limit of 1024`,
    });
    const client = new ClientEndpoint('ws://x/');
    const server = new ServerEndpoint();
    for (const b of client.takeOutgoing()) server.receive(b);
    server.nextEvent();
    server.send({ type: 'accept' });
    for (const b of server.takeOutgoing()) client.receive(b);
    client.nextEvent();
    client.receive(header);
    expect(client.nextEvent()).toMatchObject({
      type: 'protocol-error',
      phase: 'frames',
      code: 1009,
      reason: `frame payload of ${text} bytes exceeds the limit of 16777216`,
    });
    expect(encodeFrameHeader({ opcode: 2 }, 5)).toEqual(Uint8Array.of(0x82, 5));
  });
});
