/**
 * Every connection the server suite opens starts here, so the transport is
 * chosen in one place: the frame cases (session.ts), the floods
 * (raw-client.ts), the handshake family (handshake-cases.ts) and the HTTP/2
 * sessions (h2.ts) all speak over whatever this returns.
 */
import { connect, type Socket } from 'node:net';
import type { Target } from './session.js';

export type Dialed =
  | { readonly type: 'open'; readonly socket: Socket }
  | { readonly type: 'failed'; readonly reason: string };

/**
 * Resolves once the connection is up (reading not started, no listeners
 * left), or with why it could not be made. Never rejects.
 */
export function dial(target: Target, timeout: number): Promise<Dialed> {
  const socket = connect({ host: target.host, port: target.port, noDelay: true });
  return new Promise((resolve) => {
    const done = (result: Dialed): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      if (result.type === 'failed') socket.destroy();
      resolve(result);
    };
    const onConnect = () => done({ type: 'open', socket });
    const onError = (e: Error) => done({ type: 'failed', reason: `TCP: ${e.message}` });
    const timer = setTimeout(() => done({ type: 'failed', reason: `no TCP connection within ${timeout} ms` }), timeout);
    socket.once('connect', onConnect);
    socket.once('error', onError);
  });
}
