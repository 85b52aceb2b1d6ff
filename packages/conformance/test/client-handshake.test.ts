/**
 * The fuzzing server's handshake family (RFC 6455 §4.1, RFC 7692 §7.1)
 * against this project's client — in this process, where the application's
 * view (error, then close 1006, never open) is checked too, and as the built
 * echo client — and against ws 8.23's client, whose deviations are asserted
 * variant by variant.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_HANDSHAKE_VARIANTS, FuzzingServer } from '../src/index.js';
import {
  browserClient,
  type EchoClient,
  runCases,
  runEchoClient,
  type Seen,
  verdicts,
  wsClient,
} from './echo-clients.js';

const NOT_OFFERED = 'handshake/deflate/client-max-window-bits-when-the-client-did-not-offer-it';
const CASES_PER_VARIANT = 6;

/** Each variant alone: 'pass', 'n/a: …' or the first failure's reason; and what the application saw. */
async function byVariant(
  client: EchoClient,
  clientHandshakeTimeout: number,
): Promise<{ outcomes: Record<string, string>; seen: Record<string, Seen[]> }> {
  const outcomes: Record<string, string> = {};
  const seen: Record<string, Seen[]> = {};
  for (const v of CLIENT_HANDSHAKE_VARIANTS) {
    const collected = verdicts();
    const server = new FuzzingServer({
      port: 0,
      seed: 1,
      cases: CASES_PER_VARIANT,
      families: ['handshake'],
      skip: CLIENT_HANDSHAKE_VARIANTS.filter((x) => x !== v),
      clientHandshakeTimeout,
      onVerdict: collected.onVerdict,
    });
    const { port } = await server.listen();
    try {
      const cases = Array.from({ length: CASES_PER_VARIANT }, (_, i) => i + 1);
      seen[v] = await runCases(client, port, 'agent', cases);
      const results = await collected.settled('agent', cases.length);
      for (const r of results) expect(r.variant).toBe(v);
      const failed = results.find((r) => r.verdict.status === 'fail');
      const na = results.find((r) => r.verdict.status === 'n/a');
      outcomes[v] =
        failed?.verdict.status === 'fail'
          ? failed.verdict.reason
          : na?.verdict.status === 'n/a'
            ? `n/a: ${na.verdict.reason}`
            : 'pass';
    } finally {
      await server.close();
    }
  }
  return { outcomes, seen };
}

const allPass = (except: Record<string, string> = {}): Record<string, string> => ({
  ...Object.fromEntries(CLIENT_HANDSHAKE_VARIANTS.map((v) => [v, 'pass'])),
  ...except,
});

/** Defective responses: never open, an error, close 1006 (WHATWG "fail the WebSocket connection"). */
function expectFailedConnections(seen: Record<string, Seen[]>, skip: readonly string[]): void {
  for (const [variant, runs] of Object.entries(seen)) {
    if (skip.includes(variant)) continue;
    for (const s of runs) {
      if (variant === 'handshake/frames-with-101') expect(s, variant).toMatchObject({ opened: true, code: 1000 });
      else expect(s, variant).toMatchObject({ opened: false, errored: true, code: 1006 });
    }
  }
}

describe("this project's client", () => {
  it('fails every defective response and reads frames sent with the 101; the application sees error, then close 1006', async () => {
    const { outcomes, seen } = await byVariant(browserClient({ handshakeTimeout: 300 }), 300);
    // It offers client_max_window_bits (as browsers do), so a response carrying it unasked cannot be tried.
    expect(outcomes).toEqual(allPass({ [NOT_OFFERED]: 'n/a: the client offered client_max_window_bits' }));
    expectFailedConnections(seen, [NOT_OFFERED]);
    for (const s of Object.values(seen).flat()) if (!s.opened) expect(s.wasClean).toBe(false);
  });

  it('offering permessage-deflate without client_max_window_bits, it fails a response that sets it', async () => {
    const collected = verdicts();
    const server = new FuzzingServer({
      port: 0,
      seed: 2,
      cases: 3,
      families: ['handshake'],
      skip: CLIENT_HANDSHAKE_VARIANTS.filter((x) => x !== NOT_OFFERED),
      onVerdict: collected.onVerdict,
    });
    const { port } = await server.listen();
    try {
      const seen = await runCases(
        browserClient({ perMessageDeflate: { clientMaxWindowBits: false } }),
        port,
        'no-cmwb',
        [1, 2, 3],
      );
      const results = await collected.settled('no-cmwb', 3);
      for (const r of results) {
        expect(r.verdict).toEqual({ status: 'pass' });
        expect(r.extensions).toEqual({
          offered: 'permessage-deflate',
          response: 'permessage-deflate; client_max_window_bits=10',
        });
      }
      for (const s of seen) expect(s).toMatchObject({ opened: false, errored: true, code: 1006 });
    } finally {
      await server.close();
    }
  });

  it('the built echo client passes every case it is given, and exits non-zero exactly on the failed handshakes', async () => {
    const collected = verdicts();
    const count = 24;
    // No stalled heads: the echo client keeps its 30 s default handshake timeout.
    const server = new FuzzingServer({
      port: 0,
      seed: 5,
      cases: count,
      families: ['handshake'],
      onVerdict: collected.onVerdict,
    });
    const { port } = await server.listen();
    try {
      const exits: (number | null)[] = [];
      for (let n = 1; n <= count; n++)
        exits.push((await runEchoClient(port, 'echo-client', ['--cases', String(n)])).code);
      const results = await collected.settled('echo-client', count);
      for (const r of results) {
        expect(r.verdict.status, `${r.case} ${r.description}`).toBe(r.variant === NOT_OFFERED ? 'n/a' : 'pass');
        // The echo client stops at a failed connection, reporting it; an opened one (or a plain n/a close) is fine.
        const opened = r.variant === 'handshake/frames-with-101' || r.variant === NOT_OFFERED;
        expect(exits[r.case - 1], `${r.case} ${r.description}`).toBe(opened ? 0 : 1);
      }
      expect(new Set(results.map((r) => r.variant)).size).toBeGreaterThan(12);
    } finally {
      await server.close();
    }
  });
});

describe('ws 8.23', () => {
  it('deviations asserted variant by variant', async () => {
    const { outcomes, seen } = await byVariant(wsClient({ handshakeTimeout: 300 }), 300);
    const opened =
      'sent a text frame after a defective response: a client must fail the connection without sending anything (RFC 6455 §4.1)';
    expect(outcomes).toEqual(
      allPass({
        [NOT_OFFERED]: 'n/a: the client offered client_max_window_bits',
        // ws reads window bits with Number(), so "09" passes its 8–15 check; RFC 7692 §7.1.2 allows no leading zeros.
        'handshake/deflate/server-max-window-bits-with-a-leading-zero': opened,
        // ws takes the first permessage-deflate element of a response that accepts the extension twice.
        'handshake/deflate/permessage-deflate-accepted-twice': opened,
      }),
    );
    expectFailedConnections(seen, [
      NOT_OFFERED,
      'handshake/deflate/server-max-window-bits-with-a-leading-zero',
      'handshake/deflate/permessage-deflate-accepted-twice',
    ]);
  });

  it('offering permessage-deflate without client_max_window_bits, it fails a response that sets it', async () => {
    const collected = verdicts();
    const server = new FuzzingServer({
      port: 0,
      seed: 2,
      cases: 2,
      families: ['handshake'],
      skip: CLIENT_HANDSHAKE_VARIANTS.filter((x) => x !== NOT_OFFERED),
      onVerdict: collected.onVerdict,
    });
    const { port } = await server.listen();
    try {
      // ws offers client_max_window_bits unless told `false` (its typings do not list false).
      await runCases(
        wsClient({ perMessageDeflate: { clientMaxWindowBits: false as unknown as number } }),
        port,
        'ws-no-cmwb',
        [1, 2],
      );
      for (const r of await collected.settled('ws-no-cmwb', 2)) expect(r.verdict).toEqual({ status: 'pass' });
    } finally {
      await server.close();
    }
  });
});
