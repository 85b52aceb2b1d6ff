// The demo over HTTP/2 (h2c, RFC 8441): `rfc6455 connect --http2-only` to the
// demo's /echo goes through its HTTP/2 front, and the inspector feed reports
// the stream's id and HEADERS in the `open` record, then the stream's DATA,
// which the page's dissector (primed as the page primes it) reads as frames.
import { SessionDissector } from '../src/dissector.js';
import { primeForExtendedConnect } from '../src/h2-heads.js';
import type { TapMessage } from '../src/tap-message.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { run, start, stop } from './helpers.js';

let demo: Awaited<ReturnType<typeof start>>;
let port: number;
beforeAll(async () => {
  demo = await start(['demo', '--port', '0'], /http:\/\/localhost:(\d+)\//);
  port = Number(demo.match[1]);
});
afterAll(async () => {
  if (demo && demo.child.exitCode === null) await stop(demo.child, 'SIGKILL');
});

/** The inspector feed, as the page reads it. */
function inspect(): {
  messages: TapMessage[];
  until: (done: (m: TapMessage[]) => boolean) => Promise<void>;
  close: () => void;
} {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/inspect`, { origin: `http://127.0.0.1:${port}` });
  const messages: TapMessage[] = [];
  let wake = (): void => {};
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as TapMessage);
    wake();
  });
  return {
    messages,
    until: async (done) => {
      while (!done(messages)) await new Promise<void>((resolve) => (wake = resolve));
    },
    close: () => ws.close(),
  };
}

test('an HTTP/2 WebSocket is relayed to the echo and shown with its stream id and HEADERS', async () => {
  const feed = inspect();
  const r = await run(
    ['connect', '--http2-only', '--origin', `http://127.0.0.1:${port}`, `ws://127.0.0.1:${port}/echo`],
    {
      input: 'via h2\n',
    },
  );
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/\(HTTP\/2 stream 1, extensions: permessage-deflate\)/);
  expect(r.stdout).toContain('< via h2');
  const opened = (m: TapMessage[]) =>
    m.find((x): x is Extract<TapMessage, { type: 'open' }> => x.type === 'open' && x.http2 !== undefined);
  await feed.until((m) => {
    const open = opened(m);
    return open !== undefined && m.some((x) => x.type === 'end' && x.conn === open.conn && x.from === 'server');
  });
  feed.close();
  const open = opened(feed.messages);
  if (open?.http2 === undefined) throw new Error('no HTTP/2 open record');
  expect(open.http2.streamId).toBe(1);
  expect(open.http2.status).toBe(200);
  expect(Object.fromEntries(open.http2.request)).toMatchObject({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':path': '/echo',
    'sec-websocket-version': '13',
  });
  expect(Object.fromEntries(open.http2.response)['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
  // The page's dissection: primed with the HEADERS, then every tapped chunk of this connection.
  const session = new SessionDissector();
  primeForExtendedConnect(session, open.http2.request, open.http2.response);
  const messages: string[] = [];
  for (const m of feed.messages) {
    if (m.type !== 'bytes' || m.conn !== open.conn) continue;
    for (const record of session.push(m.from, new Uint8Array(Buffer.from(m.base64, 'base64'))))
      if (record.kind === 'message') messages.push(`${m.from}: ${String(record.data)}`);
  }
  expect(messages).toEqual(['client: via h2', 'server: via h2']);
});

test('over HTTP/2 a foreign Origin gets the echo’s 403 and another path 404', async () => {
  const foreign = await run([
    'connect',
    '--http2-only',
    '--origin',
    'http://evil.example',
    `ws://127.0.0.1:${port}/echo`,
  ]);
  expect(foreign.code).toBe(1);
  expect(foreign.stderr).toMatch(/refused the upgrade: 403/);
  const other = await run(['connect', '--http2-only', `ws://127.0.0.1:${port}/inspect`]);
  expect(other.code).toBe(1);
  expect(other.stderr).toMatch(/refused the upgrade: 404/);
});
