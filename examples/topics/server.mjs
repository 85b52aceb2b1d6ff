/**
 * A chat server process: WebSocket on 127.0.0.1, topics on Redis. Clients
 * speak `rfc6455.topics.v1`: they subscribe to rooms themselves, and a text
 * message they send is published on their room, so every process's
 * subscribers get it. Several of these processes can share one Redis; a
 * client may reconnect to any of them and resume where it was.
 *
 *   node examples/topics/server.mjs <name> <redis-url> [port]
 */
import { WebSocketServer } from '@rfc6455/node-server';
import { connectNodeRedis, RedisTopics } from '@rfc6455/topics-redis';

const [name = 'server', redisUrl = 'redis://127.0.0.1:6379', port = '0'] = process.argv.slice(2);
const connection = await connectNodeRedis({ url: redisUrl });
const wss = new WebSocketServer({
  port: Number(port),
  host: '127.0.0.1',
  // Across processes: every server's subscribers hear every publish, and history lives in Redis.
  topics: (handlers) => new RedisTopics({ connection, ...handlers }),
});

wss.on('connection', (ws, info) => {
  const user = info.url.searchParams.get('user') ?? 'someone';
  const room = info.url.searchParams.get('room') ?? 'lobby';
  ws.on('message', async (text, isBinary) => {
    if (isBinary) return; // binary messages of a topics client are its subscribes, handled by the server
    // The client's message id makes a retried send publish once.
    const { offset } = await wss.publish(room, `${user}: ${text}`, { idempotencyKey: `${user}:${String(text)}` });
    process.send?.({ type: 'published', server: name, room, offset });
  });
});
wss.on('listening', () => {
  const address = wss.address();
  process.send?.({ type: 'listening', port: address?.port });
  if (process.send === undefined) console.log(`${name} listening on ws://127.0.0.1:${address?.port}`);
});
