/**
 * `rfc6455 decode --pcap` against tshark on real loopback captures: the
 * project's server talking to `ws` and to the project's client, with and
 * without permessage-deflate, captured by dumpcap. Every frame tshark's
 * `websocket` dissector finds must be one we find, in the same packet, with
 * the same FIN, RSV bits, opcode, MASK, payload length, masking key and
 * unmasked payload, and no frame of ours may be missing from tshark's list.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket as ProjectWebSocket } from '@rfc6455/browser-client/node';
import { WebSocketServer } from '@rfc6455/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  captureOrSkip,
  decodeJson,
  frameLine,
  type JsonRecord,
  ourFrames,
  skipReason,
  tsharkFrames,
} from './pcap-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rfc6455-pcap-'));
const file = join(dir, 'loopback.pcapng');
let port = 0;
let unavailable: string | null = null;
/** What each connection's application sent, to find again in the dissection. */
const sentText = [
  'hello',
  'x'.repeat(200),
  'The quick brown fox jumps over the lazy dog. '.repeat(60),
  'héllo wörld ✓',
];
const sentBinary = [new Uint8Array(70_000).fill(7), Uint8Array.from([1, 2, 3, 0, 255])];

async function wsTraffic(url: string, deflate: boolean): Promise<void> {
  const ws = new WebSocket(url, { perMessageDeflate: deflate });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const echoes = sentText.length + sentBinary.length + 1;
  let got = 0;
  const done = new Promise<void>((resolve) => ws.on('message', () => ++got === echoes && resolve()));
  for (const text of sentText) ws.send(text);
  for (const bytes of sentBinary) ws.send(bytes);
  // A fragmented text message: three frames.
  ws.send('frag-', { fin: false });
  ws.send('ment-', { fin: false });
  ws.send('ed', { fin: true });
  ws.ping('are you there');
  await done;
  ws.close(1000, 'done');
  await new Promise((resolve) => ws.once('close', resolve));
}

async function projectTraffic(url: string): Promise<void> {
  const ws = new ProjectWebSocket(url);
  ws.binaryType = 'arraybuffer';
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  let got = 0;
  const echoes = sentText.length + sentBinary.length;
  const done = new Promise<void>((resolve) => ws.addEventListener('message', () => ++got === echoes && resolve()));
  for (const text of sentText) ws.send(text);
  for (const bytes of sentBinary) ws.send(bytes);
  await done;
  ws.close(4000, 'project client done');
  await new Promise((resolve) => ws.addEventListener('close', resolve, { once: true }));
}

beforeAll(async () => {
  unavailable = await skipReason();
  if (unavailable !== null) return;
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  port = (server.address() as AddressInfo).port;
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const capture = await captureOrSkip(port, file);
  if (typeof capture === 'string') {
    unavailable = capture;
    await server.close();
    return;
  }
  try {
    await wsTraffic(`ws://127.0.0.1:${port}/plain`, false);
    await wsTraffic(`ws://127.0.0.1:${port}/deflate`, true);
    await projectTraffic(`ws://127.0.0.1:${port}/project`);
  } finally {
    await capture.stop();
    await server.close();
  }
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('decode --pcap on a loopback capture, against tshark', () => {
  it('finds the same frames as tshark, field by field', async (ctx) => {
    if (unavailable !== null) ctx.skip(unavailable);
    const [oracle, ours] = await Promise.all([tsharkFrames(file, port), decodeJson(file)]);
    const frames = ourFrames(ours.records);
    // 3 connections: 2 × (6 messages, 3 fragments, ping, pong, 2 closes, their echoes) and the project client's.
    expect(frames.map(frameLine)).toEqual(oracle.map(frameLine));
    expect(oracle.length).toBe(54);
    // tshark inflates permessage-deflate too: its text of each compressed one-frame text message is ours.
    const theirs = oracle.filter((f) => f.inflatedText !== null).map((f) => f.inflatedText);
    const inflated = ours.records
      .map((r) => r.record as JsonRecord | undefined)
      .filter((m) => m?.kind === 'message' && m.compressed === true && m.type === 'text' && m.frames === 1)
      .map((m) => m?.data);
    expect(theirs.length).toBeGreaterThan(3);
    expect(inflated).toEqual(theirs);
    expect(ours.code).toBe(0);
    console.info(
      `tshark comparison: ${oracle.length} frames × 9 fields (packet, direction, FIN, RSV, opcode, MASK, length, key, payload) compared, ${frames.filter((f) => (f.rsv & 4) !== 0).length} compressed, ${theirs.length} inflated texts`,
    );
  });

  it('reports the handshakes with their accept-key checks and the messages each application sent', async (ctx) => {
    if (unavailable !== null) ctx.skip(unavailable);
    const { records } = await decodeJson(file);
    const connections = records.filter((r) => r.type === 'connection');
    expect(connections.map((c) => [c.protocol, c.seen])).toEqual([
      ['websocket', 'from-syn'],
      ['websocket', 'from-syn'],
      ['websocket', 'from-syn'],
    ]);
    const ws = (kind: string) =>
      records
        .filter((r) => r.type === 'websocket' && (r.record as JsonRecord).kind === kind)
        .map((r) => ({ ...r, ...(r.record as JsonRecord) }));
    expect(ws('http-response').map((r) => [r.status, r.acceptMatches])).toEqual([
      [101, true],
      [101, true],
      [101, true],
    ]);
    // Deflate agreed on the second (ws with deflate) and third (the project's client offers it like a browser).
    expect(ws('http-response').map((r) => r.deflate !== null)).toEqual([false, true, true]);
    const clientMessages = ws('message').filter((m) => m.from === 'client');
    const texts = clientMessages.filter((m) => m.type === 'text').map((m) => m.data);
    expect(texts).toEqual([...sentText, 'frag-ment-ed', ...sentText, 'frag-ment-ed', ...sentText]);
    const binaries = clientMessages.filter((m) => m.type === 'binary').map((m) => (m.data as { hex: string }).hex);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(binaries).toEqual([0, 1, 2].flatMap(() => sentBinary.map(hex)));
    // Compressed messages were inflated with context takeover: the 70 KB of 7s travelled as a few hundred bytes.
    const big = clientMessages.find((m) => m.compressed === true && m.length === 70_000);
    expect(big?.wireLength).toBeLessThan(1000);
    const closes = ws('frame')
      .filter((f) => f.opcode === 8)
      .map((f) => [f.from, (f.close as { code: number }).code]);
    expect(closes).toEqual([
      ['client', 1000],
      ['server', 1000],
      ['client', 1000],
      ['server', 1000],
      ['client', 4000],
      ['server', 4000],
    ]);
  });
});
