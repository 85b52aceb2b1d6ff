/**
 * Redis Cluster hashes only the part of a key between the first `{` and the
 * first `}` after it (the hash tag). Every key and the channel of one topic
 * must have the same, non-empty tag, so one slot holds them all, whatever
 * braces or percent signs the topic contains; different topics get different
 * tags, so topics spread over the cluster.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topicKeys } from '../src/index.js';

/** The hash tag as the Cluster specification defines it, or the whole key when there is none. */
function clusterHashPart(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

const topic = fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom('{', '}', '%', 'a', 'b', ':', '7') });

describe('the key layout', () => {
  it('puts every key and the channel of a topic in one Cluster slot', () => {
    fc.assert(
      fc.property(topic, fc.string({ maxLength: 10 }), (name, idempotencyKey) => {
        const keys = topicKeys('app:', name);
        const parts = [keys.meta, keys.stream, keys.channel, keys.idempotency(idempotencyKey)].map(clusterHashPart);
        expect(new Set(parts).size).toBe(1);
        expect(keys.meta).not.toBe(parts[0]);
      }),
      {
        examples: [
          ['}', ''],
          ['{}', 'x}'],
          ['%7D', ''],
        ],
      },
    );
  });

  it('gives different topics different tags', () => {
    fc.assert(
      fc.property(topic, topic, (one, other) => {
        fc.pre(one !== other);
        expect(clusterHashPart(topicKeys('p:', one).stream)).not.toBe(clusterHashPart(topicKeys('p:', other).stream));
      }),
      {
        examples: [
          ['}', '%7D'],
          ['{', '%7B'],
        ],
      },
    );
  });

  it('spells the keys as the README documents', () => {
    const keys = topicKeys('rfc6455:topics:', 'chat{1}');
    expect([keys.meta, keys.stream, keys.channel, keys.idempotency('req-7')]).toEqual([
      'rfc6455:topics:{chat%7B1%7D}:meta',
      'rfc6455:topics:{chat%7B1%7D}:stream',
      'rfc6455:topics:{chat%7B1%7D}:pub',
      'rfc6455:topics:{chat%7B1%7D}:idem:req-7',
    ]);
  });
});
