/**
 * A topics client for the server's tests: the codec's `ClientEndpoint` over a
 * TCP socket, offering `rfc6455.topics.v1` (and permessage-deflate when
 * asked), decoding every binary message as an envelope. It keeps what it
 * received in order and lets a test wait for a message by predicate.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { ClientEndpoint, type Extension } from '@rfc6455/codec';
import {
  decodeTopicsMessage,
  encodeTopicsMessage,
  type MalformedEnvelope,
  TOPICS_SUBPROTOCOL,
  type TopicsMessage,
} from '@rfc6455/topics';

export interface TopicsPeer {
  readonly socket: Socket;
  readonly protocol: string | null;
  /** Decoded server messages, in arrival order. */
  readonly messages: Array<TopicsMessage | MalformedEnvelope>;
  /** Every raw byte chunk the socket received after the handshake. */
  readonly chunks: Buffer[];
  send(message: TopicsMessage): void;
  sendBinary(bytes: Uint8Array): void;
  /** Resolves with the first message from `from` on that satisfies `match`. */
  waitFor<M extends TopicsMessage | MalformedEnvelope>(
    match: (message: TopicsMessage | MalformedEnvelope) => message is M,
    from?: number,
  ): Promise<M>;
  /** Resolves with the close code the server sent (or 1006). */
  readonly closed: Promise<number>;
}

export async function topicsPeer(
  port: number,
  options: { protocols?: readonly string[]; extensions?: readonly Extension[] } = {},
): Promise<TopicsPeer> {
  const endpoint = new ClientEndpoint(`ws://127.0.0.1:${port}/`, {
    protocols: options.protocols ?? [TOPICS_SUBPROTOCOL],
    // A recovery answer carries every missed publication in one message.
    maxMessageSize: 64 * 1024 * 1024,
    ...(options.extensions !== undefined && { extensions: options.extensions }),
  });
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  const messages: Array<TopicsMessage | MalformedEnvelope> = [];
  const chunks: Buffer[] = [];
  const waiters = new Set<() => void>();
  let protocol: string | null = null;
  let opened = false;
  let resolveOpen: () => void = () => {};
  let rejectOpen: (error: Error) => void = () => {};
  const open = new Promise<void>((resolve, reject) => {
    resolveOpen = resolve;
    rejectOpen = reject;
  });
  let closeCode = 1006;
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(closeCode)));
  const flush = (): void => {
    for (const bytes of endpoint.takeOutgoing()) socket.write(bytes);
  };
  socket.on('data', (chunk: Buffer) => {
    if (opened) chunks.push(chunk);
    endpoint.receive(chunk);
    for (let ev = endpoint.nextEvent(); ev !== undefined; ev = endpoint.nextEvent()) {
      if (ev.type === 'open') {
        opened = true;
        protocol = ev.protocol;
        resolveOpen();
      } else if (ev.type === 'binary') {
        messages.push(decodeTopicsMessage(new Uint8Array(ev.data)));
      } else if (ev.type === 'close') {
        closeCode = ev.code;
      } else if (ev.type === 'rejected' || ev.type === 'protocol-error') {
        rejectOpen(new Error(ev.type));
      }
    }
    flush();
    for (const waiter of waiters) waiter();
  });
  flush();
  await open;
  return {
    socket,
    get protocol() {
      return protocol;
    },
    messages,
    chunks,
    send(message) {
      endpoint.send({ type: 'binary', data: encodeTopicsMessage(message) });
      flush();
    },
    sendBinary(bytes) {
      endpoint.send({ type: 'binary', data: bytes });
      flush();
    },
    waitFor<M extends TopicsMessage | MalformedEnvelope>(
      match: (message: TopicsMessage | MalformedEnvelope) => message is M,
      from = 0,
    ): Promise<M> {
      return new Promise<M>((resolve, reject) => {
        const check = (): void => {
          const found = messages.slice(from).find(match);
          if (found !== undefined) {
            waiters.delete(check);
            resolve(found);
          }
        };
        waiters.add(check);
        socket.once('close', () => {
          if (waiters.delete(check)) reject(new Error('closed while waiting'));
        });
        check();
      });
    },
    closed,
  };
}

/** Type guards for `waitFor`. */
export const is = {
  subscribed:
    (topic: string) =>
    (m: TopicsMessage | MalformedEnvelope): m is Extract<TopicsMessage, { type: 'subscribed' }> =>
      m.type === 'subscribed' && m.topic === topic,
  publication:
    (topic: string, offset: number) =>
    (m: TopicsMessage | MalformedEnvelope): m is Extract<TopicsMessage, { type: 'publication' }> =>
      m.type === 'publication' && m.topic === topic && m.offset === offset,
  unsubscribed:
    (topic: string) =>
    (m: TopicsMessage | MalformedEnvelope): m is Extract<TopicsMessage, { type: 'unsubscribed' }> =>
      m.type === 'unsubscribed' && m.topic === topic,
};
