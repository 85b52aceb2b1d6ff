// Every timer of the server core runs on the `clock` option: with a clock moved by hand, each
// timeout (set to an hour, so the platform's timers could never be the ones that fire) happens
// exactly when the clock passes it. Real sockets on 127.0.0.1; the test waits for their events.
import { EventEmitter, once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketClient from 'ws';
import {
  type Clock,
  type ServerOptions,
  systemClock,
  type TimerHandle,
  type WebSocket,
  type WebSocketServer,
} from '../src/index.js';
import { clientFrame, type RawClient, rawClient, startServer } from './helpers.js';

const HOUR = 60 * 60 * 1000;

interface ManualTimer {
  /** The delay it was armed with. */
  readonly ms: number;
  /** When it next comes due, on this clock's time. */
  at: number;
  readonly every: number | undefined;
  readonly callback: () => void;
}

/** A clock whose time moves only by `advance()`; its timers run inside that call, in the order they come due. */
class ManualClock implements Clock {
  private now = 0;
  private lastId = 0;
  private readonly timers = new Map<number, ManualTimer>();
  private readonly events = new EventEmitter();

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.arm(callback, ms, undefined);
  }

  setInterval(callback: () => void, ms: number): TimerHandle {
    if (!(ms > 0)) throw new RangeError('an interval must be positive');
    return this.arm(callback, ms, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  clearInterval(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  advance(ms: number): void {
    const end = this.now + ms;
    for (let next = this.firstDue(end); next !== undefined; next = this.firstDue(end)) {
      const [id, timer] = next;
      this.now = timer.at;
      if (timer.every === undefined) this.timers.delete(id);
      else timer.at += timer.every;
      timer.callback();
    }
    this.now = end;
  }

  /** Resolves once `count` timers armed with `ms` are waiting. */
  async armed(ms: number, count = 1): Promise<void> {
    while (this.waiting(ms) < count) await once(this.events, 'armed');
  }

  waiting(ms: number): number {
    let n = 0;
    for (const timer of this.timers.values()) if (timer.ms === ms) n++;
    return n;
  }

  private arm(callback: () => void, ms: number, every: number | undefined): number {
    const id = ++this.lastId;
    this.timers.set(id, { ms, at: this.now + ms, every, callback });
    this.events.emit('armed');
    return id;
  }

  /** The timer due first by `end` (the one armed first among equals). */
  private firstDue(end: number): [number, ManualTimer] | undefined {
    let first: [number, ManualTimer] | undefined;
    for (const entry of this.timers) {
      if (entry[1].at <= end && (first === undefined || entry[1].at < first[1].at)) first = entry;
    }
    return first;
  }
}

interface Started {
  readonly wss: WebSocketServer;
  readonly clock: ManualClock;
  readonly sockets: Socket[];
}
const started: Started[] = [];

/** A server on a manual clock that echoes and keeps each connection by the role its client named (`x-role`). */
async function server(options: ServerOptions = {}) {
  const clock = new ManualClock();
  const s = await startServer({ clock, heartbeatInterval: 0, ...options });
  const entry: Started = { wss: s.wss, clock, sockets: [] };
  started.push(entry);
  const byRole = new Map<string, WebSocket>();
  const closes = new Map<WebSocket, Promise<[number, string]>>();
  s.wss.on('connection', (ws, info) => {
    byRole.set(info.headers['x-role'] ?? '', ws);
    closes.set(ws, once(ws, 'close') as Promise<[number, string]>);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  /** What the server saw as the close of `ws`: [code, reason]. */
  const closeOf = (ws: WebSocket) => closes.get(ws) as Promise<[number, string]>;
  const raw = async (role: string): Promise<RawClient> => {
    const client = await rawClient(s.port, `X-Role: ${role}\r\n`);
    entry.sockets.push(client.socket);
    return client;
  };
  const tcp = async (opts: { allowHalfOpen?: boolean } = {}): Promise<Socket> => {
    const socket = connect({ port: s.port, host: '127.0.0.1', ...opts });
    socket.on('error', () => {});
    entry.sockets.push(socket);
    await once(socket, 'connect');
    return socket;
  };
  /** The server's side of the connection whose client named `role`. */
  const serverSide = (role: string) => byRole.get(role) as WebSocket;
  return { ...s, clock, serverSide, closeOf, raw, tcp };
}

afterEach(async () => {
  for (const { wss, clock, sockets } of started.splice(0)) {
    for (const socket of sockets) socket.destroy();
    const closing = wss.close({ timeout: 1 });
    clock.advance(1);
    await closing;
  }
});

/** Bytes a socket receives, and a wait for them to satisfy a condition. */
function collect(socket: Socket) {
  let received = Buffer.alloc(0);
  const grew = new EventEmitter();
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    grew.emit('data');
  });
  return {
    received: () => received,
    async until(pred: (bytes: Buffer) => boolean): Promise<Buffer> {
      while (!pred(received)) await once(grew, 'data');
      return received;
    },
  };
}

const REQUEST_START = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n';
const REQUEST_REST =
  'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n';
/** Whether the bytes start with the server's close frame (FIN + opcode 8, unmasked) carrying `code`. */
const isCloseFrame = (code: number) => (bytes: Buffer) =>
  bytes.length >= 4 && bytes[0] === 0x88 && bytes.readUInt16BE(2) === code;
/** A client's close frame (masked) with `code` and no reason. */
const closeFrame = (code: number) => clientFrame(0x88, Buffer.from([code >> 8, code & 0xff]));

describe('the core keeps time with the clock option', () => {
  it('aborts a handshake whose head never ends when the clock passes handshakeTimeout, not before', async () => {
    const { clock, tcp } = await server({ handshakeTimeout: HOUR });
    const finishing = await tcp();
    const stalled = await tcp();
    const finishingBytes = collect(finishing);
    const stalledBytes = collect(stalled);
    finishing.write(REQUEST_START);
    stalled.write(REQUEST_START);
    await clock.armed(HOUR, 2); // both connections' deadlines, armed at the same clock time

    clock.advance(HOUR - 1);
    // One millisecond before the deadline both are still in their handshake: one can finish it.
    finishing.write(REQUEST_REST);
    const head = await finishingBytes.until((b) => b.includes('\r\n\r\n'));
    expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);

    const stalledClosed = once(stalled, 'close');
    clock.advance(1);
    await stalledClosed;
    expect(stalledBytes.received().length).toBe(0); // dropped, not answered

    // The finished handshake's deadline was cleared: that connection is a WebSocket and echoes.
    const echoed = finishingBytes.received().length + 2 + 5;
    finishing.write(clientFrame(0x81, 'still'));
    const all = await finishingBytes.until((b) => b.length >= echoed);
    expect(all.subarray(all.length - 7)).toEqual(Buffer.from([0x81, 5, ...Buffer.from('still')]));
  });

  it('destroys a peer that never answers a close frame when the clock passes closeTimeout', async () => {
    const { clock, serverSide, closeOf, raw } = await server({ closeTimeout: HOUR });
    const answering = await raw('answering');
    const silent = await raw('silent');
    const serverAnswering = serverSide('answering');
    const serverSilent = serverSide('silent');
    serverAnswering.close(1000, '');
    serverSilent.close(1000, '');
    await answering.waitFor(isCloseFrame(1000));
    await silent.waitFor(isCloseFrame(1000));
    await clock.armed(HOUR, 2);

    clock.advance(HOUR - 1);
    // Not yet destroyed: a close frame sent now completes a clean closing handshake.
    answering.socket.write(closeFrame(1000));
    expect(await closeOf(serverAnswering)).toEqual([1000, '']);
    await answering.closed;
    expect(serverSilent.readyState).toBe(2); // CLOSING, still waiting

    clock.advance(1);
    await silent.closed;
    expect(await closeOf(serverSilent)).toEqual([1006, '']);
  });

  it('heartbeat: ends a peer that answers no ping after two intervals, keeps one that answers', async () => {
    const { url, clock, serverSide, closeOf, raw } = await server({ heartbeatInterval: HOUR });
    // ws answers each ping with a pong.
    const answering = new WebSocketClient(url, { headers: { 'x-role': 'answering' } });
    answering.on('error', () => {});
    await once(answering, 'open');
    const silent = await raw('silent');
    const serverAnswering = serverSide('answering');
    const serverSilent = serverSide('silent');
    await clock.armed(HOUR);

    let pong = once(serverAnswering, 'pong');
    clock.advance(HOUR);
    await pong;
    // The silent peer got the first ping too: one interval without an answer does not end it.
    await silent.waitFor((b) => b.length >= 2 && b[0] === 0x89 && b[1] === 0);

    pong = once(serverAnswering, 'pong');
    clock.advance(HOUR);
    await silent.closed;
    expect(await closeOf(serverSilent)).toEqual([1006, '']);
    await pong; // pinged again, and answered

    // Past the next beat too, the answering peer is open and served.
    pong = once(serverAnswering, 'pong');
    clock.advance(HOUR);
    await pong;
    answering.send('still here');
    const [reply] = (await once(answering, 'message')) as [Buffer];
    expect(reply.toString()).toBe('still here');
    expect(answering.readyState).toBe(WebSocketClient.OPEN);
    answering.close(1000);
    expect(await closeOf(serverAnswering)).toEqual([1000, '']);
  });

  it('close({ timeout }) destroys the connections that never answer when the clock passes it', async () => {
    // closeTimeout longer than the shutdown's timeout: the shutdown's own timer must be the one.
    const { wss, clock, serverSide, closeOf, raw } = await server({ closeTimeout: 2 * HOUR });
    const answering = await raw('answering');
    const silent = await raw('silent');
    const serverAnswering = serverSide('answering');
    const serverSilent = serverSide('silent');
    let closed = false;
    const closing = wss.close({ timeout: HOUR }).then(() => {
      closed = true;
    });
    await answering.waitFor(isCloseFrame(1001));
    await silent.waitFor(isCloseFrame(1001));
    await clock.armed(HOUR);

    clock.advance(HOUR - 1);
    answering.socket.write(closeFrame(1001));
    expect(await closeOf(serverAnswering)).toEqual([1001, '']);
    await answering.closed;
    expect(closed).toBe(false); // still waiting for the silent one

    clock.advance(1);
    await silent.closed;
    expect(await closeOf(serverSilent)).toEqual([1006, '']);
    await closing;
  });

  it('destroys a refused client that never closes its side when the clock passes closeTimeout', async () => {
    const { clock, tcp } = await server({ closeTimeout: HOUR, handleUpgrade: () => false });
    // allowHalfOpen: the client keeps its side open after the server's response and FIN.
    const refused = await tcp({ allowHalfOpen: true });
    const bytes = collect(refused);
    refused.write(REQUEST_START + REQUEST_REST);
    await once(refused, 'end');
    expect(bytes.received().toString('latin1')).toMatch(/^HTTP\/1\.1 403 /);
    await clock.armed(HOUR);

    clock.advance(HOUR);
    // The server's socket is gone: bytes sent to it now are answered with a reset, which the
    // client's next write reports (it no longer reads, having had the server's FIN). Were the
    // socket still there, it would take every write and the client would never close.
    const closed = new Promise((resolve) => refused.once('close', resolve)); // after the 'error' it reports
    for (let i = 0; i < 100 && !refused.destroyed; i++) {
      await new Promise<void>((resolve) => refused.write('x', () => resolve()));
    }
    await closed;
  });
});

describe('systemClock', () => {
  it('arms timers that do not hold the process open (the sockets they guard do)', () => {
    const timeout = systemClock.setTimeout(() => {}, HOUR) as NodeJS.Timeout;
    const interval = systemClock.setInterval(() => {}, HOUR) as NodeJS.Timeout;
    expect(timeout.hasRef()).toBe(false);
    expect(interval.hasRef()).toBe(false);
    systemClock.clearTimeout(timeout);
    systemClock.clearInterval(interval);
  });
});
