/**
 * A client built like a browser: its protocol engine answers pings and our
 * close the moment they arrive, while the application echoes messages later
 * (Chromium's network process and page). RFC 6455 allows that (§5.5.1: a
 * close is answered "as soon as practical"), but once it has sent its close
 * the client may send no more data, so echoes that were still on their way
 * to the application are lost. By default the fuzzing server writes our close
 * with the case's frames and such a client fails every case that owes a
 * message; with `closeAfterReplies` our close waits for the replies, and it
 * passes.
 */
import { connect } from 'node:net';
import { encodeFrame } from '@rfc6455/codec/testing';
import { expect, it } from 'vitest';
import { type CaseVerdict, FuzzingServer, type FuzzingServerOptions } from '../src/index.js';
import { FrameReader, Op } from '../src/wire.js';

/** How much later than the engine the application sees a message. */
const APPLICATION_DELAY_MS = 200;

function browserLikeCase(port: number, n: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const reader = new FrameReader();
    let head = '';
    let closeSent = false;
    const send = (opcode: number, payload: Uint8Array, fin = true) => {
      if (!socket.destroyed)
        socket.write(encodeFrame({ fin, rsv: 0, opcode, payload, maskKey: Uint8Array.of(9, 8, 7, 6) }));
    };
    socket.on('connect', () =>
      socket.write(
        `GET /runCase?case=${n}&agent=browser-like HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      let bytes = new Uint8Array(chunk);
      if (head.indexOf('\r\n\r\n') < 0) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        bytes = bytes.subarray(bytes.length - (head.length - end - 4));
      }
      for (const f of reader.push(bytes)) {
        if (f.opcode === Op.Ping) send(Op.Pong, f.payload);
        else if (f.opcode === Op.Close) {
          // The engine answers at once, with the code it received.
          if (!closeSent) send(Op.Close, f.payload.subarray(0, 2));
          closeSent = true;
        } else if (f.opcode !== Op.Pong) {
          // The application echoes each frame as it came (fragments stay fragments), later; after the engine's close it may not.
          setTimeout(() => {
            if (!closeSent) send(f.opcode, f.payload, f.fin);
          }, APPLICATION_DELAY_MS);
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

/** Valid cases of up to 64 KiB (no 64-bit lengths): everything arrives within a read or two. */
const FRAMING: FuzzingServerOptions = {
  seed: 5,
  cases: 8,
  families: ['framing'],
  maxMessageSize: 0xffff,
  skip: ['framing/masking', 'framing/length', 'framing/non-minimal-length'],
};
/** Small floods only (no size limit given): a ping flood's text message, a slow reader's echoes. */
const FLOODS: FuzzingServerOptions = {
  seed: 6,
  cases: 4,
  families: ['limits'],
  flood: { bytes: 256 * 1024, pings: 200, timeout: 5_000 },
};

async function run(options: FuzzingServerOptions, closeAfterReplies: boolean): Promise<CaseVerdict[]> {
  const server = new FuzzingServer({ port: 0, ...options, closeAfterReplies });
  const { port } = await server.listen();
  try {
    for (let n = 1; n <= server.caseCount; n++) await browserLikeCase(port, n);
    return [...server.report('browser-like').cases];
  } finally {
    await server.close();
  }
}

it('fails a browser-like client on every case that owes a message when our close goes out with the frames', async () => {
  const cases = await run(FRAMING, false);
  const sized = cases.filter((c) => c.variant === 'framing/length-7' || c.variant === 'framing/length-16');
  expect(sized.length).toBeGreaterThan(0);
  for (const c of sized)
    expect(c.verdict, c.description).toMatchObject({
      status: 'fail',
      reason: expect.stringMatching(/^only 0 of 1 messages echoed; missing /),
    });
});

it('passes it on every case when our close waits for the replies owed', async () => {
  const cases = await run(FRAMING, true);
  expect(cases.length).toBe(8);
  for (const c of cases) expect(c.verdict, c.description).toEqual({ status: 'pass' });
});

it('floods: by default our close beats its echoes; held back, every flood is answered', async () => {
  const early = await run(FLOODS, false);
  expect(new Set(early.map((c) => c.variant))).toEqual(new Set(['limits/ping-flood', 'limits/slow-reader']));
  for (const c of early)
    expect(c.verdict, c.description).toMatchObject({
      status: 'fail',
      reason: expect.stringMatching(/^only \d+ of \d+ messages echoed; missing .*; then closed with 1000$/),
    });
  const held = await run(FLOODS, true);
  // A slow reader's pass notes whether the client pushed back while not read; that is recorded, not judged.
  for (const c of held)
    expect(c.verdict.status, `${c.description}: ${c.verdict.status === 'fail' ? c.verdict.reason : ''}`).toBe('pass');
});
