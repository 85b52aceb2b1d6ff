/**
 * The fuzzing server's own verdicts, against deliberately broken clients
 * written here on raw TCP: they must be failed (with the seed and a replay
 * line), within the per-case deadline even when the client never closes.
 */
import { connect } from 'node:net';
import { encodeFrame } from '@rfc6455/codec/testing';
import { describe, expect, it } from 'vitest';
import { type CaseVerdict, CLIENT_HANDSHAKE_VARIANTS, FuzzingServer } from '../src/index.js';
import { FrameReader, type WireFrame } from '../src/wire.js';
import { verdicts } from './echo-clients.js';

interface BadClient {
  /** Sec-WebSocket-Extensions to offer. */
  readonly offer?: string;
  /** What to send back for a frame from the server (masked here); nothing is ever sent on its own, not even a close. */
  readonly onFrame: (f: WireFrame) => { opcode: number; payload: Uint8Array; fin?: boolean } | undefined;
  /** Drops whatever arrived in the same read as the end of the response head (a classic client bug). */
  readonly dropAfterHead?: boolean;
}

/**
 * Runs one case with a client that never closes: resolves when the server
 * drops the connection. `onOpen` runs when the client has the 101.
 */
function runCase(port: number, n: number, agent: string, client: BadClient, onOpen?: () => void): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const reader = new FrameReader();
    let head = '';
    let open = false;
    socket.on('connect', () => {
      socket.write(
        [
          `GET /runCase?case=${n}&agent=${agent} HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version: 13',
          ...(client.offer ? [`Sec-WebSocket-Extensions: ${client.offer}`] : []),
          '',
          '',
        ].join('\r\n'),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      let bytes = new Uint8Array(chunk);
      if (!open) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        open = true;
        onOpen?.();
        bytes = client.dropAfterHead ? new Uint8Array(0) : bytes.subarray(bytes.length - (head.length - end - 4));
      }
      for (const f of reader.push(bytes)) {
        const reply = client.onFrame(f);
        if (reply && !socket.destroyed)
          socket.write(
            encodeFrame({
              fin: reply.fin ?? true,
              rsv: 0,
              opcode: reply.opcode,
              payload: reply.payload,
              maskKey: Uint8Array.of(1, 2, 3, 4),
            }),
          );
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

async function runAll(
  server: FuzzingServer,
  port: number,
  agent: string,
  client: BadClient,
  onOpen?: (n: number) => void,
): Promise<CaseVerdict[]> {
  for (let n = 1; n <= server.caseCount; n++) await runCase(port, n, agent, client, () => onOpen?.(n));
  return [...server.report(agent).cases];
}

it('fails a client that echoes text as binary and never closes, with the seed, within the per-case deadline', async () => {
  const judged = new Set<number>();
  const server = new FuzzingServer({
    port: 0,
    seed: 42,
    cases: 6,
    families: ['utf8'],
    skip: ['utf8/fail-fast'],
    replyTimeout: 400,
    failTimeout: 200,
    onVerdict: (_agent, v) => judged.add(v.case),
  });
  const { port } = await server.listen();
  // Armed once the client has the 101, so after the server armed its deadline (400 ms at most) for the
  // case: the event loop runs timers in the order they expire, so however slow the machine, a server
  // that keeps to its deadline has judged the case when this one fires.
  const late: number[] = [];
  const checks: Promise<void>[] = [];
  const checkDeadline = (n: number) =>
    checks.push(new Promise((resolve) => setTimeout(() => resolve(void (judged.has(n) || late.push(n))), 2 * 400)));
  try {
    const cases = await runAll(
      server,
      port,
      'binary-echo',
      {
        // Every text frame comes back as binary (continuations stay continuations); pings, closes: nothing.
        onFrame: (f) =>
          f.opcode === 0x1 || f.opcode === 0x2 || f.opcode === 0x0
            ? { opcode: f.opcode === 0x1 ? 0x2 : f.opcode, payload: f.payload, fin: f.fin }
            : undefined,
      },
      checkDeadline,
    );
    await Promise.all(checks);
    expect(late).toEqual([]);
    expect(cases.length).toBe(6);
    const report = server.report('binary-echo');
    expect(report.failed).toBe(6);
    for (const c of cases) {
      expect(c.verdict.status, c.description).toBe('fail');
      expect(c.seed).toBe(42);
      expect(c.replay).toContain(`--seed=42 --cases ${c.case} --family utf8 --skip utf8/fail-fast`);
    }
    // Valid text echoed as binary, or invalid text echoed instead of failing with 1007.
    const reasons = cases.map((c) => (c.verdict.status === 'fail' ? c.verdict.reason : ''));
    expect(
      reasons.some(
        (r) =>
          /came back as binary\(.*\), expected text|expected text/.test(r) ||
          /within 200 ms \(expected 1007\)|extra message/.test(r),
      ),
    ).toBe(true);
  } finally {
    await server.close();
  }
});

it('fails a client that ignores invalid UTF-8 (echoes it as text) with the case seed', async () => {
  const server = new FuzzingServer({
    port: 0,
    seed: 7,
    cases: 10,
    families: ['utf8'],
    replyTimeout: 300,
    failTimeout: 200,
  });
  const { port } = await server.listen();
  try {
    const cases = await runAll(server, port, 'no-utf8-check', {
      onFrame: (f) => (f.opcode <= 0x2 ? { opcode: f.opcode, payload: f.payload, fin: f.fin } : undefined),
    });
    const invalid = cases.filter((c) => c.variant === 'utf8/utf8' || c.variant === 'utf8/fail-fast');
    expect(invalid.length).toBeGreaterThan(0);
    for (const c of invalid) {
      expect(c.verdict.status, c.description).toBe('fail');
      expect(c.seed).toBe(7);
    }
    // Its valid-text echoes are right, but it never closes: those fail on the missing close, not on content.
    for (const c of cases.filter((x) => x.variant === 'utf8/valid-fragmented')) {
      expect(c.verdict).toEqual({ status: 'fail', reason: 'no close frame in reply within 300 ms' });
    }
  } finally {
    await server.close();
  }
});

it('declines a malformed permessage-deflate offer and fails the client for it; a missing offer makes deflate cases n/a', async () => {
  const server = new FuzzingServer({
    port: 0,
    seed: 3,
    cases: 3,
    families: ['deflate'],
    replyTimeout: 300,
    failTimeout: 200,
  });
  const { port } = await server.listen();
  try {
    const echo = { onFrame: () => undefined };
    await runCase(port, 1, 'bad-offer', { ...echo, offer: 'permessage-deflate; server_max_window_bits=7' });
    await runCase(port, 2, 'bad-offer', {
      ...echo,
      offer: 'permessage-deflate; client_no_context_takeover; client_no_context_takeover, permessage-deflate',
    });
    await runCase(port, 3, 'bad-offer', echo);
    const [a, b, c] = server.report('bad-offer').cases;
    expect(a?.extensions).toEqual({
      offered: 'permessage-deflate; server_max_window_bits=7',
      response: undefined,
      invalidOffer: 'an invalid permessage-deflate offer (server_max_window_bits needs a value from 8 to 15, got "7")',
    });
    expect(a?.verdict.status).toBe('fail');
    expect(b?.extensions.invalidOffer).toBe(
      'an invalid permessage-deflate offer (duplicate parameter client_no_context_takeover)',
    );
    expect(b?.verdict).toEqual({
      status: 'fail',
      reason:
        'the client offered an invalid permessage-deflate offer (duplicate parameter client_no_context_takeover) (declined, RFC 7692 §7)',
    });
    expect(c?.verdict).toEqual({
      status: 'n/a',
      reason: 'permessage-deflate not agreed: the client offered no extension',
    });
  } finally {
    await server.close();
  }
});

describe('handshake family: clients that do not fail the connection', () => {
  const only = (...variants: string[]) => CLIENT_HANDSHAKE_VARIANTS.filter((v) => !variants.includes(v));
  const defective101 = [
    'handshake/accept-missing',
    'handshake/accept-wrong',
    'handshake/upgrade-missing',
    'handshake/connection-wrong',
    'handshake/extension-not-offered',
  ];

  it('fails a client that opens on a defective 101 and echoes the frame after it', async () => {
    const collected = verdicts();
    const server = new FuzzingServer({
      port: 0,
      seed: 4,
      cases: 6,
      families: ['handshake'],
      skip: only(...defective101),
      failTimeout: 200,
      onVerdict: collected.onVerdict,
    });
    const { port } = await server.listen();
    try {
      for (let n = 1; n <= 6; n++)
        await runCase(port, n, 'opens', {
          onFrame: (f) => (f.opcode === 0x1 ? { opcode: 0x1, payload: f.payload } : undefined),
        });
      for (const c of await collected.settled('opens', 6)) {
        expect(defective101).toContain(c.variant);
        expect(c.verdict, c.description).toEqual({
          status: 'fail',
          reason:
            'sent a text frame after a defective response: a client must fail the connection without sending anything (RFC 6455 §4.1)',
        });
        expect(c.replay).toContain(`--seed=4 --cases ${c.case} --family handshake`);
      }
    } finally {
      await server.close();
    }
  });

  it('fails a client that sends a close frame after a defective 101 (the connection never opened)', async () => {
    const collected = verdicts();
    const server = new FuzzingServer({
      port: 0,
      seed: 4,
      cases: 3,
      families: ['handshake'],
      skip: only(...defective101),
      failTimeout: 200,
      onVerdict: collected.onVerdict,
    });
    const { port } = await server.listen();
    try {
      for (let n = 1; n <= 3; n++)
        await runCase(port, n, 'closes', { onFrame: () => ({ opcode: 0x8, payload: Uint8Array.of(0x03, 0xea) }) });
      for (const c of await collected.settled('closes', 3))
        expect(c.verdict, c.description).toEqual({
          status: 'fail',
          reason:
            'sent a close frame (1002) after a defective response: a client must fail the connection without sending anything (RFC 6455 §4.1)',
        });
    } finally {
      await server.close();
    }
  });

  it('fails a client that neither sends nor closes after a refusal, at the deadline', async () => {
    const collected = verdicts();
    const server = new FuzzingServer({
      port: 0,
      seed: 6,
      cases: 4,
      families: ['handshake'],
      skip: only('handshake/status-3xx', 'handshake/status-4xx', 'handshake/status-5xx'),
      failTimeout: 200,
      onVerdict: collected.onVerdict,
    });
    const { port } = await server.listen();
    try {
      for (let n = 1; n <= 4; n++) await runCase(port, n, 'lingers', { onFrame: () => undefined });
      for (const c of await collected.settled('lingers', 4))
        expect(c.verdict, c.description).toEqual({
          status: 'fail',
          reason:
            'did not close the connection within 200 ms of a defective response (RFC 6455 §4.1: Fail the WebSocket Connection)',
        });
    } finally {
      await server.close();
    }
  });

  it('fails a client that keeps reading a head that never ends', async () => {
    const collected = verdicts();
    const server = new FuzzingServer({
      port: 0,
      seed: 8,
      cases: 2,
      families: ['handshake'],
      skip: only('handshake/endless-head'),
      failTimeout: 300,
      onVerdict: collected.onVerdict,
    });
    const { port } = await server.listen();
    try {
      for (let n = 1; n <= 2; n++) {
        // Reads and discards everything, never closes: resolved when the server gives up.
        await new Promise<void>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port }, () =>
            socket.write(
              `GET /runCase?case=${n}&agent=reader HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
            ),
          );
          socket.on('data', () => {});
          socket.on('error', () => {});
          socket.on('close', () => resolve());
        });
      }
      for (const c of await collected.settled('reader', 2)) {
        expect(c.verdict.status, c.description).toBe('fail');
        expect(c.verdict.status === 'fail' && c.verdict.reason).toMatch(
          /^did not close the connection within 300 ms of a defective response \(read \d+ KiB of a head that never ends\)/,
        );
      }
    } finally {
      await server.close();
    }
  });

  it('fails a client that drops the frames that came in the same segment as the 101', async () => {
    const collected = verdicts();
    const server = new FuzzingServer({
      port: 0,
      seed: 10,
      cases: 5,
      families: ['handshake'],
      skip: only('handshake/frames-with-101'),
      replyTimeout: 300,
      onVerdict: collected.onVerdict,
    });
    const { port } = await server.listen();
    try {
      for (let n = 1; n <= 5; n++)
        await runCase(port, n, 'drops', {
          dropAfterHead: true,
          onFrame: (f) => ({ opcode: f.opcode === 0x9 ? 0xa : f.opcode, payload: f.payload, fin: f.fin }),
        });
      for (const c of await collected.settled('drops', 5)) {
        expect(c.verdict.status, c.description).toBe('fail');
        expect(c.verdict.status === 'fail' && c.verdict.reason).toMatch(
          /^(only 0 of \d+ messages echoed|the last ping .* was never answered|no close frame in reply within 300 ms)/,
        );
      }
    } finally {
      await server.close();
    }
  });
});
