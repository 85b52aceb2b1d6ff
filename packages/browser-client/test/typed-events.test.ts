// What a user's editor sees (the built .d.ts, after the build): each event
// type of the WebSocket names the class its listeners and on… handlers get,
// with no casts. Exact types, so a widening back to Event fails too.
import { expect, test } from 'vitest';
import { typeCheck } from './type-check.js';

test('WebSocket events are typed by their type name, for listeners and on… handlers alike', () => {
  const code = `
import { HandshakeError, WebSocket, WebSocketErrorEvent, type CloseEvent, type MessageEvent } from '@rfc6455/browser-client';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const exactly = <A, B>(_value: Equals<A, B>): void => {};

declare const ws: WebSocket;
ws.addEventListener('message', (e) => {
  exactly<typeof e, MessageEvent>(true);
  exactly<typeof e.data, string | ArrayBuffer | Blob>(true);
  exactly<typeof e.origin, string>(true);
});
ws.addEventListener('close', (e) => {
  exactly<typeof e, CloseEvent>(true);
  exactly<[typeof e.code, typeof e.reason, typeof e.wasClean], [number, string, boolean]>(true);
});
ws.addEventListener('error', (e) => {
  exactly<typeof e, WebSocketErrorEvent>(true);
  if (e.error instanceof HandshakeError) exactly<typeof e.error.status, number | undefined>(true);
});
ws.addEventListener('open', (e) => exactly<typeof e, Event>(true));
ws.addEventListener('message', function () {
  exactly<typeof this, WebSocket>(true);
});
ws.removeEventListener('close', (e) => exactly<typeof e, CloseEvent>(true));

ws.onmessage = (e) => exactly<typeof e, MessageEvent>(true);
ws.onclose = (e) => exactly<typeof e, CloseEvent>(true);
ws.onerror = (e) => exactly<typeof e, WebSocketErrorEvent>(true);
ws.onopen = (e) => exactly<typeof e, Event>(true);
ws.onmessage = null;
exactly<WebSocket['onclose'], ((this: WebSocket, ev: CloseEvent) => unknown) | null>(true);

// Other event types, and listener objects, take plain Events as on EventTarget.
ws.addEventListener('custom', (e) => exactly<typeof e, Event>(true));
ws.addEventListener('message', { handleEvent: (e) => exactly<typeof e, Event>(true) });

// @ts-expect-error a message event has no close code
ws.addEventListener('message', (e) => e.code);
// @ts-expect-error a close handler does not take message events
ws.onclose = (e: MessageEvent) => e.data;
// @ts-expect-error an open event carries no data
ws.onopen = (e) => e.data;
`;
  expect(typeCheck([{ label: 'typed events', code }])).toEqual([]);
});

test('TopicsClient events are typed by their type name, for listener functions and objects', () => {
  const code = `
import {
  TopicsClient,
  type TopicPublicationEvent,
  type TopicSubscribedEvent,
  type TopicUnsubscribedEvent,
  type TopicsErrorEvent,
} from '@rfc6455/browser-client/topics';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const exactly = <A, B>(_value: Equals<A, B>): void => {};

declare const topics: TopicsClient;
topics.addEventListener('publication', (e) => {
  exactly<typeof e, TopicPublicationEvent>(true);
  exactly<[typeof e.topic, typeof e.offset, typeof e.data], [string, number, Uint8Array]>(true);
});
topics.addEventListener('subscribed', (e) => exactly<typeof e, TopicSubscribedEvent>(true));
topics.addEventListener('resync', (e) => exactly<typeof e, TopicSubscribedEvent>(true));
topics.addEventListener('unsubscribed', (e) => exactly<typeof e, TopicUnsubscribedEvent>(true));
topics.addEventListener('error', (e) => exactly<typeof e, TopicsErrorEvent>(true));
topics.addEventListener('publication', function () {
  exactly<typeof this, TopicsClient>(true);
});
// Unlike WebSocket's, the typed overloads take listener objects too.
topics.addEventListener('publication', { handleEvent: (e) => exactly<typeof e, TopicPublicationEvent>(true) });
topics.removeEventListener('resync', (e) => exactly<typeof e, TopicSubscribedEvent>(true));
topics.removeEventListener('error', { handleEvent: (e) => exactly<typeof e, TopicsErrorEvent>(true) });

// Other event types take plain Events as on EventTarget.
topics.addEventListener('custom', (e) => exactly<typeof e, Event>(true));
topics.removeEventListener('custom', { handleEvent: (e) => exactly<typeof e, Event>(true) });

// @ts-expect-error a publication carries no close code
topics.addEventListener('publication', (e) => e.code);
// @ts-expect-error an unsubscribed listener does not take publications
topics.addEventListener('unsubscribed', (e: TopicPublicationEvent) => e.data);
`;
  expect(typeCheck([{ label: 'typed topics events', code }])).toEqual([]);
});
