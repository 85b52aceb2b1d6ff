/**
 * `rfc6455 serve`: the echo server, on this project's node-server. Text
 * comes back as text, binary as binary; Ctrl-C closes every connection with
 * 1001 (going away) before exiting. With --http2 it serves WebSocket over
 * HTTP/2 too (RFC 8441), on a `node:http2` server that enables extended CONNECT.
 *
 * It serves no page, so a request that carries an Origin (one a browser
 * page made) is refused with 403 unless that origin is allowed: otherwise
 * any site the user visits could use a server on their machine.
 */
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type Transport, WebSocketServer } from '@rfc6455/node-server';
import { UsageError } from '@rfc6455/codec';
import { CliUsageError, defineCommand, Exit, parsePort } from '../command.js';
import { parseOrigin } from '../origin-policy.js';
import { styleFor } from '../style.js';
import { escapeControls } from '../terminal-text.js';
import { onShutdownSignal } from '../signals.js';

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'run an echo server (node-server)',
  help: `Usage: rfc6455 serve [options]

An echo server: every text message comes back as text, every binary message
as binary. Ctrl-C (SIGINT) or SIGTERM closes every connection with 1001.

Browsers send the page's Origin with every WebSocket handshake; this server
serves no page, so it refuses (403) every request with an Origin that
--allow-origin does not name. Clients that send no Origin (wscat,
rfc6455 connect, most libraries) are not web pages and are let in.

Options:
  --port <n>       port to listen on (default 9001; 0 picks a free one)
  --host <addr>    address to bind (default 127.0.0.1)
  --tls            serve wss:// (needs --key and --cert)
  --key <file>     TLS private key (PEM)
  --cert <file>    TLS certificate (PEM)
  --http2          also serve WebSocket over HTTP/2 (RFC 8441): with --tls,
                   h2 by ALPN beside HTTP/1.1 on the same port; without it,
                   h2c (HTTP/2 by prior knowledge) only
  --allow-origin <o>  let web pages from origin <o> connect (repeatable)
  --allow-any-origin  let a page from ANY site connect
  --deflate        accept permessage-deflate when offered (the default)
  --no-deflate     decline permessage-deflate
  --quiet          do not log connections
  -h, --help       show this help

Examples:
  rfc6455 serve --port 9001 & rfc6455 connect ws://127.0.0.1:9001
  rfc6455 serve --tls --key key.pem --cert cert.pem --http2 &
  rfc6455 connect --http2 --ca cert.pem wss://127.0.0.1:9001`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    tls: { type: 'boolean' },
    key: { type: 'string' },
    cert: { type: 'string' },
    deflate: { type: 'boolean' },
    'no-deflate': { type: 'boolean' },
    http2: { type: 'boolean' },
    'allow-origin': { type: 'string', multiple: true },
    'allow-any-origin': { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
    const port = parsePort(values.port, 9001);
    const host = values.host ?? '127.0.0.1';
    if (values.deflate === true && values['no-deflate'] === true)
      throw new CliUsageError('--deflate and --no-deflate contradict each other');
    const wantsTls = values.tls === true || values.key !== undefined || values.cert !== undefined;
    if (wantsTls && (values.key === undefined || values.cert === undefined))
      throw new CliUsageError('--tls needs both --key and --cert');
    const tls = wantsTls
      ? { key: readPem(values.key as string, '--key'), cert: readPem(values.cert as string, '--cert') }
      : {};
    const allowedOrigins = (values['allow-origin'] ?? []).map((text) => {
      try {
        return parseOrigin(text);
      } catch (error) {
        throw error instanceof UsageError ? new CliUsageError(`--allow-origin: ${error.message}`) : error;
      }
    });
    if (values['allow-any-origin'] === true && allowedOrigins.length > 0)
      throw new CliUsageError('--allow-any-origin and --allow-origin contradict each other');
    // node-server refuses an Origin not in the list; no list means no check.
    const origins = values['allow-any-origin'] === true ? {} : { allowedOrigins };
    const style = styleFor(process.stdout);
    const log = values.quiet === true ? () => {} : (line: string) => process.stdout.write(`${line}\n`);

    const perMessageDeflate = values['no-deflate'] !== true;
    const h2 = values.http2 === true ? http2Server(tls) : undefined;
    const wss =
      h2 === undefined
        ? new WebSocketServer({ port, host, ...tls, perMessageDeflate, ...origins })
        : new WebSocketServer({ server: h2, perMessageDeflate, ...origins });
    const over = h2 === undefined ? '' : wantsTls ? ' (HTTP/1.1 and HTTP/2)' : ' (HTTP/2 by prior knowledge, h2c)';
    const listening = new Promise<number>((resolve) => {
      const listened = (address: AddressInfo | null): void => {
        const shown =
          address === null ? host : address.address.includes(':') ? `[${address.address}]` : address.address;
        process.stdout.write(
          `echo server listening on ${wantsTls ? 'wss' : 'ws'}://${shown}:${address?.port ?? port}${over}\n`,
        );
        resolve(Exit.Ok);
      };
      const failed = (error: NodeJS.ErrnoException): void => {
        process.stderr.write(`${style.red('error:')} ${listenError(error, host, port)}\n`);
        resolve(Exit.Failure);
      };
      if (h2 === undefined) {
        wss.on('listening', () => listened(wss.address()));
        wss.on('error', failed);
      } else {
        h2.once('error', failed);
        h2.listen(port, host, () => listened(h2.address() as AddressInfo));
      }
    });
    // The close reason and the request target are the client's words: escaped on a terminal.
    const peer = process.stdout.isTTY === true ? escapeControls : (text: string) => text;
    let next = 1;
    wss.on('connection', (ws, info) => {
      const id = next++;
      const extras = [ws.protocol ? `protocol ${ws.protocol}` : '', ws.extensions ? ws.extensions : '']
        .filter(Boolean)
        .join(', ');
      log(
        style.dim(
          `#${id} open from ${info.remoteAddress} ${peer(info.target)}${describeTransport(info.transport)}${extras ? ` (${peer(extras)})` : ''}`,
        ),
      );
      ws.on('message', (data: string | Buffer) => ws.send(data));
      ws.on('close', (code: number, reason: string) =>
        log(style.dim(`#${id} closed ${code}${reason ? ` ${peer(JSON.stringify(reason))}` : ''}`)),
      );
    });
    if ((await listening) !== Exit.Ok) return Exit.Failure;
    await onShutdownSignal();
    log(style.dim('closing every connection with 1001…'));
    await wss.close({ code: 1001, reason: 'server shutting down', timeout: 2000 });
    if (h2 !== undefined) await closeHttp2(h2);
    return Exit.Ok;
  },
});

/** An HTTP/2 server that enables extended CONNECT; with TLS, HTTP/1.1 upgrades are served on the same port. */
function http2Server(tls: { key?: Buffer; cert?: Buffer }): http2.Http2Server | http2.Http2SecureServer {
  const settings = { enableConnectProtocol: true };
  const server =
    tls.key === undefined
      ? http2.createServer({ settings })
      : http2.createSecureServer({ ...tls, allowHTTP1: true, settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    // A client's broken connection is its own end, not the server's.
    session.on('error', () => session.destroy());
  });
  openSessions.set(server, sessions);
  return server;
}

const openSessions = new WeakMap<http2.Http2Server | http2.Http2SecureServer, Set<http2.ServerHttp2Session>>();

/** Stops listening; sessions a client keeps open would hold close() back, so each gets GOAWAY. */
function closeHttp2(server: http2.Http2Server | http2.Http2SecureServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const session of openSessions.get(server) ?? []) session.close();
  return closed;
}

function describeTransport(transport: Transport): string {
  return transport.type === 'http2' ? ` over HTTP/2 stream ${transport.streamId}` : '';
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CliUsageError(`${flag}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** A listen failure in words a person can act on. */
export function listenError(error: NodeJS.ErrnoException, host: string, port: number): string {
  if (error.code === 'EADDRINUSE') return `port ${port} on ${host} is already in use; pick another with --port`;
  if (error.code === 'EACCES')
    return `no permission to listen on port ${port} (ports below 1024 need privileges); pick another with --port`;
  if (error.code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  return error.message;
}
