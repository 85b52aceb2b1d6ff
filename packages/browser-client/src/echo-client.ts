/**
 * Echo client for a fuzzing server that speaks the Autobahn protocol:
 *
 *   GET /getCaseCount                    → one text message: the number of cases
 *   GET /runCase?case=N&agent=NAME       → echo every message until closed
 *   GET /updateReports?agent=NAME        → the server writes its reports
 *
 * Usage: node dist/echo-client.js --url ws://127.0.0.1:9001 --agent NAME [--no-deflate] [--cases 1,2,5] [--http2]
 * permessage-deflate is offered on every case connection (as browsers offer
 * it); `--no-deflate` offers no extension at all. `--http2` opens every
 * connection on a stream of one HTTP/2 session (RFC 8441; h2c for ws:), with
 * no fallback to HTTP/1.1.
 */
import { HandshakeError } from './errors.js';
import { WebSocket } from './node.js';

interface Args {
  url: string;
  agent: string;
  deflate: boolean;
  cases: number[] | undefined;
  http2: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    url: 'ws://127.0.0.1:9001',
    agent: 'rfc6455-browser-client',
    deflate: true,
    cases: undefined,
    http2: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === '--url') args.url = value().replace(/\/+$/, '');
    else if (name === '--agent') args.agent = value();
    else if (name === '--no-deflate') args.deflate = false;
    else if (name === '--http2') args.http2 = true;
    else if (name === '--cases') args.cases = value().split(',').map(Number);
    else if (name === '--') continue;
    else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

/** Opens one connection and settles when it closes; `onMessage` sees every message. */
function session(
  url: string,
  args: Args,
  onMessage?: (ws: WebSocket, data: string | ArrayBuffer) => void,
): Promise<{ code: number; reason: string; extensions: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, undefined, {
      maxMessageSize: 64 * 1024 * 1024,
      closeTimeout: 5_000,
      perMessageDeflate: args.deflate,
      http2: args.http2 ? 'require' : 'never',
    });
    ws.binaryType = 'arraybuffer';
    let error: unknown;
    ws.onmessage = (ev) => onMessage?.(ws, (ev as MessageEvent).data as string | ArrayBuffer);
    ws.onerror = (ev) => {
      error = (ev as Event & { error?: unknown }).error;
    };
    ws.onclose = (ev) => {
      const { code, reason } = ev as Event & { code: number; reason: string };
      if (code === 1006 && error !== undefined && ws.protocol === '' && error instanceof HandshakeError) {
        reject(error);
      } else resolve({ code, reason, extensions: ws.extensions });
    };
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const agent = encodeURIComponent(args.agent);
  let count = 0;
  await session(`${args.url}/getCaseCount`, args, (_ws, data) => {
    count = Number(data);
  });
  if (!Number.isInteger(count) || count < 0) throw new Error(`bad case count from ${args.url}/getCaseCount`);
  const cases = args.cases ?? Array.from({ length: count }, (_, i) => i + 1);
  console.log(`${count} cases; agent ${args.agent}${args.deflate ? '' : ' (--no-deflate)'}`);
  for (const n of cases) {
    const closed = await session(`${args.url}/runCase?case=${n}&agent=${agent}`, args, (ws, data) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    });
    console.log(`case ${n}/${count}: closed ${closed.code}${closed.extensions ? ` (${closed.extensions})` : ''}`);
  }
  await session(`${args.url}/updateReports?agent=${agent}`, args);
  console.log('reports updated');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
