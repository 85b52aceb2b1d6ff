/**
 * Model test of the topics core: random interleavings of publishes, pub/sub
 * deliveries and drops, broker reconnects and restarts, history trims, epoch
 * resets, history reads that succeed or fail, client subscribes (fresh or
 * since their last position), unsubscribes and disconnects, and publisher
 * retries, over two processes that share one model broker.
 *
 * Checked after every step, per (client, topic): each delivered offset is the
 * previous one plus one in the same epoch, and carries the bytes that were
 * published at that offset; a position may jump only at a `subscribed` with
 * `recovered: false`; `recovered: true` replies continue `since` exactly.
 * When nothing was lost at the broker, `recovered: false` never appears except
 * for a subscribe without `since`; when it was, each loss of a topic's history
 * is announced to a client at most once, and a `recovered: false` answer to a
 * `since` never names that same position (nothing was broken there). After the
 * faults heal, every subscribed client has reached the broker's latest offset.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type StreamPosition, type TopicsEffect, TopicsCore } from '../src/index.js';
import { ModelBroker } from './model-broker.js';

const TOPICS = ['news', 'chat'] as const;
const NODES = 2;
const CLIENTS = 4;

type Command =
  | { readonly type: 'publish'; readonly topic: number; readonly keyed: boolean }
  | { readonly type: 'retry'; readonly pick: number }
  | { readonly type: 'deliver'; readonly node: number; readonly count: number }
  | { readonly type: 'drop'; readonly node: number }
  /** Answers `count` reads, each picked among the outstanding ones by `pick` (reads may be answered in any order). */
  | { readonly type: 'answer'; readonly node: number; readonly count: number; readonly pick?: number }
  | { readonly type: 'fail-fetch'; readonly node: number }
  | { readonly type: 'pubsub-reconnect'; readonly node: number }
  /** `ahead` > 0 forges a `since` that many offsets past what the client has. */
  | { readonly type: 'subscribe'; readonly client: number; readonly topic: number; readonly ahead: number }
  | { readonly type: 'unsubscribe'; readonly client: number; readonly topic: number }
  | { readonly type: 'disconnect'; readonly client: number }
  | { readonly type: 'trim'; readonly topic: number; readonly keep: number }
  | { readonly type: 'evict'; readonly topic: number }
  | { readonly type: 'restart' }
  | { readonly type: 'reconnect'; readonly node: number };

const node = fc.integer({ min: 0, max: NODES - 1 });
const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const topic = fc.integer({ min: 0, max: TOPICS.length - 1 });

// Weighted so that runs publish, deliver and answer often enough to build long streams between the faults.
const lossless = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('publish' as const), topic, keyed: fc.boolean() }), weight: 6 },
  { arbitrary: fc.record({ type: fc.constant('retry' as const), pick: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({ type: fc.constant('deliver' as const), node, count: fc.integer({ min: 1, max: 4 }) }),
    weight: 6,
  },
  { arbitrary: fc.record({ type: fc.constant('drop' as const), node }), weight: 1 },
  {
    arbitrary: fc.record({
      type: fc.constant('answer' as const),
      node,
      count: fc.integer({ min: 1, max: 3 }),
      pick: fc.nat(),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ type: fc.constant('fail-fetch' as const), node }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('pubsub-reconnect' as const), node }), weight: 1 },
  {
    arbitrary: fc.record({
      type: fc.constant('subscribe' as const),
      client,
      topic,
      ahead: fc.oneof(
        { arbitrary: fc.constant(0), weight: 8 },
        { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 },
      ),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ type: fc.constant('unsubscribe' as const), client, topic }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('disconnect' as const), client }), weight: 2 },
);
const lossy = fc.oneof(
  {
    arbitrary: fc.record({ type: fc.constant('trim' as const), topic, keep: fc.integer({ min: 0, max: 3 }) }),
    weight: 3,
  },
  { arbitrary: fc.record({ type: fc.constant('evict' as const), topic }), weight: 1 },
  { arbitrary: fc.constant({ type: 'restart' as const }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('reconnect' as const), node }), weight: 1 },
);
const runs = (command: fc.Arbitrary<Command>) => fc.array(command, { minLength: 10, maxLength: 150, size: 'max' });

interface ClientTopic {
  active: boolean;
  awaiting: boolean;
  since: StreamPosition | undefined;
  /** The `since` sent was forged past the client's real position. */
  forged: boolean;
  /** The client's position, kept across disconnects so it can resubscribe since it. */
  memory: StreamPosition | undefined;
  /** The topic's count of history losses when this client was last told of one (`recovered: false`). */
  toldLosses: number;
}

interface Process {
  readonly core: TopicsCore<number>;
  connected: boolean;
  /** Lost a pub/sub message: its connection broke and has yet to be re-established. */
  broken: boolean;
  readonly channels: Set<string>;
  queue: { topic: string; epoch: string; offset: number; data: Uint8Array }[];
  fetches: { id: number; topic: string; after: number | null; limit: number }[];
}

class World {
  readonly broker = new ModelBroker();
  readonly processes: Process[] = [];
  readonly clients: Map<string, ClientTopic>[] = [];
  /** True once the broker lost history: only then may a `since` go unrecovered. */
  lossy = false;
  /** Per topic, how often the broker lost some of its history (a trim that removed entries, an eviction, a restart). */
  private readonly losses = new Map<string, number>();
  private published = 0;
  private readonly keys: { topic: string; key: string; epoch: string; offset: number }[] = [];

  constructor() {
    for (let i = 0; i < NODES; i++) {
      this.processes.push({
        core: new TopicsCore<number>({ fetchLimit: 2 }),
        connected: true,
        broken: false,
        channels: new Set(),
        queue: [],
        fetches: [],
      });
    }
    for (let i = 0; i < CLIENTS; i++) this.clients.push(new Map());
  }

  private clientTopic(c: number, name: string): ClientTopic {
    const topics = this.clients[c]!;
    let state = topics.get(name);
    if (state === undefined) {
      state = { active: false, awaiting: false, since: undefined, forged: false, memory: undefined, toldLosses: 0 };
      topics.set(name, state);
    }
    return state;
  }

  private pump(index: number): void {
    const process = this.processes[index]!;
    for (let effects = process.core.takeEffects(); effects.length > 0; effects = process.core.takeEffects()) {
      for (const effect of effects) this.apply(process, index, effect);
    }
  }

  private apply(process: Process, index: number, effect: TopicsEffect<number>): void {
    switch (effect.type) {
      case 'broker-subscribe':
        process.channels.add(effect.topic);
        if (process.connected) process.core.brokerSubscribed(effect.topic);
        return;
      case 'broker-unsubscribe':
        process.channels.delete(effect.topic);
        return;
      case 'fetch':
        process.fetches.push({ id: effect.id, topic: effect.topic, after: effect.after, limit: effect.limit });
        return;
      case 'deliver':
        expect(new Set(effect.subscribers).size, 'an audience lists each subscriber once').toBe(
          effect.subscribers.length,
        );
        for (const c of effect.subscribers) {
          expect(c % NODES, 'only this process’s clients').toBe(index);
          const state = this.clientTopic(c, effect.topic);
          const where = `client ${c} ${effect.topic}`;
          expect(state.active && !state.awaiting, `${where}: delivery only to a subscribed client`).toBe(true);
          expect(state.memory?.epoch, `${where}: delivery in the client's epoch`).toBe(effect.epoch);
          expect(effect.publication.offset, `${where}: no gap, no duplicate`).toBe(state.memory!.offset + 1);
          this.expectMinted(effect.topic, effect.epoch, effect.publication.offset, effect.publication.data);
          state.memory = { epoch: effect.epoch, offset: effect.publication.offset };
        }
        return;
      case 'subscribed': {
        const state = this.clientTopic(effect.subscriber, effect.topic);
        const where = `client ${effect.subscriber} ${effect.topic}`;
        expect(state.active, `${where}: subscribed only while subscribed`).toBe(true);
        if (effect.recovered) {
          expect(state.awaiting, `${where}: recovered only in reply to a subscribe`).toBe(true);
          expect(state.since, `${where}: recovered only with since`).toBeDefined();
          expect(effect.epoch, `${where}: recovered in the since epoch`).toBe(state.since!.epoch);
          let offset = state.since!.offset;
          for (const publication of effect.publications) {
            expect(publication.offset, `${where}: recovered run is contiguous`).toBe(offset + 1);
            this.expectMinted(effect.topic, effect.epoch, publication.offset, publication.data);
            offset = publication.offset;
          }
          expect(effect.offset, `${where}: offset is the end of the recovered run`).toBe(offset);
          if (effect.offset > 0) this.expectMinted(effect.topic, effect.epoch, effect.offset);
        } else {
          expect(effect.publications, `${where}: nothing claimed without recovery`).toEqual([]);
          const fresh = state.awaiting && (state.since === undefined || state.forged);
          if (!fresh) {
            expect(this.lossy, `${where}: recovered:false only after the broker lost history`).toBe(true);
            // Two notices for one loss make the application reload twice where once was enough.
            const losses = this.losses.get(effect.topic) ?? 0;
            expect(losses, `${where}: at most one recovered:false per loss of history`).toBeGreaterThan(
              state.toldLosses,
            );
            state.toldLosses = losses;
          }
          if (state.awaiting && state.since !== undefined && !state.forged) {
            // Continuity was intact at `since`: such an answer can only be `recovered: true`, or a position elsewhere.
            expect(
              { epoch: effect.epoch, offset: effect.offset },
              `${where}: recovered:false does not name the since it refuses`,
            ).not.toEqual(state.since);
          }
          if (effect.offset > 0) this.expectMinted(effect.topic, effect.epoch, effect.offset);
        }
        state.awaiting = false;
        state.memory = { epoch: effect.epoch, offset: effect.offset };
        return;
      }
    }
  }

  private expectMinted(name: string, epoch: string, offset: number, data?: Uint8Array): void {
    const minted = this.broker.ledger.get(`${name}/${epoch}/${offset}`);
    expect(minted, `${name} ${epoch}:${offset} was published`).toBeDefined();
    if (data !== undefined) expect(data, `${name} ${epoch}:${offset} carries its own bytes`).toEqual(minted);
  }

  private send(name: string, epoch: string, offset: number, data: Uint8Array): void {
    for (const process of this.processes) {
      if (process.connected && process.channels.has(name)) process.queue.push({ topic: name, epoch, offset, data });
    }
  }

  run(command: Command): void {
    switch (command.type) {
      case 'publish': {
        const name = TOPICS[command.topic]!;
        const data = new Uint8Array(new Uint32Array([++this.published]).buffer);
        const key = command.keyed ? `k${this.published}` : undefined;
        const minted = this.broker.publish(name, data, key);
        expect(minted.duplicate).toBe(false);
        if (key !== undefined) this.keys.push({ topic: name, key, epoch: minted.epoch, offset: minted.offset });
        this.send(name, minted.epoch, minted.offset, data);
        return;
      }
      case 'retry': {
        if (this.keys.length === 0) return;
        const original = this.keys[command.pick % this.keys.length]!;
        const minted = this.broker.publish(original.topic, new Uint8Array([0xff]), original.key);
        // Within its epoch a retried publish is never minted twice; after the history was lost it is new.
        if (minted.epoch === original.epoch) {
          expect(minted).toEqual({ epoch: original.epoch, offset: original.offset, duplicate: true });
        } else {
          expect(minted.duplicate).toBe(false);
          this.keys[command.pick % this.keys.length] = { ...original, epoch: minted.epoch, offset: minted.offset };
          this.send(original.topic, minted.epoch, minted.offset, new Uint8Array([0xff]));
        }
        return;
      }
      case 'deliver': {
        const process = this.processes[command.node]!;
        for (let i = 0; i < command.count; i++) {
          const message = process.queue.shift();
          if (message === undefined) break;
          process.core.brokerPublication(message.topic, message.epoch, { offset: message.offset, data: message.data });
          this.pump(command.node);
        }
        return;
      }
      case 'drop': {
        // Pub/sub over TCP loses a message only with its connection: the process reconnects later (at the latest in heal).
        const process = this.processes[command.node]!;
        if (process.queue.shift() !== undefined) process.broken = true;
        return;
      }
      case 'answer': {
        const process = this.processes[command.node]!;
        for (let i = 0; i < command.count; i++) {
          if (process.fetches.length === 0) break;
          const [fetch] = process.fetches.splice((command.pick ?? 0) % process.fetches.length, 1);
          if (fetch === undefined) break;
          process.core.historyResult(fetch.id, this.broker.read(fetch.topic, fetch.after, fetch.limit));
          this.pump(command.node);
        }
        return;
      }
      case 'fail-fetch': {
        const process = this.processes[command.node]!;
        const fetch = process.fetches.shift();
        if (fetch === undefined) return;
        process.core.historyFailed(fetch.id);
        this.pump(command.node);
        return;
      }
      case 'pubsub-reconnect':
      case 'reconnect': {
        const process = this.processes[command.node]!;
        if (command.type === 'reconnect' && process.connected) return;
        // Whatever was in flight on the old connection is gone.
        process.queue = [];
        process.connected = true;
        process.broken = false;
        process.core.brokerReconnected();
        this.pump(command.node);
        return;
      }
      case 'subscribe': {
        const name = TOPICS[command.topic]!;
        const state = this.clientTopic(command.client, name);
        state.active = true;
        state.awaiting = true;
        state.forged = command.ahead > 0;
        const real = state.memory ?? { epoch: 'e1', offset: 0 };
        state.since = state.forged ? { epoch: real.epoch, offset: real.offset + command.ahead } : state.memory;
        this.processes[command.client % NODES]!.core.subscribe(command.client, name, state.since);
        this.pump(command.client % NODES);
        return;
      }
      case 'unsubscribe': {
        const name = TOPICS[command.topic]!;
        this.clientTopic(command.client, name).active = false;
        this.processes[command.client % NODES]!.core.unsubscribe(command.client, name);
        this.pump(command.client % NODES);
        return;
      }
      case 'disconnect':
        for (const state of this.clients[command.client]!.values()) state.active = false;
        this.processes[command.client % NODES]!.core.disconnect(command.client);
        this.pump(command.client % NODES);
        return;
      case 'trim':
        if (this.broker.trim(TOPICS[command.topic]!, command.keep)) this.lose(TOPICS[command.topic]!);
        return;
      case 'evict':
        if (this.broker.evict(TOPICS[command.topic]!)) this.lose(TOPICS[command.topic]!);
        return;
      case 'restart':
        this.broker.restart();
        for (const name of TOPICS) this.lose(name);
        for (const process of this.processes) {
          process.connected = false;
          process.queue = [];
        }
        return;
    }
  }

  private lose(name: string): void {
    this.lossy = true;
    this.losses.set(name, (this.losses.get(name) ?? 0) + 1);
  }

  /** Every fault ends: processes reconnect, and every message and read is answered. */
  heal(): void {
    for (let i = 0; i < NODES; i++) {
      const process = this.processes[i]!;
      if (!process.connected || process.broken) this.run({ type: 'pubsub-reconnect', node: i });
    }
    for (let round = 0; ; round++) {
      expect(round, 'the processes settle').toBeLessThan(10_000);
      let progress = false;
      for (let i = 0; i < NODES; i++) {
        const process = this.processes[i]!;
        if (process.queue.length > 0 || process.fetches.length > 0) progress = true;
        this.run({ type: 'deliver', node: i, count: process.queue.length });
        this.run({ type: 'answer', node: i, count: process.fetches.length });
      }
      if (!progress) break;
    }
    for (let c = 0; c < CLIENTS; c++) {
      for (const [name, state] of this.clients[c]!) {
        if (!state.active) continue;
        expect(state.awaiting, `client ${c} ${name} got its subscribed reply`).toBe(false);
        const { epoch, latest } = this.broker.current(name);
        // An epoch with nothing published yet is only learnt of with its first publication; there is nothing to miss.
        if (latest === 0) continue;
        expect(state.memory, `client ${c} ${name} caught up with the broker`).toEqual({ epoch, offset: latest });
      }
    }
  }
}

/** Runs that once failed (the harness or the core), kept so they are checked on every run. */
const losslessExamples: [Command[]][] = [
  // A message lost on a connection that was never seen to break: the reconnect's history read must bring it back.
  [
    [
      { type: 'subscribe', client: 0, topic: 1, ahead: 0 },
      { type: 'answer', node: 0, count: 1 },
      { type: 'publish', topic: 1, keyed: false },
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
      { type: 'unsubscribe', client: 0, topic: 0 },
      { type: 'drop', node: 0 },
      { type: 'pubsub-reconnect', node: 1 },
    ],
  ],
];
const lossyExamples: [Command[]][] = [
  // An epoch reset with nothing published in the new epoch: there is nothing to miss, and nothing to report yet.
  [
    [
      { type: 'subscribe', client: 0, topic: 1, ahead: 0 },
      { type: 'answer', node: 0, count: 1 },
      { type: 'evict', topic: 1 },
    ],
  ],
  // A publisher retry after a restart mints once in the new epoch, then is a duplicate there.
  [
    [
      { type: 'publish', topic: 0, keyed: true },
      { type: 'restart' },
      { type: 'retry', pick: 0 },
      { type: 'retry', pick: 0 },
      { type: 'disconnect', client: 0 },
      { type: 'pubsub-reconnect', node: 0 },
      { type: 'restart' },
      { type: 'publish', topic: 0, keyed: false },
      { type: 'publish', topic: 0, keyed: false },
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
      { type: 'deliver', node: 0, count: 1 },
    ],
  ],
  // A resubscribe whose read saw the restarted broker's new epoch while the process still held the old one: it was
  // answered recovered:false at its own since, in the old epoch, then moved to the new epoch with a second one.
  [
    [
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
      { type: 'answer', node: 0, count: 1, pick: 0 },
      { type: 'publish', topic: 0, keyed: false },
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
      { type: 'fail-fetch', node: 0 },
      { type: 'restart' },
      { type: 'deliver', node: 0, count: 1 },
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
      { type: 'deliver', node: 0, count: 1 },
      { type: 'answer', node: 0, count: 1, pick: 0 },
    ],
  ],
  // A resubscribe whose read met a trim the process, behind on pub/sub, had yet to meet: answered recovered:false at
  // the process's stale position, it was told of the same trim again when the process reached it.
  [
    [
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
      { type: 'answer', node: 0, count: 1, pick: 0 },
      { type: 'publish', topic: 0, keyed: false },
      { type: 'drop', node: 0 },
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
      { type: 'publish', topic: 0, keyed: false },
      { type: 'trim', topic: 0, keep: 0 },
      { type: 'publish', topic: 0, keyed: false },
      { type: 'evict', topic: 1 },
      { type: 'unsubscribe', client: 1, topic: 0 },
      { type: 'publish', topic: 0, keyed: false },
      { type: 'publish', topic: 0, keyed: false },
      { type: 'reconnect', node: 0 },
      { type: 'subscribe', client: 0, topic: 0, ahead: 0 },
    ],
  ],
];

function runAll(commands: readonly Command[]): void {
  const world = new World();
  for (const command of commands) world.run(command);
  world.heal();
}

describe('the topics core against a model broker', () => {
  it('never loses, duplicates or reorders a publication when the broker keeps its history', () => {
    fc.assert(
      fc.property(runs(lossless), (commands) => runAll(commands)),
      { numRuns: 1000, examples: losslessExamples },
    );
  });

  it('reports every loss of history as recovered:false and never skips silently', () => {
    fc.assert(
      fc.property(runs(fc.oneof({ arbitrary: lossless, weight: 6 }, { arbitrary: lossy, weight: 1 })), (commands) =>
        runAll(commands),
      ),
      { numRuns: 1000, examples: lossyExamples },
    );
  });
});
