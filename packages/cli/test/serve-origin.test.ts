// `rfc6455 serve` serves no page, so a handshake a browser page made (one
// with an Origin) is refused unless its origin was allowed; clients that
// send no Origin are not web pages and pass. The peer is the npm `ws` client,
// which sends an Origin only when told to.
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { run, start, stop } from './helpers.js';

type Outcome = { type: 'open' } | { type: 'refused'; status: number };

function attempt(url: string, origin?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.on('open', () => {
      ws.close();
      resolve({ type: 'open' });
    });
    ws.on('unexpected-response', (_request, response) => {
      resolve({ type: 'refused', status: response.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('error', (error) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

const running: Array<Awaited<ReturnType<typeof start>>> = [];
afterEach(async () => {
  for (const server of running.splice(0)) await stop(server.child, 'SIGKILL');
});

async function serve(...args: string[]): Promise<string> {
  const server = await start(['serve', '--port', '0', '--quiet', ...args], /listening on ws:\/\/127\.0\.0\.1:(\d+)/);
  running.push(server);
  return `ws://127.0.0.1:${server.match[1]}/`;
}

describe('rfc6455 serve and the Origin header', () => {
  test('by default a page from any origin is refused with 403, a client without Origin is served', async () => {
    const url = await serve();
    expect(await attempt(url, 'https://evil.example')).toEqual({ type: 'refused', status: 403 });
    expect(await attempt(url, 'http://localhost:3000')).toEqual({ type: 'refused', status: 403 });
    expect(await attempt(url)).toEqual({ type: 'open' });
  });

  test('--allow-origin lets exactly the named origins in', async () => {
    const url = await serve('--allow-origin', 'https://Tools.Example:443', '--allow-origin', 'http://localhost:3000');
    expect(await attempt(url, 'https://tools.example')).toEqual({ type: 'open' });
    expect(await attempt(url, 'http://localhost:3000')).toEqual({ type: 'open' });
    expect(await attempt(url, 'http://localhost:3001')).toEqual({ type: 'refused', status: 403 });
    expect(await attempt(url, 'https://tools.example.evil')).toEqual({ type: 'refused', status: 403 });
  });

  test('--allow-any-origin turns the check off', async () => {
    const url = await serve('--allow-any-origin');
    expect(await attempt(url, 'https://evil.example')).toEqual({ type: 'open' });
  });

  test('a malformed origin or contradicting switches are usage errors', async () => {
    const bad = await run(['serve', '--port', '0', '--allow-origin', 'tools.example']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--allow-origin');
    const both = await run(['serve', '--port', '0', '--allow-any-origin', '--allow-origin', 'https://a.example']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('contradict');
  });
});
