/**
 * What an idle connection keeps: a server may hold tens of thousands of
 * them, so after a message has been delivered a connection must not pin the
 * chunk it came in, its message buffer or a write buffer of its own.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { concat } from 'uint8arrays/concat';
import { Connection } from '../src/index.js';
import { seededRandom } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function bytesPerConnection(make: () => Connection, count = 2000): number {
  gc();
  gc();
  const before = process.memoryUsage();
  const held: Connection[] = [];
  for (let i = 0; i < count; i++) held.push(make());
  gc();
  gc();
  const after = process.memoryUsage();
  expect(held).toHaveLength(count);
  return (after.heapUsed + after.external - before.heapUsed - before.external) / count;
}

describe('memory held by an idle connection', () => {
  const client = new Connection({ role: 'client', random: seededRandom(1) });
  client.send({ type: 'text', data: 'x'.repeat(16 * 1024) });
  client.send({ type: 'binary', data: new Uint8Array(300) });
  const frames = concat(client.takeOutgoing());

  it('is a few KiB after receiving and answering a 16 KiB message (not the 16 KiB chunk it came in)', () => {
    const perConnection = bytesPerConnection(() => {
      const conn = new Connection({ role: 'server' });
      conn.receive(frames.slice());
      const types = [conn.nextEvent()?.type, conn.nextEvent()?.type];
      if (types.join() !== 'text,binary') throw new Error(`expected text and binary, got ${types.join()}`);
      conn.send({ type: 'text', data: 'ok' });
      conn.takeOutgoing();
      return conn;
    });
    expect(perConnection).toBeLessThan(4 * 1024);
  });

  it('is a few KiB after a message that arrived in pieces (the message buffer is not kept)', () => {
    const perConnection = bytesPerConnection(() => {
      const conn = new Connection({ role: 'server' });
      conn.receive(frames.slice(0, 5000));
      conn.receive(frames.slice(5000));
      for (let ev = conn.nextEvent(); ev; ev = conn.nextEvent());
      return conn;
    });
    expect(perConnection).toBeLessThan(4 * 1024);
  });
});
