/**
 * Echo clients for the fuzzing server, run in this process so each can be
 * configured (limits, handshake timeout, permessage-deflate offer) and so
 * what the application saw (open, error, close code) can be checked beside
 * the server's verdicts; and this project's built echo client, spawned.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WebSocket as BrowserClient, type WebSocketOptions } from '@rfc6455/browser-client/node';
import { type ClientOptions as WsClientOptions, WebSocket as WsClient } from 'ws';
import type { CaseVerdict } from '../src/index.js';

/** What the application saw of one case's connection. */
export interface Seen {
  readonly case: number;
  readonly opened: boolean;
  readonly errored: boolean;
  readonly code: number;
  readonly wasClean: boolean | undefined;
}

export type EchoClient = (url: string) => Promise<Omit<Seen, 'case'>>;

/** This project's client (the WHATWG interface), echoing every message while open. */
export function browserClient(options: WebSocketOptions = {}): EchoClient {
  return (url) =>
    new Promise((resolve) => {
      const ws = new BrowserClient(url, undefined, {
        maxMessageSize: 64 * 1024 * 1024,
        closeTimeout: 5_000,
        ...options,
      });
      ws.binaryType = 'arraybuffer';
      let opened = false;
      let errored = false;
      ws.onopen = () => {
        opened = true;
      };
      ws.onmessage = (ev) => {
        if (ws.readyState === BrowserClient.OPEN) ws.send((ev as MessageEvent).data as string | ArrayBuffer);
      };
      ws.onerror = () => {
        errored = true;
      };
      ws.onclose = (ev) => {
        const { code, wasClean } = ev as Event & { code: number; wasClean: boolean };
        resolve({ opened, errored, code, wasClean });
      };
    });
}

/** ws 8.23's client, echoing with the type it received. */
export function wsClient(options: WsClientOptions = {}): EchoClient {
  return (url) =>
    new Promise((resolve) => {
      const ws = new WsClient(url, { maxPayload: 64 * 1024 * 1024, ...options });
      let opened = false;
      let errored = false;
      ws.on('open', () => {
        opened = true;
      });
      ws.on('message', (data, isBinary) => {
        if (ws.readyState === WsClient.OPEN) ws.send(data, { binary: isBinary });
      });
      ws.on('error', () => {
        errored = true;
      });
      ws.on('close', (code) => resolve({ opened, errored, code, wasClean: undefined }));
    });
}

/** Runs cases one after another, each on its own connection. */
export async function runCases(
  client: EchoClient,
  port: number,
  agent: string,
  cases: readonly number[],
): Promise<Seen[]> {
  const seen: Seen[] = [];
  for (const n of cases)
    seen.push({ case: n, ...(await client(`ws://127.0.0.1:${port}/runCase?case=${n}&agent=${agent}`)) });
  return seen;
}

const require = createRequire(import.meta.url);
const echoClientPath = join(dirname(require.resolve('@rfc6455/browser-client/package.json')), 'dist', 'echo-client.js');

/** The built echo client on the given cases; resolves with its exit code and output. */
export function runEchoClient(
  port: number,
  agent: string,
  extra: readonly string[],
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [echoClientPath, '--url', `ws://127.0.0.1:${port}`, '--agent', agent, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/** Collects a fuzzing server's verdicts (its `onVerdict`), so a test can wait for a case's instead of racing the server. */
export function verdicts(): {
  readonly onVerdict: (agent: string, v: CaseVerdict) => void;
  readonly settled: (agent: string, count: number) => Promise<CaseVerdict[]>;
} {
  const byAgent = new Map<string, Map<number, CaseVerdict>>();
  let wake: (() => void) | undefined;
  return {
    onVerdict: (agent, v) => {
      let m = byAgent.get(agent);
      if (!m) byAgent.set(agent, (m = new Map()));
      m.set(v.case, v);
      wake?.();
    },
    settled: async (agent, count) => {
      while ((byAgent.get(agent)?.size ?? 0) < count) await new Promise<void>((resolve) => (wake = resolve));
      return [...(byAgent.get(agent)?.values() ?? [])].sort((a, b) => a.case - b.case);
    },
  };
}
