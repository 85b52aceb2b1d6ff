// A real peer: Debian's python3-websockets client (a strict RFC 7692
// implementation) against the server with permessage-deflate on, offering
// every combination of the four parameters. Each case must open, echo text
// and binary that compress and that do not, and close.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket, WebSocketServer } from '../src/index.js';
import { startServer } from './helpers.js';

// Debian's interpreter, which python3-websockets installs into; `python3` on
// PATH may be another one (e.g. pyenv's) without the module.
const PYTHON = '/usr/bin/python3';
const CLIENT = fileURLToPath(new URL('./fixtures/python-websockets-client.py', import.meta.url));
const INSTALL_HINT = "Debian's python3-websockets is needed (node scripts/ensure-debian-packages.mjs installs it)";

/** Keyword arguments of ClientPerMessageDeflateFactory; null leaves the parameter out. */
interface Case {
  readonly server_no_context_takeover: boolean;
  readonly client_no_context_takeover: boolean;
  readonly server_max_window_bits: number | null;
  readonly client_max_window_bits: number | true | null;
}

interface Echo {
  readonly name: string;
  readonly size: number;
  readonly kind: 'compressible' | 'plain' | 'probe';
  readonly same: boolean;
  /** Bytes that came back from the server for this echo (frame header included). */
  readonly wire: number;
}

interface Result {
  readonly case: Case;
  readonly offer: string | null;
  readonly response: string | null;
  readonly agreed: string[] | null;
  readonly echoes: Echo[];
  readonly error: string | null;
}

const WINDOWS = [8, 9, 10, 11, 12, 13, 14, 15];
const cases: Case[] = [];
for (const server_no_context_takeover of [false, true]) {
  for (const client_no_context_takeover of [false, true]) {
    for (const server_max_window_bits of [null, ...WINDOWS]) {
      for (const client_max_window_bits of [null, true as const, ...WINDOWS]) {
        cases.push({
          server_no_context_takeover,
          client_no_context_takeover,
          server_max_window_bits,
          client_max_window_bits,
        });
      }
    }
  }
}

function label(c: Case): string {
  const parts: string[] = [];
  if (c.server_no_context_takeover) parts.push('server_no_context_takeover');
  if (c.client_no_context_takeover) parts.push('client_no_context_takeover');
  if (c.server_max_window_bits !== null) parts.push(`server_max_window_bits=${c.server_max_window_bits}`);
  if (c.client_max_window_bits === true) parts.push('client_max_window_bits');
  else if (c.client_max_window_bits !== null) parts.push(`client_max_window_bits=${c.client_max_window_bits}`);
  return ['permessage-deflate', ...parts].join('; ');
}

/** Parameters of a response header, by name ('' for one without a value). */
function responseParams(header: string): Map<string, string> {
  const [name, ...params] = header.split(';').map((s) => s.trim());
  expect(name).toBe('permessage-deflate');
  return new Map(params.map((p) => (p.includes('=') ? (p.split('=') as [string, string]) : [p, ''])));
}

let running: ChildProcess | undefined;

async function runPython(url: string, input: readonly Case[]): Promise<Result[]> {
  const child = spawn(PYTHON, [CLIENT, url], { stdio: ['pipe', 'pipe', 'pipe'] });
  running = child;
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(JSON.stringify(input));
  const [code] = (await once(child, 'close')) as [number | null];
  running = undefined;
  if (code !== 0) throw new Error(`the python client exited with ${code}:\n${stderr}`);
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Result);
}

describe('python-websockets client against the server with permessage-deflate', () => {
  let wss: WebSocketServer;
  let results: Map<string, Result>;
  const serverSide = new Map<string, string>();

  beforeAll(async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: ${INSTALL_HINT}`);
    const probe = spawn(PYTHON, ['-c', 'import websockets.legacy.client, websockets.extensions.permessage_deflate'], {
      stdio: 'ignore',
    });
    const [probeCode] = (await once(probe, 'close')) as [number | null];
    if (probeCode !== 0) throw new Error(`${PYTHON} cannot import websockets: ${INSTALL_HINT}`);

    const started = await startServer({ perMessageDeflate: true });
    wss = started.wss;
    wss.on('connection', (ws: WebSocket, info) => {
      // What the server itself agreed to, keyed by the offer, to compare with what the client saw.
      serverSide.set(info.headers['sec-websocket-extensions'] ?? '', ws.extensions);
      ws.on('message', (data) => ws.send(data));
    });
    const all = await runPython(started.url, cases);
    results = new Map(all.map((r) => [label(r.case), r]));
  }, 120_000); // 360 connections in one process; each step in it has a 10 s deadline of its own

  afterAll(async () => {
    running?.kill();
    await wss?.close({ timeout: 1000 });
  });

  it('ran every case', () => {
    expect([...results.keys()].sort()).toEqual(cases.map(label).sort());
  });

  it.each(cases.map((c) => [label(c), c] as const))('%s', (name, c) => {
    const r = results.get(name)!;
    const declined = c.server_max_window_bits === 8;
    if (c.client_max_window_bits === 8 && !declined) {
      // The client promised to deflate with a 256-byte window, which zlib
      // (Python's as well) cannot do: Python's own compressor refuses to be
      // created, whatever an accepting server answers. The server's answer
      // is still one RFC 7692 allows (the codec's tests cover every such
      // answer), so nothing here is the server's to fix; this pins the cause.
      expect(r.error).toMatch(/Invalid initialization option/);
      return;
    }
    expect(r.error).toBeNull();
    expect(r.offer).toBe(name);
    expect(r.echoes.map((e) => e.name)).toEqual([
      'compressible text',
      'compressible binary',
      'random binary',
      'short text',
      'empty text',
      'context probe',
      'context probe again',
    ]);
    for (const e of r.echoes) expect(e.same, e.name).toBe(true);
    const compressible = r.echoes.filter((e) => e.kind === 'compressible');

    if (declined) {
      // Policy: the server will not deflate with an 8-bit window, so it declines the only offer.
      expect(r.response).toBeNull();
      expect(r.agreed).toEqual([]);
      for (const e of compressible) expect(e.wire).toBeGreaterThan(e.size);
      return;
    }

    // Accepted, and the answer states what the RFC ties acceptance to.
    expect(r.response).not.toBeNull();
    expect(serverSide.get(name)).toBe(r.response);
    expect(r.agreed).toHaveLength(1);
    const params = responseParams(r.response!);
    if (c.server_no_context_takeover) expect(params.get('server_no_context_takeover')).toBe(''); // §7.1.1.1
    if (c.server_max_window_bits !== null) {
      // §7.1.2.1: stated, with the offered value or less (the reported defect: 15 was left out).
      expect(Number(params.get('server_max_window_bits'))).toBeGreaterThanOrEqual(9);
      expect(Number(params.get('server_max_window_bits'))).toBeLessThanOrEqual(c.server_max_window_bits);
    }
    if (c.client_max_window_bits === null) expect(params.has('client_max_window_bits')).toBe(false); // §7.1.2.2

    // The server compressed what compresses...
    for (const e of compressible) expect(e.wire, e.name).toBeLessThan(e.size / 4);
    // ...and kept its context between messages unless asked not to: the same
    // message again costs fewer bytes with context, exactly as many without.
    const [probe, again] = r.echoes.filter((e) => e.kind === 'probe') as [Echo, Echo];
    if (c.server_no_context_takeover) expect(again.wire).toBe(probe.wire);
    else expect(again.wire).toBeLessThan(probe.wire);
  });
});
