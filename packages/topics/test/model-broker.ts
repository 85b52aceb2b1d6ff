/**
 * A reference model of the broker the topics core talks to: per topic an
 * epoch, a counter, a stream of stored entries trimmed from the front, and an
 * idempotency table; pub/sub delivery in order to each connected process.
 * It mirrors the Redis adapter's Lua scripts, in memory.
 */
import type { HistoryResult, Publication } from '../src/index.js';

interface ModelTopic {
  readonly epoch: string;
  latest: number;
  entries: Publication[];
  readonly idempotency: Map<string, number>;
}

export interface Minted {
  readonly epoch: string;
  readonly offset: number;
  readonly duplicate: boolean;
}

export class ModelBroker {
  private epochs = 0;
  private readonly topics = new Map<string, ModelTopic>();
  /** Every publication ever minted, by `topic/epoch/offset`: what a delivery must carry. */
  readonly ledger = new Map<string, Uint8Array>();

  private topic(name: string): ModelTopic {
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = { epoch: `e${++this.epochs}`, latest: 0, entries: [], idempotency: new Map() };
      this.topics.set(name, topic);
    }
    return topic;
  }

  publish(name: string, data: Uint8Array, key?: string): Minted {
    const topic = this.topic(name);
    if (key !== undefined) {
      const offset = topic.idempotency.get(key);
      if (offset !== undefined) return { epoch: topic.epoch, offset, duplicate: true };
    }
    const offset = ++topic.latest;
    topic.entries.push({ offset, data });
    this.ledger.set(`${name}/${topic.epoch}/${offset}`, data);
    if (key !== undefined) topic.idempotency.set(key, offset);
    return { epoch: topic.epoch, offset, duplicate: false };
  }

  read(name: string, after: number | null, limit: number): HistoryResult {
    const topic = this.topic(name);
    const publications =
      after === null ? [] : topic.entries.filter((entry) => entry.offset > after).slice(0, Math.max(0, limit));
    return { epoch: topic.epoch, latest: topic.latest, publications };
  }

  /** Keeps the newest `keep` entries; true if any were removed. */
  trim(name: string, keep: number): boolean {
    const topic = this.topics.get(name);
    if (topic === undefined || topic.entries.length <= keep) return false;
    topic.entries = topic.entries.slice(topic.entries.length - keep);
    return true;
  }

  /** The topic's keys vanish (eviction, or a restart without persistence): the next use starts a new epoch. */
  evict(name: string): boolean {
    return this.topics.delete(name);
  }

  restart(): void {
    this.topics.clear();
  }

  current(name: string): { epoch: string; latest: number } {
    const topic = this.topic(name);
    return { epoch: topic.epoch, latest: topic.latest };
  }
}
