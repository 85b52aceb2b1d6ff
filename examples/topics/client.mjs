/**
 * A chat client: a TopicsClient on a ReconnectingWebSocket that knows several
 * servers and dials the next one whenever a connection ends. It subscribes
 * to its room, prints what arrives, and says what happened on each
 * reconnect: `recovered: true` (what was missed was replayed) or a resync
 * (`recovered: false`: reload the room from the source of truth).
 */
import { dialNode, ReconnectingWebSocket } from '@rfc6455/browser-client/node';
import { TOPICS_SUBPROTOCOL, TopicsClient } from '@rfc6455/browser-client/topics';

/**
 * @param {{ user: string, room: string, servers: Array<{ name: string, port: number }>, print: (line: string) => void, reconnectDelay?: number }} options
 */
export function chatClient({ user, room, servers, print, reconnectDelay = 100 }) {
  let dials = 0;
  let closing = false;
  let current = servers[0];
  const socket = new ReconnectingWebSocket(`ws://127.0.0.1/chat?user=${user}&room=${room}`, TOPICS_SUBPROTOCOL, {
    reconnect: { initialDelay: reconnectDelay, maxDelay: 1000, jitter: 0 },
    // No sticky sessions: every connection goes to the next server in the list.
    transport: (url, init) => {
      current = servers[dials++ % servers.length];
      const target = new URL(url);
      target.port = String(current.port);
      return dialNode(target, init);
    },
  });
  const topics = new TopicsClient(socket);
  socket.addEventListener('open', () => print(`connected to ${current.name}`));
  socket.addEventListener('disconnect', (event) => {
    if (!closing) print(`connection to ${current.name} lost (${event.code}); reconnecting to the next server`);
  });
  topics.addEventListener('subscribed', (event) => {
    if (event.recovered)
      print(`resubscribed to #${room} on ${current.name} since the last offset held: recovered: true`);
  });
  topics.addEventListener('resync', (event) =>
    print(
      `joined #${room} on ${current.name} at #${event.offset} (recovered: false: load the history from the source of truth)`,
    ),
  );
  topics.addEventListener('publication', (event) => print(`#${event.offset} ${event.text()}`));
  topics.subscribe(room);
  return {
    say(text) {
      socket.send(text);
    },
    close() {
      closing = true;
      socket.close();
    },
  };
}
