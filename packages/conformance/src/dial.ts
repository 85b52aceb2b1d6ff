/**
 * Every connection the server suite opens starts here, so the transport is
 * chosen in one place: the frame cases (session.ts), the floods
 * (raw-client.ts), the handshake family (handshake-cases.ts) and the HTTP/2
 * sessions (h2.ts) all speak over whatever this returns.
 *
 * A `ws://` target is TCP. A `wss://` target is TLS: SNI is the URL's host
 * name (none for an IP literal, RFC 6066 §3), ALPN offers the one protocol
 * the caller will speak, and the certificate is verified against Node's
 * bundled CAs plus the target's `ca` unless the target is `insecure`. The
 * frames that follow are the same bytes either way.
 */
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { createSecureContext, rootCertificates, type SecureContext, connect as tlsConnect } from 'node:tls';
import type { Target } from './session.js';

export type Dialed =
  | { readonly type: 'open'; readonly socket: Socket }
  | { readonly type: 'failed'; readonly reason: string };

/** What the caller will speak on the connection: offered by ALPN over TLS, and required there for `h2`. */
export type Application = 'http/1.1' | 'h2';

/**
 * Resolves once the connection is up — over TLS, once the handshake is done
 * and the certificate verified — with reading not started and no listeners
 * left, or with why it could not be made. Never rejects.
 */
export function dial(target: Target, timeout: number, application: Application): Promise<Dialed> {
  const secure = target.secure
    ? tlsConnect({
        host: target.host,
        port: target.port,
        ...(isIP(target.host) === 0 && { servername: target.host }),
        ALPNProtocols: [application],
        secureContext: secureContextOf(target),
        rejectUnauthorized: target.insecure !== true,
      })
    : undefined;
  const socket: Socket = secure ?? tcpConnect({ host: target.host, port: target.port, noDelay: true });
  const ready = target.secure ? 'secureConnect' : 'connect';
  const needs =
    application === 'h2'
      ? ', which HTTP/2 over TLS needs (RFC 9113 §3.2)'
      : ': the server may speak HTTP/2 only (try --http2)';
  let tcpUp = false;
  const onTcp = () => {
    tcpUp = true;
    // Set once connected: tls.connect takes no noDelay of its own.
    socket.setNoDelay(true);
  };
  return new Promise((resolve) => {
    const done = (result: Dialed): void => {
      clearTimeout(timer);
      socket.off('connect', onTcp);
      socket.off(ready, onReady);
      socket.off('error', onError);
      if (result.type === 'failed') socket.destroy();
      resolve(result);
    };
    const onReady = () => {
      const chosen = secure?.alpnProtocol;
      if (secure === undefined || application !== 'h2' || chosen === 'h2') return done({ type: 'open', socket });
      done({
        type: 'failed',
        reason: `TLS: the server selected ${typeof chosen === 'string' && chosen !== '' ? `ALPN protocol ${JSON.stringify(chosen)}` : 'no ALPN protocol'} instead of h2${needs}`,
      });
    };
    const onError = (e: Error & { code?: string; reason?: string }) => {
      // Set by Node just before it destroys a socket whose certificate failed verification.
      const unverified = secure?.authorizationError;
      done({
        type: 'failed',
        reason: !tcpUp
          ? `TCP: ${e.message}`
          : unverified
            ? `TLS: the server's certificate did not verify: ${e.message} (${e.code ?? String(unverified)}); trust its CA with --ca FILE, or skip verification with --insecure`
            : e.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL'
              ? `TLS: the server refused ALPN ${application} (a no_application_protocol alert)${needs}`
              : // OpenSSL's reason alone: its full message is a source file and line.
                `TLS: ${e.reason ?? e.message}`,
      });
    };
    const timer = setTimeout(
      () =>
        done({
          type: 'failed',
          reason: `no ${tcpUp && target.secure ? 'TLS handshake' : 'TCP connection'} within ${timeout} ms`,
        }),
      timeout,
    );
    socket.once('connect', onTcp);
    socket.once(ready, onReady);
    socket.once('error', onError);
  });
}

/**
 * One context per target: Node's bundled CAs with the target's added (a
 * `ca` given to TLS alone would replace them), built once rather than per
 * connection.
 */
const contexts = new WeakMap<Target, SecureContext>();
function secureContextOf(target: Target): SecureContext {
  let context = contexts.get(target);
  if (context === undefined) {
    context = createSecureContext(target.ca === undefined ? {} : { ca: [...rootCertificates, target.ca] });
    contexts.set(target, context);
  }
  return context;
}
