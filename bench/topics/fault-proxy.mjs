/**
 * A TCP proxy on 127.0.0.1 for fault injection: every connection it accepts
 * is piped to the current upstream port. It can give each connection a random
 * lifetime (then destroys both sides, as a dropped network path would), cut
 * every connection at once, and be pointed at another upstream (a restarted
 * process on a new port). A connection whose upstream refuses is destroyed.
 */
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

/**
 * `upstream` may be a list of ports: connections then go to each in turn
 * (a client that reconnects reaches the next one, with no sticky session).
 *
 * @param {{ upstream: number | number[], lifetimeMs?: [number, number] | null, random?: () => number }} options
 */
export async function startFaultProxy(options) {
  let upstream = options.upstream;
  let turn = 0;
  let lifetime = options.lifetimeMs ?? null;
  const random = options.random ?? Math.random;
  /** @type {Set<{ client: import('node:net').Socket, server: import('node:net').Socket, timer: NodeJS.Timeout | undefined }>} */
  const pairs = new Set();
  let accepted = 0;
  let cut = 0;

  const server = createServer((client) => {
    accepted++;
    const port = Array.isArray(upstream) ? upstream[turn++ % upstream.length] : upstream;
    const target = connect(port, '127.0.0.1');
    const pair = { client, server: target, timer: undefined };
    pairs.add(pair);
    const end = () => {
      if (!pairs.delete(pair)) return;
      clearTimeout(pair.timer);
      client.destroy();
      target.destroy();
    };
    client.on('error', end);
    target.on('error', end);
    client.on('close', end);
    target.on('close', end);
    client.pipe(target);
    target.pipe(client);
    if (lifetime !== null) {
      const [min, max] = lifetime;
      pair.timer = setTimeout(
        () => {
          if (pairs.has(pair)) cut++;
          end();
        },
        min + random() * (max - min),
      );
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');

  return {
    port: address.port,
    /** Connections accepted so far, and connections destroyed by their lifetime or `cutAll`. */
    stats: () => ({ accepted, cut, open: pairs.size }),
    /** New connections go to `port` (or, in turn, to each of a list of ports). */
    setUpstream(port) {
      upstream = port;
    },
    /** Lifetime range (ms) for connections accepted from now on; null: no limit. */
    setLifetime(range) {
      lifetime = range;
    },
    /** Destroys every open connection. */
    cutAll() {
      for (const pair of [...pairs]) {
        cut++;
        pair.client.destroy();
        pair.server.destroy();
      }
    },
    async close() {
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.server.destroy();
      }
      server.close();
      await once(server, 'close');
    },
  };
}
