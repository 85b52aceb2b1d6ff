/**
 * `rfc6455 demo`: the live frame-inspector page (what `pnpm start` runs).
 */
import { fileURLToPath } from 'node:url';
import { defineCommand, Exit, parsePort, CliUsageError } from '../command.js';
import { UsageError } from '@rfc6455/codec';
import { startDemo } from '../demo-server.js';
import { parseOrigin } from '../origin-policy.js';
import { listenError } from './serve.js';
import { onShutdownSignal } from '../signals.js';
import { styleFor } from '../style.js';

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'serve the live frame-inspector page (pnpm start)',
  help: `Usage: rfc6455 demo [options]

Serves a page where you send text and binary messages to an echo server
(this project's node-server) and watch every frame in both directions,
dissected: the opening handshake, FIN, RSV1-3, opcode, MASK, payload length
and its encoding, masking key, payload as text and hex, compression, close
codes. It can also dissect hex you paste. Ctrl-C closes every connection
with 1001 and exits.

Options:
  --port <n>              port to serve on (default 8080; 0 picks a free one)
  --host <addr>           address to bind (default 127.0.0.1)
  --allow-origin <o>      also let pages from origin <o> (e.g. https://tools.example)
                          open /echo and /inspect (repeatable)
  --allow-any-origin      let a page from ANY site open them (see below)
  -h, --help              show this help

Who can read the inspector: every message sent through the demo is shown on
/inspect to whoever opens it, and a browser lets any web page open a
WebSocket to localhost. So /echo and /inspect accept only the page's own
origins (http://localhost:PORT, http://127.0.0.1:PORT, http://[::1]:PORT and
http://HOST:PORT) and answer 403 to pages from anywhere else. Clients that
send no Origin (wscat, rfc6455 connect) are not web pages and are let in.
--allow-any-origin turns the check off: then any site you visit while the
demo runs can read what passes through it. With --host 0.0.0.0, add the
address you browse to with --allow-origin http://ADDRESS:PORT.`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true },
    'allow-any-origin': { type: 'boolean' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
    const port = parsePort(values.port, 8080);
    const host = values.host ?? '127.0.0.1';
    const allowedOrigins = (values['allow-origin'] ?? []).map((text) => {
      try {
        return parseOrigin(text);
      } catch (error) {
        throw error instanceof UsageError ? new CliUsageError(`--allow-origin: ${error.message}`) : error;
      }
    });
    const allowAnyOrigin = values['allow-any-origin'] === true;
    const style = styleFor(process.stdout);
    const staticDir = fileURLToPath(new URL('./demo/', import.meta.url));
    let demo: Awaited<ReturnType<typeof startDemo>>;
    try {
      demo = await startDemo({ port, host, staticDir, allowedOrigins, allowAnyOrigin });
    } catch (error) {
      process.stderr.write(`${style.red('error:')} ${listenError(error as NodeJS.ErrnoException, host, port)}\n`);
      return Exit.Failure;
    }
    const shown = host === '127.0.0.1' || host === '::1' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    process.stdout.write(`frame inspector on ${style.bold(`http://${shown}:${demo.port}/`)}  (Ctrl-C to stop)\n`);
    if (allowAnyOrigin)
      process.stdout.write(
        `${style.red('warning:')} --allow-any-origin: any web page you visit can read what passes through the demo\n`,
      );
    await onShutdownSignal();
    process.stdout.write('closing every connection with 1001…\n');
    await demo.close();
    return Exit.Ok;
  },
});
