/**
 * `rfc6455 demo`: the live frame-inspector page (what `pnpm start` runs).
 */
import { fileURLToPath } from 'node:url';
import { defineCommand, Exit, parsePort, CliUsageError } from '../command.js';
import { startDemo } from '../demo-server.js';
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
  --port <n>     port to serve on (default 8080; 0 picks a free one)
  --host <addr>  address to bind (default 127.0.0.1)
  -h, --help     show this help`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
    const port = parsePort(values.port, 8080);
    const host = values.host ?? '127.0.0.1';
    const style = styleFor(process.stdout);
    const staticDir = fileURLToPath(new URL('./demo/', import.meta.url));
    let demo;
    try {
      demo = await startDemo({ port, host, staticDir });
    } catch (error) {
      process.stderr.write(`${style.red('error:')} ${listenError(error as NodeJS.ErrnoException, host, port)}\n`);
      return Exit.Failure;
    }
    const shown = host === '127.0.0.1' || host === '::1' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    process.stdout.write(`frame inspector on ${style.bold(`http://${shown}:${demo.port}/`)}  (Ctrl-C to stop)\n`);
    await onShutdownSignal();
    process.stdout.write('closing every connection with 1001…\n');
    await demo.close();
    return Exit.Ok;
  },
});
