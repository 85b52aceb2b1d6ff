import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import { ClientEndpoint, type Endpoint, ServerEndpoint, UsageError } from '../src/index.js';
import { client, feed, openPair, outgoingBytes, server } from './helpers.js';

/** Moves everything one side queued to the other; returns the receiver's events. */
function pipe(from: Endpoint, to: Endpoint) {
  return feed(to, [concat(from.takeOutgoing())]);
}

describe('the closing handshake (RFC 6455 §7)', () => {
  it('client-initiated: data still flows while closing, the server closes the transport first', () => {
    const { client: c, server: s } = openPair();
    c.send({ type: 'close', code: 1000, reason: 'done' });
    expect(c.state).toBe('closing');
    s.send({ type: 'text', data: 'in flight' });
    expect(pipe(c, s)).toEqual([{ type: 'close', code: 1000, reason: 'done' }]);
    expect(s.state).toBe('closed');
    expect(s.shouldCloseTransport).toBe(true);
    // The server's reply (echoing code and reason) comes after the message it had already queued.
    expect(pipe(s, c)).toEqual([
      { type: 'text', data: 'in flight' },
      { type: 'close', code: 1000, reason: 'done' },
    ]);
    expect(c.state).toBe('closed');
    expect(c.shouldCloseTransport).toBe(false); // the client waits for the server's TCP close
    c.receiveEof();
    expect(c.nextEvent()).toEqual({ type: 'closed', code: 1000, reason: 'done', wasClean: true });
    expect(c.shouldCloseTransport).toBe(true);
  });

  it('server-initiated: the client echoes the code and reports a clean close', () => {
    const { client: c, server: s } = openPair();
    s.send({ type: 'close', code: 4001, reason: 'kicked' });
    expect(pipe(s, c)).toEqual([{ type: 'close', code: 4001, reason: 'kicked' }]);
    expect(pipe(c, s)).toEqual([{ type: 'close', code: 4001, reason: 'kicked' }]);
    expect(s.shouldCloseTransport).toBe(true);
    s.receiveEof();
    expect(s.nextEvent()).toEqual({ type: 'closed', code: 4001, reason: 'kicked', wasClean: true });
  });

  it('a transport that ends without a close frame is abnormal (1006)', () => {
    const s = server();
    expect(feed(s, [], true)).toEqual([{ type: 'closed', code: 1006, reason: '', wasClean: false }]);
  });

  it('a transport that ends in the middle of a frame is abnormal, and the partial frame is never delivered', () => {
    const { client: c, server: s } = openPair();
    c.send({ type: 'text', data: 'hello world' });
    const bytes = concat(c.takeOutgoing());
    expect(feed(s, [bytes.subarray(0, 9)], true)).toEqual([
      { type: 'closed', code: 1006, reason: '', wasClean: false },
    ]);
  });

  it('pings after this side sent close are reported but not answered', () => {
    const { client: c, server: s } = openPair();
    s.send({ type: 'close', code: 1001 });
    s.takeOutgoing();
    c.send({ type: 'ping', data: 'late' });
    expect(pipe(c, s)).toEqual([{ type: 'ping', data: Array.from(new TextEncoder().encode('late')) }]);
    expect(s.takeOutgoing()).toEqual([]);
  });

  it('a reply to a close arriving when both sides closed at once does not send a second close', () => {
    const { client: c, server: s } = openPair();
    c.send({ type: 'close', code: 1000 });
    s.send({ type: 'close', code: 1001 });
    const fromClient = concat(c.takeOutgoing());
    const fromServer = concat(s.takeOutgoing());
    expect(feed(s, [fromClient])).toEqual([{ type: 'close', code: 1000, reason: '' }]);
    expect(s.takeOutgoing()).toEqual([]);
    expect(feed(c, [fromServer])).toEqual([{ type: 'close', code: 1001, reason: '' }]);
    expect(c.takeOutgoing()).toEqual([]);
    expect(s.state).toBe('closed');
    expect(c.state).toBe('closed');
  });
});

describe('misuse throws a typed UsageError', () => {
  const expectUsage = (fn: () => void, code: string) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe(code);
      return;
    }
    throw new Error(`expected a UsageError ${code}`);
  };

  it('sending after this side sent close', () => {
    const s = server();
    s.send({ type: 'close' });
    expectUsage(() => s.send({ type: 'text', data: 'x' }), 'ERR_SEND_AFTER_CLOSE');
    expectUsage(() => s.send({ type: 'ping' }), 'ERR_SEND_AFTER_CLOSE');
    expectUsage(() => s.send({ type: 'close' }), 'ERR_SEND_AFTER_CLOSE');
  });

  it('sending after the peer closed', () => {
    const { client: c, server: s } = openPair();
    c.send({ type: 'close', code: 1000 });
    pipe(c, s);
    expectUsage(() => s.send({ type: 'binary', data: new Uint8Array(1) }), 'ERR_SEND_AFTER_CLOSE');
  });

  it('a close reason over 123 bytes (counted in UTF-8)', () => {
    expectUsage(
      () => server().send({ type: 'close', code: 1000, reason: 'é'.repeat(62) }),
      'ERR_CLOSE_REASON_TOO_LONG',
    );
    const s = server();
    s.send({ type: 'close', code: 1000, reason: `${'é'.repeat(61)}a` });
    expect(outgoingBytes(s).length).toBe(2 + 2 + 123);
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 2000, 5000, 1000.5])('close code %s', (code) => {
    expectUsage(() => server().send({ type: 'close', code }), 'ERR_INVALID_CLOSE_CODE');
  });

  it('a reason without a code', () => {
    expectUsage(() => server().send({ type: 'close', reason: 'why' }), 'ERR_INVALID_CLOSE_CODE');
  });

  it('a ping or pong payload over 125 bytes', () => {
    expectUsage(() => server().send({ type: 'ping', data: new Uint8Array(126) }), 'ERR_CONTROL_PAYLOAD_TOO_LONG');
    expectUsage(() => client().send({ type: 'pong', data: 'x'.repeat(126) }), 'ERR_CONTROL_PAYLOAD_TOO_LONG');
  });

  it('starting a message of another type inside a streamed message', () => {
    const s = server();
    s.send({ type: 'text', data: 'a', fin: false });
    expectUsage(() => s.send({ type: 'binary', data: new Uint8Array(1) }), 'ERR_MESSAGE_INTERLEAVED');
  });

  it('invalid limits', () => {
    expectUsage(() => new ServerEndpoint({ maxMessageSize: 0 }), 'ERR_INVALID_ARGUMENT');
    expectUsage(() => new ServerEndpoint({ fragmentSize: -1 }), 'ERR_INVALID_ARGUMENT');
    expectUsage(() => new ClientEndpoint('ws://localhost/', { maxFramePayload: 0.5 }), 'ERR_INVALID_ARGUMENT');
  });
});

describe('pings', () => {
  it('are answered with identical data unless autoPong is off', () => {
    const { client: c, server: s } = openPair();
    c.send({ type: 'ping', data: new Uint8Array([1, 2, 3]) });
    const wire = concat(c.takeOutgoing());
    feed(s, [wire]);
    expect(pipe(s, c)).toEqual([{ type: 'pong', data: [1, 2, 3] }]);
    const quiet = server({ autoPong: false });
    expect(feed(quiet, [wire])).toEqual([{ type: 'ping', data: [1, 2, 3] }]);
    expect(quiet.takeOutgoing()).toEqual([]);
  });

  it('unsolicited pongs are accepted', () => {
    const { client: c, server: s } = openPair();
    c.send({ type: 'pong', data: 'hb' });
    expect(pipe(c, s)).toEqual([{ type: 'pong', data: [0x68, 0x62] }]);
  });
});
