/**
 * The Engine.IO and Socket.IO decoders on the packet examples of the two
 * protocol specifications (Engine.IO v3 and v4 framing, Socket.IO v5
 * packets), and on malformed input, which must become an `invalid` item
 * with a reason, never an exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEngineBinary, decodeEngineText, decodePollingBody, engineUrl } from '../src/engine-io.js';
import { parseSocketIoPacket, SocketIoAssembler } from '../src/socket-io.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('Engine.IO', () => {
  it('reads the version, transport and session from a request target', () => {
    expect(engineUrl('/socket.io/?EIO=4&transport=polling&t=N8hyd6w')).toEqual({
      version: 4,
      versionText: '4',
      transport: 'polling',
      sid: null,
    });
    expect(engineUrl('/socket.io/?EIO=3&transport=websocket&sid=lv_VI97HAXpY6yYWAAAC')).toMatchObject({
      version: 3,
      transport: 'websocket',
      sid: 'lv_VI97HAXpY6yYWAAAC',
    });
    expect(engineUrl('/socket.io/?EIO=9')).toMatchObject({ version: null, versionText: '9' });
    expect(engineUrl('/chat?room=1')).toBeNull();
    expect(engineUrl('/chat')).toBeNull();
  });

  it('decodes each packet type', () => {
    const open = decodeEngineText(
      '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}',
    );
    expect(open).toMatchObject({
      type: 'open',
      open: {
        sid: 'lv_VI97HAXpY6yYWAAAC',
        upgrades: ['websocket'],
        pingInterval: 25000,
        pingTimeout: 5000,
        maxPayload: 1000000,
      },
    });
    expect(decodeEngineText('1')).toEqual({ type: 'close' });
    expect(decodeEngineText('2')).toEqual({ type: 'ping', probe: false, text: '' });
    expect(decodeEngineText('2probe')).toEqual({ type: 'ping', probe: true, text: 'probe' });
    expect(decodeEngineText('3probe')).toEqual({ type: 'pong', probe: true, text: 'probe' });
    expect(decodeEngineText('4hello')).toEqual({ type: 'message', data: 'hello' });
    expect(decodeEngineText('5')).toEqual({ type: 'upgrade' });
    expect(decodeEngineText('6')).toEqual({ type: 'noop' });
    expect(decodeEngineText('7')).toMatchObject({ type: 'invalid' });
    expect(decodeEngineText('')).toMatchObject({ type: 'invalid' });
    expect(decodeEngineText('0not json')).toMatchObject({ type: 'open', open: null });
  });

  it('splits v4 polling bodies on U+001E, binary as b + base64', () => {
    expect(decodePollingBody(utf8('4hello\x1e4€\x1ebAQIDBA=='), 4, 'text/plain; charset=UTF-8')).toEqual([
      { type: 'message', data: 'hello' },
      { type: 'message', data: '€' },
      { type: 'message', data: Uint8Array.from([1, 2, 3, 4]) },
    ]);
    expect(decodePollingBody(utf8('b!!!'), 4, null)).toMatchObject([{ type: 'invalid' }]);
  });

  it('reads v3 polling bodies: length-prefixed text (lengths in characters) and the binary framing', () => {
    expect(decodePollingBody(utf8('6:4hello2:4€10:b4AQIDBA=='), 3, 'text/plain')).toEqual([
      { type: 'message', data: 'hello' },
      { type: 'message', data: '€' },
      { type: 'message', data: Uint8Array.from([1, 2, 3, 4]) },
    ]);
    const binary = Uint8Array.from([0, 6, 0xff, ...utf8('4hello'), 1, 5, 0xff, 4, 1, 2, 3, 4]);
    expect(decodePollingBody(binary, 3, 'application/octet-stream')).toEqual([
      { type: 'message', data: 'hello' },
      { type: 'message', data: Uint8Array.from([1, 2, 3, 4]) },
    ]);
    expect(decodePollingBody(utf8('9:4hello'), 3, 'text/plain')).toMatchObject([{ type: 'invalid' }]);
  });

  it('takes v4 binary WebSocket messages as they are, v3 ones after their type byte', () => {
    expect(decodeEngineBinary(Uint8Array.from([1, 2]), 4)).toEqual({ type: 'message', data: Uint8Array.from([1, 2]) });
    expect(decodeEngineBinary(Uint8Array.from([4, 1, 2]), 3)).toEqual({
      type: 'message',
      data: Uint8Array.from([1, 2]),
    });
    expect(decodeEngineBinary(Uint8Array.from([2, 1]), 3)).toMatchObject({ type: 'invalid' });
  });

  it('never throws on any polling body', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(3 as const, 4 as const),
        fc.boolean(),
        (body, v, bin) => {
          const packets = decodePollingBody(body, v, bin ? 'application/octet-stream' : 'text/plain');
          expect(Array.isArray(packets)).toBe(true);
        },
      ),
    );
  });
});

describe('Socket.IO', () => {
  it('decodes the packet examples of the protocol', () => {
    const packet = (text: string) => {
      const parsed = parseSocketIoPacket(text);
      if (parsed.type !== 'packet') throw new Error(`${text}: ${parsed.reason}`);
      return parsed.packet;
    };
    expect(packet('0')).toEqual({ type: 'connect', namespace: '/', id: null, attachments: 0, data: undefined });
    expect(packet('0/admin,{"token":"123"}')).toMatchObject({
      type: 'connect',
      namespace: '/admin',
      data: { token: '123' },
    });
    expect(packet('1/admin,')).toMatchObject({ type: 'disconnect', namespace: '/admin' });
    expect(packet('2["hello",1]')).toMatchObject({ type: 'event', namespace: '/', id: null, data: ['hello', 1] });
    expect(packet('2/admin,456["project:delete",123]')).toMatchObject({
      type: 'event',
      namespace: '/admin',
      id: 456,
      data: ['project:delete', 123],
    });
    expect(packet('3/admin,456[]')).toMatchObject({ type: 'ack', namespace: '/admin', id: 456, data: [] });
    expect(packet('4{"message":"Not authorized"}')).toMatchObject({
      type: 'connect-error',
      data: { message: 'Not authorized' },
    });
    expect(packet('51-["hello",{"_placeholder":true,"num":0}]')).toMatchObject({
      type: 'binary-event',
      attachments: 1,
    });
    expect(packet('61-/admin,456[{"_placeholder":true,"num":0}]')).toMatchObject({
      type: 'binary-ack',
      namespace: '/admin',
      id: 456,
      attachments: 1,
    });
  });

  it('refuses what is not a packet, with a reason', () => {
    for (const text of ['', '9', '2notjson', '2{"not":"an array"}', '2[]', '5["x"]', '5x-["x"]'])
      expect(parseSocketIoPacket(text), text).toMatchObject({ type: 'invalid' });
  });

  it('joins a binary event with its attachments, in placeholder order', () => {
    const assembler = new SocketIoAssembler();
    expect(
      assembler.push('52-["files",{"_placeholder":true,"num":1},{"a":{"_placeholder":true,"num":0}}]'),
    ).toMatchObject({
      type: 'waiting',
      received: 0,
    });
    expect(assembler.push(Uint8Array.from([1]))).toMatchObject({ type: 'waiting', received: 1 });
    const done = assembler.push(Uint8Array.from([2, 2]));
    expect(done).toMatchObject({ type: 'packet' });
    expect(done.type === 'packet' && done.packet.data).toEqual([
      'files',
      Uint8Array.from([2, 2]),
      { a: Uint8Array.from([1]) },
    ]);
    // An attachment nothing announced, and a text packet cutting a binary one short, are said.
    expect(assembler.push(Uint8Array.from([3]))).toMatchObject({ type: 'invalid' });
    assembler.push('51-["x",{"_placeholder":true,"num":0}]');
    expect(assembler.push('2["y"]')).toMatchObject({ type: 'invalid' });
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        expect(['packet', 'invalid']).toContain(parseSocketIoPacket(text).type);
      }),
    );
  });
});
