/**
 * The suite's connections over HTTP/2 (RFC 8441): an h2c session by prior
 * knowledge for ws://, h2 over TLS for wss:// (the server must select h2 by
 * ALPN, dial.ts), the server's SETTINGS checked for SETTINGS_ENABLE_CONNECT_PROTOCOL,
 * and one extended CONNECT stream whose DATA then carries the case's frames
 * exactly as a TCP connection would. The request's fields and the response's
 * checks are the codec's client bootstrap; the frames stay the suite's own.
 */
import * as http2 from 'node:http2';
import { ClientEndpoint, type Extension, type PerMessageDeflateAgreement } from '@rfc6455/codec';
import { dial } from './dial.js';
import type { HandshakeOutcome, Target } from './session.js';

export type H2Open =
  | {
      readonly type: 'open';
      readonly stream: http2.ClientHttp2Stream;
      readonly session: http2.ClientHttp2Session;
      readonly handshake: Extract<HandshakeOutcome, { type: 'open' | 'declined' }>;
    }
  | { readonly type: 'failed'; readonly reason: string };

/**
 * Opens one WebSocket stream on a fresh HTTP/2 session. `extension` is offered
 * (declined when the server does not agree it). Never rejects: every way a
 * server can fail ends up as `failed` with the reason.
 */
export async function openExtendedConnect(
  target: Target,
  extension: Extension | undefined,
  timeout: number,
): Promise<H2Open> {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const authority = `${host}:${target.port}`;
  const endpoint = ClientEndpoint.forExtendedConnect(
    `${target.secure ? 'wss' : 'ws'}://${authority}${target.path || '/'}`,
    {
      extensions: extension === undefined ? [] : [extension],
    },
  );
  const dialed = await dial(target, timeout, 'h2');
  if (dialed.type === 'failed') return dialed;
  const session = http2.connect(`${target.secure ? 'https' : 'http'}://${authority}`, {
    createConnection: () => dialed.socket,
  });
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: H2Open): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (result.type === 'failed') session.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ type: 'failed', reason: `no HTTP/2 response within ${timeout} ms` }),
      timeout,
    );
    session.on('error', (e) => done({ type: 'failed', reason: `HTTP/2 session: ${e.message}` }));
    session.on('close', () => done({ type: 'failed', reason: 'the HTTP/2 session closed during the handshake' }));
    session.once('remoteSettings', (settings) => {
      if (settings.enableConnectProtocol !== true) {
        done({
          type: 'failed',
          reason: 'the server did not enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL)',
        });
        return;
      }
      const stream = session.request({ ...endpoint.requestHeaders }, { endStream: false });
      // Until the caller listens: a reset then is an outcome for it to see, not an uncaught error.
      stream.on('error', () => {});
      stream.on('close', () =>
        done({ type: 'failed', reason: `the stream closed before a response (RST_STREAM ${stream.rstCode ?? '?'})` }),
      );
      stream.once('response', (headers) => {
        endpoint.receiveResponseHeaders({ headers });
        const ev = endpoint.nextEvent();
        if (ev?.type === 'open') {
          stream.pause();
          const agreed = endpoint.extensions[0] as PerMessageDeflateAgreement | undefined;
          done({
            type: 'open',
            stream,
            session,
            handshake:
              extension === undefined
                ? { type: 'open', deflate: undefined }
                : agreed === undefined
                  ? { type: 'declined' }
                  : { type: 'open', deflate: agreed.params },
          });
        } else if (ev?.type === 'protocol-error') done({ type: 'failed', reason: ev.reason });
        else done({ type: 'failed', reason: `status ${String(headers[':status'])} instead of 2xx` });
      });
    });
  });
}
