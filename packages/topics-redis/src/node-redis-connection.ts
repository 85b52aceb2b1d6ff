/**
 * `TopicsRedisConnection` on node-redis (@redis/client): one connection for
 * scripts, a duplicate of it for pub/sub. node-redis reconnects on its own and
 * re-subscribes every channel before it reports the connection `ready` again,
 * which is the `up` the adapter waits for.
 */
import { createHash } from 'node:crypto';
import { createClient, ErrorReply, RESP_TYPES, type RedisClientOptions } from '@redis/client';
import type { LuaScript } from './lua-scripts.js';
import type { PubSubState, TopicsRedisConnection } from './redis-connection.js';

export interface NodeRedisConnectionOptions {
  /** `redis://[[user][:password]@]host[:port][/db]`. */
  readonly url?: string;
  /** Any other node-redis client option (socket, reconnect strategy, TLS...). `url` above wins. */
  readonly client?: RedisClientOptions;
  /**
   * Told of connection errors. node-redis keeps reconnecting after them; the
   * default ignores them, since `down` and `up` already tell the adapter.
   */
  readonly onError?: (error: Error) => void;
}

const BYTES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;

function argument(value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Connects both connections and resolves once they are ready. */
export async function connectNodeRedis(options: NodeRedisConnectionOptions = {}): Promise<TopicsRedisConnection> {
  const commands = createClient({ ...options.client, ...(options.url === undefined ? {} : { url: options.url }) });
  const pubsub = commands.duplicate();
  const onError = options.onError ?? (() => {});
  commands.on('error', onError);
  pubsub.on('error', onError);
  let stateListener: (state: PubSubState) => void = () => {};
  let ready = false;
  let closing = false;
  pubsub.on('ready', () => {
    // The first ready is the initial connect; every later one follows a loss.
    if (ready) stateListener('up');
    ready = true;
  });
  pubsub.on('reconnecting', () => {
    if (!closing) stateListener('down');
  });
  await commands.connect();
  try {
    await pubsub.connect();
  } catch (error) {
    commands.destroy();
    throw error;
  }
  const shas = new Map<LuaScript, string>();

  return {
    async runScript(script, keys, args) {
      let sha = shas.get(script);
      if (sha === undefined) shas.set(script, (sha = createHash('sha1').update(script.source).digest('hex')));
      const tail = [String(keys.length), ...keys, ...args.map(argument)];
      try {
        return await commands.sendCommand(['EVALSHA', sha, ...tail], BYTES);
      } catch (error) {
        // A restarted or flushed Redis forgets loaded scripts; EVAL loads it again.
        if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await commands.sendCommand(['EVAL', script.source, ...tail], BYTES);
      }
    },
    async subscribe(channel, listener) {
      await pubsub.subscribe(channel, (message: Buffer) => listener(message), true);
    },
    async unsubscribe(channel) {
      await pubsub.unsubscribe(channel);
    },
    onPubSubState(listener) {
      stateListener = listener;
    },
    async close() {
      closing = true;
      await Promise.allSettled([pubsub.close(), commands.close()]);
    },
  };
}
