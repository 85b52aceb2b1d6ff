/**
 * `rfc6455 connect`: an interactive client in the manner of wscat, on this
 * project's browser-client with its Node dialer. With `--trace` the dialer's
 * byte stream is tapped and both directions are dissected as they pass. With
 * `--http2` it dials WebSocket over HTTP/2 (RFC 8441).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  type Dialed,
  HandshakeError,
  type NodeDialOptions,
  openNodeTransport,
  WebSocket,
  type WebSocketCloseEvent,
  WebSocketErrorEvent,
} from '@rfc6455/browser-client/node';
import { CliUsageError, defineCommand, Exit } from '../command.js';
import { SessionDissector } from '../dissector.js';
import { arrow, formatPeerRecord } from '../format.js';
import { traceExtendedConnect } from '../h2-trace.js';
import type { Side } from '../records.js';
import { parseHex, toHex } from '../hex.js';
import { styleFor } from '../style.js';
import { tapByteStream } from '../tap.js';
import { escapeControls } from '../terminal-text.js';

export const connectCommand = defineCommand({
  name: 'connect',
  summary: 'open a WebSocket and send lines from stdin (like wscat)',
  help: `Usage: rfc6455 connect <url> [options]

Opens a WebSocket (ws:// or wss://) and sends each line typed (or piped) as a
text message; received messages are printed. When stdin is a pipe every line
is sent; once input ends and no message has arrived for --wait ms, the
connection is closed with 1000 and the command exits after the server's close
frame. (Waiting matters: a WebSocket delivers no messages after close().)

Commands (typed as a line; start a line with // to send a literal "/"):
  /close [code] [reason]   close with a code (1000 or 3000-4999) and reason
  /binary <hex>            send a binary message, e.g. /binary de ad be ef
  /help                    list these commands

Options:
  -H, --header <h>    extra request header "Name: value" (repeatable)
  -s, --subprotocol <p>  offer a subprotocol (repeatable)
  --origin <origin>   send an Origin header
  --deflate           offer permessage-deflate (the default)
  --no-deflate        offer no extension
  --trace             print every frame in both directions, dissected, with time
  --http2             WebSocket over HTTP/2 (RFC 8441) when the server enables
                      it, else HTTP/1.1 (wss: h2 by ALPN; ws: h2c by prior knowledge)
  --http2-only        HTTP/2 or fail: no fallback to HTTP/1.1
  --insecure          wss: accept any certificate
  --ca <file>         wss: trust this CA certificate (PEM)
  --timeout <ms>      handshake timeout (default 10000)
  --wait <ms>         after input ends, close once quiet this long (default 500)
  --raw               print what the server sent as it is, even on a terminal
  --escape            escape control characters even when not on a terminal
  -h, --help          show this help

On a terminal, control characters in everything the server chose (messages,
close reasons, headers, subprotocol, error bodies) are printed as escapes
like \x1b, \n or \u202e, so a server cannot retitle, clear or recolour your
terminal, or forge lines: one message is one line (TAB is kept). Piped
output is left as sent; --raw and --escape choose either way explicitly.

Exit status: 0 after a clean close, 1 when the connection failed or the
server refused the upgrade (its status and body are printed), 2 for bad usage.

Example:
  rfc6455 connect ws://127.0.0.1:9001 --trace -H 'Authorization: Bearer abc'`,
  options: {
    header: { type: 'string', short: 'H', multiple: true },
    subprotocol: { type: 'string', short: 's', multiple: true },
    origin: { type: 'string' },
    deflate: { type: 'boolean' },
    'no-deflate': { type: 'boolean' },
    trace: { type: 'boolean' },
    http2: { type: 'boolean' },
    'http2-only': { type: 'boolean' },
    insecure: { type: 'boolean' },
    ca: { type: 'string' },
    timeout: { type: 'string' },
    wait: { type: 'string' },
    raw: { type: 'boolean' },
    escape: { type: 'boolean' },
  },
  async run(values, positionals) {
    if (positionals.length !== 1)
      throw new CliUsageError(
        positionals.length === 0
          ? 'give the URL to connect to, e.g. ws://127.0.0.1:9001'
          : `unexpected argument "${positionals[1]}"`,
      );
    const url = parseUrl(positionals[0] as string);
    if (values.deflate === true && values['no-deflate'] === true)
      throw new CliUsageError('--deflate and --no-deflate contradict each other');
    if (values.raw === true && values.escape === true)
      throw new CliUsageError('--raw and --escape contradict each other');
    if (values.http2 === true && values['http2-only'] === true)
      throw new CliUsageError('--http2 and --http2-only: give one (--http2-only allows no fallback)');
    const headers = (values.header ?? []).map(parseHeader);
    const timeout = values.timeout === undefined ? 10_000 : Number(values.timeout);
    if (!Number.isFinite(timeout) || timeout < 0)
      throw new CliUsageError(`--timeout must be a number of milliseconds, got "${values.timeout}"`);
    const wait = values.wait === undefined ? 500 : Number(values.wait);
    if (!Number.isFinite(wait) || wait < 0)
      throw new CliUsageError(`--wait must be a number of milliseconds, got "${values.wait}"`);
    const dial: NodeDialOptions = {
      tls: {
        ...(values.insecure === true ? { rejectUnauthorized: false } : {}),
        ...(values.ca === undefined ? {} : { ca: readFileSync(values.ca) }),
      },
      http2: values['http2-only'] === true ? 'require' : values.http2 === true ? 'prefer' : 'never',
    };
    const out = process.stdout;
    const style = styleFor(out);
    // What the server chose goes through `peer` (stdout) or `peerErr` (stderr) before it is printed.
    const escapeFor = (stream: { isTTY?: boolean }) =>
      values.escape === true || (values.raw !== true && stream.isTTY === true);
    const peer = escapeFor(out) ? escapeControls : asIs;
    const peerErr = escapeFor(process.stderr) ? escapeControls : asIs;
    const print = (line: string) => out.write(`${line}\n`);
    const started = performance.now();
    const dissector = values.trace === true ? new SessionDissector() : null;

    let ws: WebSocket;
    try {
      ws = new WebSocket(url, values.subprotocol ?? [], {
        headers: Object.fromEntries(headers),
        ...(values.origin === undefined ? {} : { origin: values.origin }),
        perMessageDeflate: values['no-deflate'] !== true,
        handshakeTimeout: timeout,
        transport: async (target, init): Promise<Dialed> => {
          const dialed = await openNodeTransport(target, init, dial);
          if (dissector === null) return dialed;
          const onBytes = (from: Side, bytes: Uint8Array): void => {
            const time = `+${((performance.now() - started) / 1000).toFixed(3)}s`;
            const records = dissector.push(from, bytes);
            print(style.yellow(`[${time}] ${arrow(from)}: ${bytes.length} bytes`));
            for (const record of records)
              for (const line of formatPeerRecord(record, { style }, peer)) print(`  ${line}`);
          };
          if (!('open' in dialed)) return tapByteStream(dialed, onBytes);
          return traceExtendedConnect(dialed, {
            dissector,
            onBytes,
            peer,
            print: (line) => print(style.yellow(line)),
          });
        },
      });
    } catch (error) {
      throw new CliUsageError((error as Error).message);
    }
    ws.binaryType = 'arraybuffer';

    return new Promise<number>((resolve) => {
      let failure: string | null = null;
      const pending: string[] = [];
      let inputEnded = false;
      let quietTimer: ReturnType<typeof setTimeout> | undefined;
      // After input ends, close once the server has been quiet for `wait` ms.
      let closeWith: { code: number; reason: string } = { code: 1000, reason: '' };
      const closeWhenQuiet = (): void => {
        clearTimeout(quietTimer);
        quietTimer = setTimeout(() => closeNow(closeWith.code, closeWith.reason), wait);
      };
      const closeNow = (code: number, reason: string): void => {
        if (ws.readyState !== WebSocket.OPEN) return;
        try {
          ws.close(code, reason);
        } catch (error) {
          print(style.red(`cannot close that way: ${(error as Error).message}`));
        }
      };
      const interactive = process.stdin.isTTY === true;
      const lines = createInterface({ input: process.stdin, terminal: false });

      const handle = (line: string): void => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (line.startsWith('/') && !line.startsWith('//')) {
          command(line);
          return;
        }
        ws.send(line.startsWith('//') ? line.slice(1) : line);
      };
      const command = (line: string): void => {
        const [name, ...args] = line.trim().split(/\s+/);
        if (name === '/close') {
          const code = args[0] === undefined ? 1000 : Number(args[0]);
          // From a pipe, replies to the lines before it are still on their way: close once quiet.
          if (interactive) closeNow(code, args.slice(1).join(' '));
          else {
            closeWith = { code, reason: args.slice(1).join(' ') };
            closeWhenQuiet();
          }
        } else if (name === '/binary') {
          const parsed = parseHex(args.join(' '));
          if (parsed.ok) ws.send(parsed.bytes);
          else print(style.red(`invalid hex: ${parsed.reason}`));
        } else if (name === '/help') {
          print('/close [code] [reason]   /binary <hex>   //text sends "/text"');
        } else {
          print(style.red(`unknown command ${name}; /help lists them (start with // to send a "/")`));
        }
      };

      lines.on('line', (line) => {
        if (ws.readyState === WebSocket.CONNECTING) pending.push(line);
        else handle(line);
      });
      lines.on('close', () => {
        inputEnded = true;
        if (ws.readyState === WebSocket.OPEN) closeWhenQuiet();
      });

      ws.onopen = () => {
        const extras = [
          ws.httpVersion === '2' ? `HTTP/2 stream ${ws.streamId ?? '?'}` : dial.http2 !== 'never' ? 'HTTP/1.1' : '',
          ws.protocol ? `protocol: ${peer(ws.protocol)}` : '',
          ws.extensions ? `extensions: ${peer(ws.extensions)}` : '',
        ]
          .filter(Boolean)
          .join(', ');
        print(
          style.green(`connected to ${url}${extras ? ` (${extras})` : ''}`) +
            (interactive ? style.dim('  /help for commands, Ctrl-D or /close to end') : ''),
        );
        for (const line of pending.splice(0)) handle(line);
        if (inputEnded) closeWhenQuiet();
      };
      ws.onmessage = (ev) => {
        const data: unknown = (ev as MessageEvent).data;
        if (inputEnded) closeWhenQuiet();
        if (typeof data === 'string') print(`${style.cyan('<')} ${peer(data)}`);
        else if (data instanceof ArrayBuffer)
          print(
            `${style.cyan('<')} ${style.dim(`[binary, ${data.byteLength} bytes]`)} ${toHex(new Uint8Array(data), 256)}`,
          );
      };
      ws.onerror = (ev) => {
        failure = describeFailure(ev instanceof WebSocketErrorEvent ? ev.error : undefined, peerErr);
      };
      ws.onclose = (event) => {
        const ev = event as WebSocketCloseEvent;
        lines.close();
        clearTimeout(quietTimer);
        if (failure !== null) process.stderr.write(`${style.red('error:')} ${failure}\n`);
        print(
          style.dim(
            `disconnected: ${ev.code}${ev.reason ? ` ${peer(JSON.stringify(ev.reason))}` : ''}${ev.wasClean ? '' : ' (not clean)'}`,
          ),
        );
        resolve(ev.wasClean && failure === null ? Exit.Ok : Exit.Failure);
      };
      process.once('SIGINT', () => {
        if (ws.readyState === WebSocket.OPEN) ws.close(1000);
        else resolve(Exit.Failure);
      });
    });
  },
});

function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliUsageError(`"${text}" is not a URL; use ws://host:port/path or wss://…`);
  }
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(url.protocol))
    throw new CliUsageError(`unsupported scheme ${url.protocol} (use ws: or wss:)`);
  return url.href;
}

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new CliUsageError(`-H expects "Name: value", got "${text}"`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}

const asIs = (text: string): string => text;

/** Error messages may quote the server (its status line, body, headers, certificate names): `peer` treats them. */
function describeFailure(error: unknown, peer: (text: string) => string): string {
  if (error instanceof HandshakeError) {
    const cause: unknown = error.cause;
    if (
      error.code === 'transport' &&
      cause instanceof Error &&
      (cause as NodeJS.ErrnoException).code === 'ECONNREFUSED'
    ) {
      return `connection refused: is a server listening there? (${cause.message})`;
    }
    if (error.code === 'rejected') {
      // The body keeps its lines (escaping would join them into one), minus their control characters.
      const body = error.bodyText
        .trim()
        .split(/\r?\n/)
        .map((line) => peer(line))
        .join('\n');
      return (
        `the server refused the upgrade: ${error.status} ${peer(error.statusText ?? '')}`.trimEnd() +
        (body ? `\n${body}` : '')
      );
    }
    return `handshake ${error.code}: ${peer(error.message)}`;
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return `connection refused (${error.message}): is a server listening there?`;
    return peer(error.message);
  }
  return 'the connection failed';
}
