/**
 * A TCP front for the scenario servers of one runtime: reads the request
 * line, picks the backend by path prefix (`/deflate/…`, `/deflate-nct/…`,
 * anything else the plain server), strips the prefix and pipes both ways —
 * what browser-client's project server does inside one Node process with
 * `handleUpgrade`, for listeners that each own a port.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

const PREFIXES = [
  ['/deflate-nct/', 'deflateNct'],
  ['/deflate/', 'deflate'],
] as const;

export interface PathRouter {
  readonly url: string;
  close(): Promise<void>;
}

export async function startPathRouter(
  ports: Readonly<Record<'plain' | 'deflate' | 'deflateNct', number>>,
): Promise<PathRouter> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const eol = head.indexOf('\r\n');
      if (eol < 0) return;
      client.off('data', onData);
      client.pause();
      const [method, target = '/', ...rest] = head.subarray(0, eol).toString('latin1').split(' ');
      let port = ports.plain;
      let path = target;
      for (const [prefix, name] of PREFIXES) {
        if (target.startsWith(prefix)) {
          port = ports[name];
          path = target.slice(prefix.length - 1);
          break;
        }
      }
      const backend = connect(port, '127.0.0.1');
      sockets.add(backend);
      backend.on('close', () => sockets.delete(backend));
      backend.on('error', () => client.destroy());
      client.on('error', () => backend.destroy());
      backend.write(Buffer.concat([Buffer.from([method, path, ...rest].join(' '), 'latin1'), head.subarray(eol)]));
      client.pipe(backend);
      backend.pipe(client);
      client.resume();
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
