/**
 * The handshake family (RFC 6455 §4.2) against this project's node-server
 * (every variant passes, strict included) and against ws 8.23, whose
 * deviations are asserted variant by variant, lenient and strict.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '@rfc6455/node-server';
import { expect, it } from 'vitest';
import { WebSocketServer as WsServer } from 'ws';
import { formatServerReport, HANDSHAKE_VARIANTS, runServerSuite } from '../src/index.js';

/** Each variant alone: 'passed' with the policies seen, or the failure's reason. */
async function byVariant(url: string, strict: boolean): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const v of HANDSHAKE_VARIANTS) {
    const r = await runServerSuite({
      url,
      runs: 4,
      seed: 1,
      families: ['handshake'],
      strict,
      skip: HANDSHAKE_VARIANTS.filter((x) => x !== v),
    });
    const f = r.families[0];
    out[v] =
      f?.status === 'passed'
        ? `passed${
            Object.keys(f.policies).length > 0
              ? ` ${Object.keys(f.policies)
                  .map((k) => k.slice(v.length + 2))
                  .join('; ')}`
              : ''
          }`
        : (f?.failure?.reason ?? '?');
  }
  return out;
}

it('node-server passes every handshake variant, strict', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  try {
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const report = await runServerSuite({
      url,
      runs: Number(process.env.CONFORMANCE_RUNS ?? 40) * 2,
      families: ['handshake'],
      strict: true,
    });
    expect(report.ok, formatServerReport(report)).toBe(true);
    // It refuses big heads with 431 and picks no subprotocol unless the application does.
    for (const key of Object.keys(report.families[0]?.policies ?? {}))
      expect(key).toMatch(/^handshake\/(oversized: 431|(subprotocols|trailing-htab): no subprotocol chosen)$/);
  } finally {
    await wss.close({ timeout: 500 });
  }
});

it('ws: deviations asserted variant by variant', async () => {
  const wss = new WsServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) => ws.on('error', () => {}));
  await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
  try {
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const lenient = await byVariant(url, false);
    const accepted = 'accepted (101) a request that must be refused with';
    expect(lenient).toEqual({
      'handshake/valid': 'passed',
      // ws picks the first offered subprotocol by default.
      'handshake/subprotocols': 'passed a subprotocol chosen',
      // Node's HTTP parser does not see the upgrade token in "Connection: Upgrade<HTAB>", so ws's HTTP server answers 426.
      'handshake/trailing-htab': 'answered HTTP/1.1 426 Upgrade Required to a valid upgrade request',
      'handshake/oversized': 'passed 431',
      'handshake/invalid/a-15-byte-key': 'passed',
      'handshake/invalid/a-header-without-a-colon': 'passed',
      'handshake/invalid/connection-keep-alive': 'passed 426 instead of 400',
      // ws does not check the HTTP version or Host, and speaks version 8 (hybi-08) as well as 13.
      'handshake/invalid/http-1-0': `${accepted} 400`,
      'handshake/invalid/method-post': 'passed 405 instead of 400',
      'handshake/invalid/no-host': `${accepted} 400`,
      'handshake/invalid/no-key': 'passed',
      'handshake/invalid/no-upgrade': 'passed 426 instead of 400',
      'handshake/invalid/no-version': 'passed 400 (Sec-WebSocket-Version: 13, 8) instead of 426',
      'handshake/invalid/obs-fold': 'passed',
      'handshake/invalid/upgrade-h2c': 'passed',
      'handshake/invalid/version-8': `${accepted} 426 with Sec-WebSocket-Version: 13`,
    });
    // Strict wants the exact status: the lenient passes with another 4xx fail, and nothing else changes.
    const strict = await byVariant(url, true);
    expect(strict).toEqual({
      ...lenient,
      'handshake/invalid/connection-keep-alive': 'strict: answered 426, expected 400',
      'handshake/invalid/method-post': 'strict: answered 405, expected 400',
      'handshake/invalid/no-upgrade': 'strict: answered 426, expected 400',
      'handshake/invalid/no-version': 'strict: answered 400, expected 426 with Sec-WebSocket-Version: 13',
    });
  } finally {
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
});
