/**
 * `rfc6455 serve`: the echo server, on this project's node-server. Text
 * comes back as text, binary as binary; Ctrl-C closes every connection with
 * 1001 (going away) before exiting.
 */
import { readFileSync } from 'node:fs';
import { WebSocketServer } from '@rfc6455/node-server';
import { CliUsageError, defineCommand, Exit, parsePort } from '../command.js';
import { styleFor } from '../style.js';
import { escapeControls } from '../terminal-text.js';
import { onShutdownSignal } from '../signals.js';

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'run an echo server (node-server)',
  help: `Usage: rfc6455 serve [options]

An echo server: every text message comes back as text, every binary message
as binary. Ctrl-C (SIGINT) or SIGTERM closes every connection with 1001.

Options:
  --port <n>       port to listen on (default 9001; 0 picks a free one)
  --host <addr>    address to bind (default 127.0.0.1)
  --tls            serve wss:// (needs --key and --cert)
  --key <file>     TLS private key (PEM)
  --cert <file>    TLS certificate (PEM)
  --deflate        accept permessage-deflate when offered (the default)
  --no-deflate     decline permessage-deflate
  --quiet          do not log connections
  -h, --help       show this help

Example:
  rfc6455 serve --port 9001 & rfc6455 connect ws://127.0.0.1:9001`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    tls: { type: 'boolean' },
    key: { type: 'string' },
    cert: { type: 'string' },
    deflate: { type: 'boolean' },
    'no-deflate': { type: 'boolean' },
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
    const style = styleFor(process.stdout);
    const log = values.quiet === true ? () => {} : (line: string) => process.stdout.write(`${line}\n`);

    const wss = new WebSocketServer({ port, host, ...tls, perMessageDeflate: values['no-deflate'] !== true });
    const listening = new Promise<number>((resolve) => {
      wss.on('listening', () => {
        const address = wss.address();
        const shown =
          address === null ? host : address.address.includes(':') ? `[${address.address}]` : address.address;
        process.stdout.write(
          `echo server listening on ${wantsTls ? 'wss' : 'ws'}://${shown}:${address?.port ?? port}\n`,
        );
        resolve(Exit.Ok);
      });
      wss.on('error', (error: NodeJS.ErrnoException) => {
        process.stderr.write(`${style.red('error:')} ${listenError(error, host, port)}\n`);
        resolve(Exit.Failure);
      });
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
        style.dim(`#${id} open from ${info.remoteAddress} ${peer(info.target)}${extras ? ` (${peer(extras)})` : ''}`),
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
    return Exit.Ok;
  },
});

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
