/**
 * A plain opening handshake, without the codec, on a connection from dial.ts:
 * enough to get a connection for cases that drive the socket themselves
 * (floods, which stop reading). No extension or subprotocol is offered. Over
 * HTTP/2 the connection is an extended CONNECT stream (h2.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { dial } from './dial.js';
import { openExtendedConnect } from './h2.js';
import type { Target } from './session.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export type RawOpen =
  | { readonly type: 'open'; readonly socket: Duplex; readonly early: Uint8Array }
  | { readonly type: 'failed'; readonly reason: string };

/** Resolves with the open socket (reading paused, no listeners left) or why the handshake failed. */
export async function openRaw(target: Target, timeout: number): Promise<RawOpen> {
  if (target.http2) {
    const opened = await openExtendedConnect(target, undefined, timeout);
    if (opened.type === 'failed') return opened;
    // The session goes with the stream: destroying the one the caller holds ends both.
    opened.stream.once('close', () => opened.session.destroy());
    return { type: 'open', socket: opened.stream, early: new Uint8Array(0) };
  }
  const key = randomBytes(16).toString('base64');
  const host = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const dialed = await dial(target, timeout, 'http/1.1');
  if (dialed.type === 'failed') return dialed;
  const socket = dialed.socket;
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    let settled = false;
    const done = (r: RawOpen) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (r.type === 'failed') socket.destroy();
      else {
        socket.pause();
        // Until the caller listens: a reset then is an outcome for it to see, not an uncaught error.
        socket.on('error', () => {});
      }
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ type: 'failed', reason: `no handshake response within ${timeout} ms` }),
      timeout,
    );
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 64 * 1024) done({ type: 'failed', reason: 'a response head over 64 KiB' });
        return;
      }
      const [status = '', ...lines] = head.subarray(0, end).toString('latin1').split('\r\n');
      if (!/^HTTP\/1\.1 101\b/.test(status))
        return done({ type: 'failed', reason: `status line ${JSON.stringify(status)} instead of 101` });
      const accept = lines
        .find((l) => /^sec-websocket-accept:/i.test(l))
        ?.slice('sec-websocket-accept:'.length)
        .trim();
      const expected = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      if (accept !== expected)
        return done({ type: 'failed', reason: `Sec-WebSocket-Accept ${accept ?? '(none)'}, expected ${expected}` });
      done({ type: 'open', socket, early: new Uint8Array(head.subarray(end + 4)) });
    };
    const onError = (e: Error) => done({ type: 'failed', reason: e.message });
    const onClose = () => done({ type: 'failed', reason: 'the connection closed during the handshake' });
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(
      `GET ${target.path || '/'} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}
