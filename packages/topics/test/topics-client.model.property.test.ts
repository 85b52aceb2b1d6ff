/**
 * End to end without sockets: a server's TopicsCore and a model broker on one
 * side, TopicsClientState on the other, every message between them encoded as
 * rfc6455.topics.v1 bytes, and connections that drop (losing what was in
 * flight) and reopen. What the application sees per client and topic must
 * be gap-free and duplicate-free, except right after `subscribed` with
 * `recovered: false`, and must catch up with the broker once things settle.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTopicsMessage,
  encodeTopicsMessage,
  type StreamPosition,
  TopicsClientState,
  TopicsCore,
  type TopicsMessage,
  UNSUBSCRIBED_BY_REQUEST,
} from '../src/index.js';
import { ModelBroker } from './model-broker.js';

const TOPICS = ['a', 'b'] as const;
const CLIENTS = 3;

type Command =
  | { readonly type: 'publish'; readonly topic: number }
  | { readonly type: 'pubsub'; readonly count: number }
  | { readonly type: 'answer'; readonly count: number }
  | { readonly type: 'receive'; readonly client: number; readonly count: number }
  | { readonly type: 'drop-connection'; readonly client: number }
  | { readonly type: 'reopen'; readonly client: number }
  | { readonly type: 'want'; readonly client: number; readonly topic: number }
  | { readonly type: 'unwant'; readonly client: number; readonly topic: number }
  | { readonly type: 'trim'; readonly topic: number; readonly keep: number };

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const topic = fc.integer({ min: 0, max: TOPICS.length - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('publish' as const), topic }), weight: 5 },
  { arbitrary: fc.record({ type: fc.constant('pubsub' as const), count: fc.integer({ min: 1, max: 4 }) }), weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('answer' as const), count: fc.integer({ min: 1, max: 3 }) }), weight: 3 },
  {
    arbitrary: fc.record({ type: fc.constant('receive' as const), client, count: fc.integer({ min: 1, max: 4 }) }),
    weight: 5,
  },
  { arbitrary: fc.record({ type: fc.constant('drop-connection' as const), client }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('reopen' as const), client }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('want' as const), client, topic }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('unwant' as const), client, topic }), weight: 1 },
  {
    arbitrary: fc.record({ type: fc.constant('trim' as const), topic, keep: fc.integer({ min: 0, max: 3 }) }),
    weight: 1,
  },
);

interface Client {
  readonly state: TopicsClientState;
  open: boolean;
  /** Server → client bytes in flight on the current connection. */
  inbox: Uint8Array[];
  /** What the application saw, per topic: its position, or undefined before the first subscribed. */
  readonly seen: Map<string, StreamPosition | undefined>;
}

class World {
  readonly broker = new ModelBroker();
  readonly server = new TopicsCore<number>({ fetchLimit: 2 });
  readonly clients: Client[] = [];
  private pubsub: { topic: string; epoch: string; offset: number; data: Uint8Array }[] = [];
  private fetches: { id: number; topic: string; after: number | null; limit: number }[] = [];
  private readonly channels = new Set<string>();
  private lossy = false;
  private published = 0;

  constructor() {
    for (let i = 0; i < CLIENTS; i++) {
      this.clients.push({ state: new TopicsClientState(), open: true, inbox: [], seen: new Map() });
    }
  }

  private toServer(c: number, message: TopicsMessage): void {
    const decoded = decodeTopicsMessage(encodeTopicsMessage(message));
    if (decoded.type === 'subscribe') this.server.subscribe(c, decoded.topic, decoded.since);
    else if (decoded.type === 'unsubscribe') {
      this.server.unsubscribe(c, decoded.topic);
      this.pump();
      // The server layer answers every unsubscribe, after whatever it already sent for the topic.
      const ack = { type: 'unsubscribed' as const, topic: decoded.topic, code: UNSUBSCRIBED_BY_REQUEST, reason: '' };
      this.clients[c]!.inbox.push(encodeTopicsMessage(ack));
    } else throw new Error(`unexpected ${decoded.type}`);
    this.pump();
  }

  private pump(): void {
    for (let effects = this.server.takeEffects(); effects.length > 0; effects = this.server.takeEffects()) {
      for (const effect of effects) {
        switch (effect.type) {
          case 'broker-subscribe':
            this.channels.add(effect.topic);
            this.server.brokerSubscribed(effect.topic);
            break;
          case 'broker-unsubscribe':
            this.channels.delete(effect.topic);
            break;
          case 'fetch':
            this.fetches.push(effect);
            break;
          case 'deliver': {
            // One envelope for the whole audience, as a server hands it to MessagePreEncoder.
            const bytes = encodeTopicsMessage({
              type: 'publication',
              topic: effect.topic,
              epoch: effect.epoch,
              ...effect.publication,
            });
            for (const c of effect.subscribers) this.clients[c]!.inbox.push(bytes);
            break;
          }
          case 'subscribed': {
            const { type, subscriber, ...rest } = effect;
            this.clients[subscriber]!.inbox.push(encodeTopicsMessage({ type, ...rest }));
            break;
          }
        }
      }
    }
  }

  private app(c: number, events: ReturnType<TopicsClientState['receive']>): void {
    const client = this.clients[c]!;
    for (const event of events) {
      if (event.type === 'send') {
        if (client.open) this.toServer(c, event.message);
        continue;
      }
      const where = `client ${c} ${event.topic}`;
      expect(client.seen.has(event.topic), `${where}: events only for wanted topics`).toBe(true);
      if (event.type === 'subscribed') {
        const before = client.seen.get(event.topic);
        if (event.recovered) {
          expect(before?.epoch, `${where}: recovered continues the epoch`).toBe(event.epoch);
        } else if (before !== undefined) {
          expect(this.lossy, `${where}: recovered:false only after history was lost`).toBe(true);
        }
        // A recovered subscribed is followed by its publications, which continue `before`.
        client.seen.set(event.topic, event.recovered ? before : { epoch: event.epoch, offset: event.offset });
      } else if (event.type === 'publication') {
        const before = client.seen.get(event.topic);
        expect(before, `${where}: publication after subscribed`).toBeDefined();
        expect([event.epoch, event.offset], `${where}: no gap, no duplicate`).toEqual([
          before!.epoch,
          before!.offset + 1,
        ]);
        expect(event.data, `${where}: the published bytes`).toEqual(
          this.broker.ledger.get(`${event.topic}/${event.epoch}/${event.offset}`),
        );
        client.seen.set(event.topic, { epoch: event.epoch, offset: event.offset });
      } else {
        client.seen.delete(event.topic);
      }
    }
  }

  run(cmd: Command): void {
    switch (cmd.type) {
      case 'publish': {
        const name = TOPICS[cmd.topic]!;
        const data = new Uint8Array(new Uint32Array([++this.published]).buffer);
        const minted = this.broker.publish(name, data);
        if (this.channels.has(name))
          this.pubsub.push({ topic: name, epoch: minted.epoch, offset: minted.offset, data });
        return;
      }
      case 'pubsub':
        for (let i = 0; i < cmd.count; i++) {
          const message = this.pubsub.shift();
          if (message === undefined) return;
          this.server.brokerPublication(message.topic, message.epoch, message);
          this.pump();
        }
        return;
      case 'answer':
        for (let i = 0; i < cmd.count; i++) {
          const fetch = this.fetches.shift();
          if (fetch === undefined) return;
          this.server.historyResult(fetch.id, this.broker.read(fetch.topic, fetch.after, fetch.limit));
          this.pump();
        }
        return;
      case 'receive': {
        const client = this.clients[cmd.client]!;
        for (let i = 0; i < cmd.count; i++) {
          const bytes = client.inbox.shift();
          if (bytes === undefined) return;
          const message = decodeTopicsMessage(bytes);
          if (message.type === 'malformed') throw new Error(message.reason);
          this.app(cmd.client, client.state.receive(message));
        }
        return;
      }
      case 'drop-connection': {
        const client = this.clients[cmd.client]!;
        if (!client.open) return;
        client.open = false;
        client.inbox = [];
        this.server.disconnect(cmd.client);
        this.pump();
        return;
      }
      case 'reopen': {
        const client = this.clients[cmd.client]!;
        if (client.open) return;
        client.open = true;
        for (const message of client.state.connected()) this.toServer(cmd.client, message);
        return;
      }
      case 'want': {
        const client = this.clients[cmd.client]!;
        const name = TOPICS[cmd.topic]!;
        if (!client.seen.has(name)) client.seen.set(name, undefined);
        const message = client.state.subscribe(name);
        if (message !== undefined && client.open) this.toServer(cmd.client, message);
        return;
      }
      case 'unwant': {
        const client = this.clients[cmd.client]!;
        const name = TOPICS[cmd.topic]!;
        client.seen.delete(name);
        const message = client.state.unsubscribe(name);
        if (message !== undefined && client.open) this.toServer(cmd.client, message);
        return;
      }
      case 'trim':
        if (this.broker.trim(TOPICS[cmd.topic]!, cmd.keep)) this.lossy = true;
        return;
    }
  }

  heal(): void {
    for (let c = 0; c < CLIENTS; c++) this.run({ type: 'reopen', client: c });
    for (let round = 0; ; round++) {
      expect(round, 'everything settles').toBeLessThan(10_000);
      const busy = this.pubsub.length + this.fetches.length + this.clients.reduce((n, c) => n + c.inbox.length, 0);
      if (busy === 0) break;
      this.run({ type: 'pubsub', count: this.pubsub.length });
      this.run({ type: 'answer', count: this.fetches.length });
      for (let c = 0; c < CLIENTS; c++) this.run({ type: 'receive', client: c, count: this.clients[c]!.inbox.length });
    }
    for (let c = 0; c < CLIENTS; c++) {
      for (const [name, position] of this.clients[c]!.seen) {
        const { epoch, latest } = this.broker.current(name);
        expect(position, `client ${c} ${name} caught up`).toEqual({ epoch, offset: latest });
        expect(this.clients[c]!.state.positionOf(name)).toEqual({ epoch, offset: latest });
      }
    }
  }
}

/** Runs that once failed, kept so they are checked on every run. */
const examples: [Command[]][] = [
  // Subscribing to a topic already asked for sent a second fresh subscribe, whose answer looked like a reset.
  [
    [
      { type: 'want', client: 0, topic: 1 },
      { type: 'want', client: 0, topic: 0 },
      { type: 'pubsub', count: 1 },
      { type: 'unwant', client: 0, topic: 0 },
      { type: 'want', client: 0, topic: 0 },
      { type: 'publish', topic: 0 },
      { type: 'answer', count: 1 },
      { type: 'want', client: 0, topic: 0 },
      { type: 'pubsub', count: 1 },
      { type: 'publish', topic: 0 },
      { type: 'want', client: 0, topic: 1 },
    ],
  ],
  // The answer to a subscribe made before an unsubscribe was taken for the answer to the next subscribe.
  [
    [
      { type: 'want', client: 0, topic: 1 },
      { type: 'answer', count: 1 },
      { type: 'unwant', client: 0, topic: 1 },
      { type: 'publish', topic: 0 },
      { type: 'want', client: 0, topic: 0 },
      { type: 'answer', count: 1 },
      { type: 'trim', topic: 0, keep: 1 },
      { type: 'publish', topic: 0 },
      { type: 'want', client: 0, topic: 1 },
      { type: 'publish', topic: 0 },
      { type: 'answer', count: 1 },
      { type: 'want', client: 0, topic: 0 },
      { type: 'receive', client: 0, count: 1 },
    ],
  ],
];

describe('TopicsClientState with a TopicsCore server over encoded envelopes', () => {
  it('shows the application every publication once and in order, across dropped connections', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 10, maxLength: 120, size: 'max' }), (commands) => {
        const world = new World();
        for (const cmd of commands) world.run(cmd);
        world.heal();
      }),
      { numRuns: 500, examples },
    );
  });

  it('drops duplicates and asks again on a gap instead of showing it', () => {
    const state = new TopicsClientState();
    expect(state.subscribe('t')).toEqual({ type: 'subscribe', topic: 't' });
    expect(state.subscribe('t')).toBeUndefined();
    const at = (offset: number) => ({
      type: 'publication' as const,
      topic: 't',
      epoch: 'e',
      offset,
      data: new Uint8Array([offset]),
    });
    expect(state.receive(at(1))).toEqual([]);
    expect(
      state.receive({ type: 'subscribed', topic: 't', recovered: false, epoch: 'e', offset: 4, publications: [] }),
    ).toEqual([{ type: 'subscribed', topic: 't', recovered: false, epoch: 'e', offset: 4 }]);
    expect(state.receive(at(4))).toEqual([]);
    expect(state.receive(at(5))).toEqual([at(5)]);
    expect(state.receive(at(7))).toEqual([
      { type: 'send', message: { type: 'subscribe', topic: 't', since: { epoch: 'e', offset: 5 } } },
    ]);
    // Until the answer to that subscribe, live publications are not shown.
    expect(state.receive(at(6))).toEqual([]);
    expect(state.connected()).toEqual([{ type: 'subscribe', topic: 't', since: { epoch: 'e', offset: 5 } }]);
  });
});
