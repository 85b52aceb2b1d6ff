/**
 * A real Socket.IO server and client exchange events (text, binary, acks,
 * a second namespace) while dumpcap captures them: one client stays on
 * long-polling, the other starts on polling and upgrades to WebSocket.
 * `decode --pcap` must find in the capture exactly the events the
 * application code emitted, with their namespaces and ack ids, say which
 * transport carried them, and show where the second session upgraded. The
 * WebSocket frames underneath are also checked against tshark.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captureOrSkip,
  decodeJson,
  frameLine,
  type JsonRecord,
  ourFrames,
  skipReason,
  tsharkFrames,
} from './pcap-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rfc6455-sio-'));
const file = join(dir, 'socketio.pcapng');
let port = 0;
let unavailable: string | null = null;

interface Emitted {
  readonly from: 'client' | 'server';
  readonly transport: 'polling' | 'websocket';
  readonly namespace: string;
  readonly args: unknown[];
}
/** Every event the application code below emitted, in order per sender. */
const emitted: Emitted[] = [];
/** Ack answers: [transport, data]. */
const acks: { transport: 'polling' | 'websocket'; data: unknown[] }[] = [];
let upgradedSid = '';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

/** One session's script: events with and without binary, an ack, an event back from the server. */
async function converse(socket: Socket, transport: 'polling' | 'websocket', tag: string): Promise<void> {
  const welcome = new Promise<void>((resolve) => socket.once('welcome', () => resolve()));
  const blob = new Promise<void>((resolve) => socket.once('blob', () => resolve()));
  socket.emit('hello', `from ${tag}`, 42, { nested: [true, null] });
  emitted.push({
    from: 'client',
    transport,
    namespace: '/',
    args: ['hello', `from ${tag}`, 42, { nested: [true, null] }],
  });
  const bytes = Uint8Array.from([0, 1, 2, 250, 251, tag.length]);
  socket.emit('upload', { name: `${tag}.bin` }, bytes);
  emitted.push({
    from: 'client',
    transport,
    namespace: '/',
    args: ['upload', { name: `${tag}.bin` }, { hex: hex(bytes) }],
  });
  const answer = await socket.emitWithAck('sum', 2, 40);
  emitted.push({ from: 'client', transport, namespace: '/', args: ['sum', 2, 40] });
  acks.push({ transport, data: [answer] });
  await Promise.all([welcome, blob]);
}

beforeAll(async () => {
  unavailable = await skipReason();
  if (unavailable !== null) return;
  const http = createServer();
  const server = new Server(http, { connectionStateRecovery: {} });
  server.on('connection', (socket) => {
    socket.on('sum', (a: number, b: number, ack: (n: number) => void) => {
      ack(a + b);
      // The server's own events, once the client's are in.
      const current = socket.conn.transport.name as 'polling' | 'websocket';
      socket.emit('welcome', { transport: current });
      emitted.push({ from: 'server', transport: current, namespace: '/', args: ['welcome', { transport: current }] });
      const blob = Uint8Array.from([9, 8, 7]);
      socket.emit('blob', blob);
      emitted.push({ from: 'server', transport: current, namespace: '/', args: ['blob', { hex: hex(blob) }] });
    });
  });
  server.of('/chat').on('connection', (socket) => {
    socket.on('say', (text: string) => socket.emit('said', text.toUpperCase()));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
  const capture = await captureOrSkip(port, file);
  if (typeof capture === 'string') {
    unavailable = capture;
    await server.close();
    return;
  }
  try {
    // Long-polling only.
    const polling = io(`http://127.0.0.1:${port}`, { transports: ['polling'], forceNew: true });
    await connected(polling);
    await converse(polling, 'polling', 'polling client');
    polling.close();
    // Polling, then upgraded to WebSocket; the events wait for the upgrade.
    const upgrading = io(`http://127.0.0.1:${port}`, { forceNew: true });
    const upgraded = new Promise<void>((resolve) =>
      upgrading.io.on('open', () => upgrading.io.engine.once('upgrade', () => resolve())),
    );
    await connected(upgrading);
    await upgraded;
    upgradedSid = upgrading.io.engine.id as string;
    await converse(upgrading, 'websocket', 'upgraded client');
    // A second namespace on the same Engine.IO session (multiplexed).
    const chat = upgrading.io.socket('/chat');
    await connected(chat);
    const said = new Promise<string>((resolve) => chat.once('said', resolve));
    chat.emit('say', 'namespaced');
    emitted.push({ from: 'client', transport: 'websocket', namespace: '/chat', args: ['say', 'namespaced'] });
    expect(await said).toBe('NAMESPACED');
    emitted.push({ from: 'server', transport: 'websocket', namespace: '/chat', args: ['said', 'NAMESPACED'] });
    upgrading.close();
  } finally {
    await capture.stop();
    await server.close();
  }
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Socket.IO in a loopback capture', () => {
  it('decodes the events, namespaces, binary attachments and acks the application sent', async (ctx) => {
    if (unavailable !== null) ctx.skip(unavailable);
    const { records, code } = await decodeJson(file);
    expect(code).toBe(0);
    const packets = records.filter((r) => r.type === 'socket-io');
    const socket = (r: JsonRecord) => r.socket as { type: string; namespace: string; id: number | null; data: unknown };
    const events = packets
      .filter((r) => socket(r).type === 'event' || socket(r).type === 'binary-event')
      .map((r) => ({ from: r.from, transport: r.transport, namespace: socket(r).namespace, args: withoutOffset(r) }));
    const order = (list: readonly { from: unknown }[]) => [
      ...list.filter((e) => e.from === 'client'),
      ...list.filter((e) => e.from === 'server'),
    ];
    expect(order(events)).toEqual(order(emitted));
    // Each `sum` carried an ack id, and the server's ack answered that same id with 42.
    const sums = packets.filter((r) => socket(r).type === 'event' && (socket(r).data as unknown[])[0] === 'sum');
    const answers = packets.filter((r) => socket(r).type === 'ack');
    expect(sums).toHaveLength(2);
    expect(answers.map((r) => [r.transport, socket(r).id, socket(r).data])).toEqual(
      sums.map((r, i) => [acks[i]?.transport, socket(r).id, acks[i]?.data]),
    );
    expect(sums.every((r) => typeof socket(r).id === 'number')).toBe(true);
    // The CONNECTs: the main namespace on both sessions, /chat on the second.
    const connects = packets
      .filter((r) => socket(r).type === 'connect' && r.from === 'client')
      .map((r) => socket(r).namespace);
    expect(connects).toEqual(['/', '/', '/chat']);
    // Connection state recovery is on: the server's events carry their offsets.
    const serverEvents = packets.filter((r) => r.from === 'server' && socket(r).type.endsWith('event'));
    expect(serverEvents.length).toBeGreaterThan(0);
    expect(serverEvents.every((r) => typeof r.recoveryOffset === 'string' && r.recoveryOffset !== '')).toBe(true);
  });

  it('shows the polling session, the probes and where the second session upgraded', async (ctx) => {
    if (unavailable !== null) ctx.skip(unavailable);
    const { records } = await decodeJson(file);
    const sessions = records.filter((r) => r.type === 'engine-session');
    expect(sessions.map((s) => [s.event, s.transport])).toEqual([
      ['opened', 'polling'],
      ['opened', 'polling'],
      ['upgraded', 'websocket'],
    ]);
    const upgrade = sessions[2] as JsonRecord;
    expect(upgrade.sid).toBe(upgradedSid);
    const ws = records.find((r) => r.type === 'connection' && r.protocol === 'websocket') as JsonRecord;
    expect((ws.engine as { sid: string; transport: string }).sid).toBe(upgradedSid);
    expect((upgrade.previous as { conn: number }).conn).not.toBe(upgrade.conn);
    const engine = records
      .filter((r) => r.type === 'engine-io' && r.transport === 'websocket')
      .map((r) => r.engine as { type: string; probe?: boolean });
    // The upgrade dance: 2probe, 3probe, then 5 (upgrade).
    expect(engine.slice(0, 3)).toEqual([
      { type: 'ping', probe: true, text: 'probe' },
      { type: 'pong', probe: true, text: 'probe' },
      { type: 'upgrade' },
    ]);
    const polls = records.filter(
      (r) => r.type === 'http' && (r.engine as { transport?: string } | null)?.transport === 'polling',
    );
    expect(polls.length).toBeGreaterThan(4);
    // The open packet over polling gave the session its id.
    const open = records.find(
      (r) => r.type === 'engine-io' && (r.engine as { type: string }).type === 'open',
    ) as JsonRecord;
    expect(open.transport).toBe('polling');
  });

  it('agrees with tshark on every WebSocket frame of the upgraded session', async (ctx) => {
    if (unavailable !== null) ctx.skip(unavailable);
    const [oracle, ours] = await Promise.all([tsharkFrames(file, port), decodeJson(file)]);
    const frames = ourFrames(ours.records);
    expect(frames.length).toBeGreaterThan(10);
    expect(frames.map(frameLine)).toEqual(oracle.map(frameLine));
    console.info(`tshark comparison (Socket.IO capture): ${oracle.length} frames × 9 fields, all equal`);
  });
});

/** The event's arguments, without the recovery offset the server appends to its own. */
function withoutOffset(r: JsonRecord): unknown[] {
  const data = (r.socket as { data: unknown[] }).data;
  return r.recoveryOffset === null ? data : data.slice(0, -1);
}
