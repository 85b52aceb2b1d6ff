/**
 * MemoryTopics, the single-process hub: publications reach every subscriber
 * once and in order, a `since` is recovered exactly when retention still
 * holds what follows it, and retried publishes are minted once within the
 * idempotency window.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryTopics, type StreamPosition } from '../src/index.js';

const MAX_LENGTH = 4;
const TTL = 100;

type Command =
  | { readonly type: 'publish'; readonly topic: number; readonly key: number | null }
  | { readonly type: 'subscribe'; readonly client: number; readonly topic: number; readonly since: boolean }
  | { readonly type: 'unsubscribe'; readonly client: number; readonly topic: number }
  | { readonly type: 'disconnect'; readonly client: number }
  | { readonly type: 'tick'; readonly ms: number };

const client = fc.integer({ min: 0, max: 2 });
const topic = fc.integer({ min: 0, max: 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    arbitrary: fc.record({
      type: fc.constant('publish' as const),
      topic,
      key: fc.option(fc.integer({ min: 0, max: 3 })),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ type: fc.constant('subscribe' as const), client, topic, since: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('unsubscribe' as const), client, topic }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('disconnect' as const), client }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 80 }) }), weight: 1 },
);

describe('MemoryTopics', () => {
  it('delivers in order, recovers what retention holds, and mints a retried publish once', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 5, maxLength: 100, size: 'max' }), (commands) => {
        let now = 0;
        const positions = new Map<string, StreamPosition>();
        const memory = new Map<string, StreamPosition>();
        const active = new Set<string>();
        const latest = [0, 0];
        const data = new Map<string, string>();
        const keys = new Map<string, { offset: number; at: number }>();
        let expected: { recovered: boolean; offset: number } | undefined;
        const topics = new MemoryTopics<number>({
          maxLength: MAX_LENGTH,
          idempotencyTtlMs: TTL,
          clock: () => now,
          epoch: 'e1',
          onSubscribed(effect) {
            const at = `${effect.subscriber}/${effect.topic}`;
            expect(active.has(at)).toBe(true);
            expect(expected, `${at}: the answer comes during subscribe`).toBeDefined();
            expect([effect.recovered, effect.offset]).toEqual([expected!.recovered, expected!.offset]);
            let offset = positions.get(at)?.offset ?? 0;
            for (const p of effect.publications) {
              expect(p.offset).toBe(++offset);
              expect(new TextDecoder().decode(p.data)).toBe(data.get(`${effect.topic}/${p.offset}`));
            }
            positions.set(at, { epoch: effect.epoch, offset: effect.offset });
            expected = undefined;
          },
          onDeliver(effect) {
            for (const c of effect.subscribers) {
              const at = `${c}/${effect.topic}`;
              expect(active.has(at)).toBe(true);
              expect(effect.publication.offset, `${at}: the next offset`).toBe(positions.get(at)!.offset + 1);
              positions.set(at, { epoch: effect.epoch, offset: effect.publication.offset });
            }
          },
        });
        for (const cmd of commands) {
          if (cmd.type === 'tick') now += cmd.ms;
          else if (cmd.type === 'publish') {
            const name = `t${cmd.topic}`;
            const key = cmd.key === null ? undefined : `k${cmd.key}`;
            const seen = key === undefined ? undefined : keys.get(`${name}/${key}`);
            const result = topics.publish(name, new TextEncoder().encode(`${name} ${latest[cmd.topic]! + 1}`), {
              ...(key === undefined ? {} : { idempotencyKey: key }),
            });
            if (seen !== undefined && now - seen.at < TTL) {
              expect(result).toEqual({ epoch: 'e1', offset: seen.offset, duplicate: true });
            } else {
              expect(result).toEqual({ epoch: 'e1', offset: ++latest[cmd.topic]!, duplicate: false });
              data.set(`${name}/${result.offset}`, `${name} ${result.offset}`);
              if (key !== undefined) keys.set(`${name}/${key}`, { offset: result.offset, at: now });
            }
            for (const [at, position] of positions) {
              if (active.has(at) && at.endsWith(`/${name}`)) expect(position.offset).toBe(latest[cmd.topic]);
            }
          } else if (cmd.type === 'subscribe') {
            const name = `t${cmd.topic}`;
            const at = `${cmd.client}/${name}`;
            const since = cmd.since ? memory.get(at) : undefined;
            const top = latest[cmd.topic]!;
            const firstKept = Math.max(1, top - MAX_LENGTH + 1);
            const recovered = since !== undefined && since.offset >= firstKept - 1;
            expected = { recovered, offset: top };
            active.add(at);
            positions.delete(at);
            if (since !== undefined) positions.set(at, since);
            topics.subscribe(cmd.client, name, since);
            expect(expected, `${at}: answered at once`).toBeUndefined();
          } else if (cmd.type === 'unsubscribe') {
            const at = `${cmd.client}/t${cmd.topic}`;
            if (positions.has(at)) memory.set(at, positions.get(at)!);
            active.delete(at);
            positions.delete(at);
            topics.unsubscribe(cmd.client, `t${cmd.topic}`);
          } else {
            for (const at of [...active]) {
              if (!at.startsWith(`${cmd.client}/`)) continue;
              if (positions.has(at)) memory.set(at, positions.get(at)!);
              active.delete(at);
              positions.delete(at);
            }
            topics.disconnect(cmd.client);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('answers a since from before a restart with recovered: false', () => {
    const answers: boolean[] = [];
    const handlers = { onDeliver() {}, onSubscribed: (e: { recovered: boolean }) => answers.push(e.recovered) };
    const before = new MemoryTopics<string>(handlers);
    const { epoch, offset } = before.publish('t', new Uint8Array([1]));
    before.subscribe('a', 't', { epoch, offset: offset - 1 });
    const after = new MemoryTopics<string>(handlers);
    after.publish('t', new Uint8Array([1]));
    after.subscribe('a', 't', { epoch, offset });
    expect(after.epoch).not.toBe(before.epoch);
    expect(answers).toEqual([true, false]);
  });

  it('refuses use after close with a typed error', () => {
    const topics = new MemoryTopics<string>({ onDeliver() {}, onSubscribed() {} });
    topics.close();
    expect(() => topics.publish('t', new Uint8Array())).toThrow(
      expect.objectContaining({ name: 'TopicsUsageError', code: 'ERR_INVALID_STATE' }),
    );
    expect(() => topics.subscribe('a', 't')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
  });

  it('finishes carrying out effects when a callback throws, then throws its error', () => {
    const seen: string[] = [];
    const topics = new MemoryTopics<string>({
      onSubscribed: (e) => seen.push(`subscribed ${e.subscriber}`),
      onDeliver: (e) => {
        seen.push(`deliver ${e.publication.offset} to ${e.subscribers.join()}`);
        if (e.topic === 't' && e.publication.offset === 1) throw new Error('app bug');
      },
    });
    topics.subscribe('a', 't');
    topics.subscribe('b', 'u');
    expect(() => topics.publish('t', new Uint8Array([1]))).toThrow('app bug');
    topics.publish('t', new Uint8Array([2]));
    topics.publish('u', new Uint8Array([1]));
    expect(seen).toEqual(['subscribed a', 'subscribed b', 'deliver 1 to a', 'deliver 2 to a', 'deliver 1 to b']);
  });

  it('does not drop the effects taken with one that throws', () => {
    const seen: string[] = [];
    const topics: MemoryTopics<string> = new MemoryTopics<string>({
      onDeliver() {},
      onSubscribed(e) {
        seen.push(e.subscriber);
        // Subscribes made inside a callback are answered in the next batch, b and c together.
        if (e.subscriber === 'a') {
          topics.subscribe('b', 't');
          topics.subscribe('c', 't');
        }
        if (e.subscriber === 'b') throw new Error('app bug');
      },
    });
    expect(() => topics.subscribe('a', 't')).toThrow('app bug');
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});
