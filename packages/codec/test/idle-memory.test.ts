/**
 * What an idle open endpoint keeps: a server may hold tens of thousands of
 * them, so after a message has been delivered an endpoint must not pin the
 * chunk it came in, its message buffer, a write buffer of its own, or
 * anything of the opening handshake it went through.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import type { Endpoint } from '../src/index.js';
import { openPair, seededRandom } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function bytesPerEndpoint(make: () => Endpoint, count = 2000): number {
  gc();
  gc();
  const before = process.memoryUsage();
  const held: Endpoint[] = [];
  for (let i = 0; i < count; i++) held.push(make());
  gc();
  gc();
  const after = process.memoryUsage();
  expect(held).toHaveLength(count);
  expect(held.every((e) => e.state === 'open')).toBe(true);
  return (after.heapUsed + after.external - before.heapUsed - before.external) / count;
}

describe('memory held by an idle open server endpoint', () => {
  const { client } = openPair({ client: { random: seededRandom(1) } });
  client.send({ type: 'text', data: 'x'.repeat(16 * 1024) });
  client.send({ type: 'binary', data: new Uint8Array(300) });
  const frames = concat(client.takeOutgoing());

  it('is a few KiB after receiving and answering a 16 KiB message (not the 16 KiB chunk it came in)', () => {
    const perEndpoint = bytesPerEndpoint(() => {
      const { server } = openPair();
      server.receive(frames.slice());
      const types = [server.nextEvent()?.type, server.nextEvent()?.type];
      if (types.join() !== 'text,binary') throw new Error(`expected text and binary, got ${types.join()}`);
      server.send({ type: 'text', data: 'ok' });
      server.takeOutgoing();
      return server;
    });
    expect(perEndpoint).toBeLessThan(4 * 1024);
  });

  it('is a few KiB after a message that arrived in pieces (the message buffer is not kept)', () => {
    const perEndpoint = bytesPerEndpoint(() => {
      const { server } = openPair();
      server.receive(frames.slice(0, 5000));
      server.receive(frames.slice(5000));
      for (let ev = server.nextEvent(); ev; ev = server.nextEvent());
      return server;
    });
    expect(perEndpoint).toBeLessThan(4 * 1024);
  });
});
