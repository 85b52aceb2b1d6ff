/**
 * The implementations on the scoreboard (scoreboard.ts): echo servers for the
 * server suite and echo clients for the fuzzing server. Each runs as a process
 * of its own, started from a small script in packages/conformance/scoreboard/
 * (this project's own echo server and client are the packages' built ones)
 * and stopped by PID; Chromium's client is a page in headless Chromium.
 *
 * The runtimes come from the workspace: `bun` and `deno` are npm packages some
 * workspace package depends on, `ws` is the root's, playwright-core drives
 * Debian's /usr/bin/chromium. A peer whose runtime is missing says why
 * (`missing()`), and the scoreboard leaves its column out.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The workspace root: this file is packages/conformance/{src,dist}/x. */
export const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPTS = join(WORKSPACE, 'packages', 'conformance', 'scoreboard');
const CHROMIUM = '/usr/bin/chromium';
/** The flags the workspace's browser tests use: without the background-networking ones Chromium floods the closed network. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SERVER_PEERS = ['node-server', 'ws', 'bun', 'deno'] as const;
export type ServerPeerId = (typeof SERVER_PEERS)[number];
export const CLIENT_PEERS = ['rfc6455', 'undici', 'deno', 'bun', 'chromium'] as const;
export type ClientPeerId = (typeof CLIENT_PEERS)[number];

/** The message size limit the servers that take one are started with (the limits family's size cases use it). */
const SERVER_LIMIT = 70_000;
/** This project's echo client's own limit (browser-client's echo-client.ts). */
const ECHO_CLIENT_LIMIT = 64 * 1024 * 1024;

/** Where an npm package is installed in the workspace (the root or any package's node_modules), or undefined. */
function findPackage(name: string): string | undefined {
  const packages = join(WORKSPACE, 'packages');
  const dirs = [WORKSPACE, ...(existsSync(packages) ? readdirSync(packages).map((d) => join(packages, d)) : [])];
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'package.json'))) continue;
    try {
      return dirname(createRequire(join(dir, 'package.json')).resolve(`${name}/package.json`));
    } catch {
      // not a dependency of this one
    }
  }
  return undefined;
}

/**
 * The runtime binaries themselves, not the npm packages' bin scripts: those
 * run the binary as a child of a Node process, and stopping that PID would
 * leave the runtime running. Each package copies its binary next to itself
 * from a platform package (bun in its install script, deno on first run, and
 * pnpm runs deno's install script only when allowed); until then the binary
 * is in that platform package.
 */
function runtimeBinary(name: 'bun' | 'deno'): string | undefined {
  const dir = findPackage(name);
  if (dir === undefined) return undefined;
  const copied = name === 'bun' ? join(dir, 'bin', 'bun.exe') : join(dir, 'deno');
  if (existsSync(copied)) return copied;
  const platform =
    name === 'bun'
      ? `@oven/bun-${process.platform}-${process.arch}`
      : `@deno/${process.platform}-${process.arch}${process.platform === 'linux' ? '-glibc' : ''}`;
  try {
    const source = dirname(createRequire(join(dir, 'package.json')).resolve(`${platform}/package.json`));
    const binary = name === 'bun' ? join(source, 'bin', 'bun') : join(source, 'deno');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

function versionOf(name: string): string | undefined {
  const dir = findPackage(name);
  return dir === undefined
    ? undefined
    : (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

function commandOutput(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return '';
  }
}

/** Versions of everything on the scoreboard, as far as they are installed. */
export function peerVersions(): Record<string, string> {
  const out: Record<string, string> = { Node: process.version.replace(/^v/, '') };
  if (process.versions.undici !== undefined) out.undici = process.versions.undici;
  const ws = versionOf('ws');
  if (ws !== undefined) out.ws = ws;
  const bun = runtimeBinary('bun');
  if (bun !== undefined) out.Bun = commandOutput(bun, ['--version']).trim();
  const deno = runtimeBinary('deno');
  if (deno !== undefined) out.Deno = /deno (\S+)/.exec(commandOutput(deno, ['--version']))?.[1] ?? '?';
  if (existsSync(CHROMIUM)) out.Chromium = /Chromium (\S+)/.exec(commandOutput(CHROMIUM, ['--version']))?.[1] ?? '?';
  const playwright = versionOf('playwright-core');
  if (playwright !== undefined) out['playwright-core'] = playwright;
  return out;
}

/** A child process whose output is kept (the last 64 KiB: a line per case) for the scoreboard and error messages. */
interface Child {
  readonly process: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function start(command: string, args: readonly string[], onLine?: (line: string) => void): Child {
  const child = spawn(command, args, {
    cwd: SCRIPTS,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  let pending = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-65_536);
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    keep(chunk);
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine?.(line);
  });
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (error) => {
      output += `\n${error.message}`;
      resolve(null);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? null : -1)));
  });
  return { process: child, output: () => output, exited };
}

/** Stops a child by its PID: SIGTERM, then SIGKILL if it is still there after 3 s. */
async function stop(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const pid = child.process.pid;
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = await Promise.race([
    child.exited.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 3_000))),
  ]);
  clearTimeout(timer);
  if (!killed && child.process.exitCode === null) {
    process.kill(pid, 'SIGKILL');
    await child.exited;
  }
}

interface RunningServer {
  readonly url: string;
  readonly pid: number;
  /** Set once the process has exited by itself (a crash, during the run). */
  readonly exitCode: () => number | null | undefined;
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

export interface ServerPeer {
  readonly id: ServerPeerId;
  readonly label: string;
  /** This project's implementation: a failing cell is a bug. */
  readonly ours: boolean;
  /** The limit it is started with; undefined when it has none to set (the limits family then runs its floods only). */
  readonly maxMessageSize: number | undefined;
  /** What the echo server is, for the notes under the table. */
  readonly setup: string;
  /** Why it cannot run here; undefined when it can. */
  readonly missing: () => string | undefined;
  readonly start: () => Promise<RunningServer>;
}

/** Starts an echo server that prints `listening on ws://127.0.0.1:PORT` once it listens. */
function startServer(command: string, args: readonly string[]): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let exitCode: number | null | undefined;
    const child = start(command, args, (line) => {
      const url = /listening on (ws:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      if (url === undefined || settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        url,
        pid: child.process.pid ?? -1,
        exitCode: () => exitCode,
        output: child.output,
        stop: () => stop(child),
      });
    });
    void child.exited.then((code) => {
      exitCode = code;
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited (${code}) before listening:\n${child.output()}`));
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      void stop(child);
      reject(new Error(`${command} ${args.join(' ')} did not listen within 30 s:\n${child.output()}`));
    }, 30_000);
  });
}

const nodeServerBin = join(WORKSPACE, 'packages', 'node-server', 'bin', 'echo-server.mjs');
const nodeServerDist = join(WORKSPACE, 'packages', 'node-server', 'dist', 'index.js');

export const serverPeers: Readonly<Record<ServerPeerId, ServerPeer>> = {
  'node-server': {
    id: 'node-server',
    label: 'node-server (this project)',
    ours: true,
    maxMessageSize: SERVER_LIMIT,
    setup: `packages/node-server/bin/echo-server.mjs --max-message-size ${SERVER_LIMIT} (permessage-deflate accepted)`,
    missing: () =>
      existsSync(nodeServerDist)
        ? undefined
        : 'node-server is not built (pnpm --filter @rfc6455/node-server run build)',
    start: () =>
      startServer(process.execPath, [nodeServerBin, '--port', '0', '--max-message-size', String(SERVER_LIMIT)]),
  },
  ws: {
    id: 'ws',
    label: 'ws',
    ours: false,
    maxMessageSize: SERVER_LIMIT,
    setup: `scoreboard/ws-server.mjs: WebSocketServer { maxPayload: ${SERVER_LIMIT}, perMessageDeflate: true }`,
    missing: () => (findPackage('ws') === undefined ? 'the ws package is not installed' : undefined),
    start: () =>
      startServer(process.execPath, ['ws-server.mjs', '--port', '0', '--max-message-size', String(SERVER_LIMIT)]),
  },
  bun: {
    id: 'bun',
    label: 'Bun.serve',
    ours: false,
    maxMessageSize: SERVER_LIMIT,
    setup: `scoreboard/bun-server.mjs: Bun.serve with websocket { maxPayloadLength: ${SERVER_LIMIT}, perMessageDeflate: true }; a refused upgrade gets 400`,
    missing: () =>
      runtimeBinary('bun') === undefined ? 'the bun npm package (its binary) is not installed' : undefined,
    start: () =>
      startServer(runtimeBinary('bun') as string, [
        'bun-server.mjs',
        '--port',
        '0',
        '--max-message-size',
        String(SERVER_LIMIT),
      ]),
  },
  deno: {
    id: 'deno',
    label: 'Deno.serve',
    ours: false,
    maxMessageSize: undefined,
    setup:
      'scoreboard/deno-server.mjs: Deno.serve + Deno.upgradeWebSocket (no message size option, so limits runs its floods only; it offers no permessage-deflate); a refused upgrade (it throws) gets 400',
    missing: () =>
      runtimeBinary('deno') === undefined ? 'the deno npm package (its binary) is not installed' : undefined,
    start: () =>
      startServer(runtimeBinary('deno') as string, [
        'run',
        '--allow-net=127.0.0.1',
        '--no-prompt',
        'deno-server.mjs',
        '--port',
        '0',
      ]),
  },
};

/** One invocation of a client on some cases of a fuzzing server. */
export interface ClientRun {
  /** null when it was stopped at the deadline. */
  readonly exitCode: number | null;
  readonly output: string;
}

export interface ClientRunner {
  /** Runs `cases` of the fuzzing server at `url` as `agent`; stops the client if it is not done by `deadline` ms. */
  readonly run: (url: string, agent: string, cases: readonly number[], deadline: number) => Promise<ClientRun>;
  readonly close: () => Promise<void>;
}

export interface ClientPeer {
  readonly id: ClientPeerId;
  readonly label: string;
  readonly ours: boolean;
  /** Its largest message, when known and not too large to test: enables the limits family's size cases. */
  readonly maxMessageSize: number | undefined;
  /** It exits at the first handshake it refuses (this project's echo client): handshake cases run one per invocation. */
  readonly stopsAtFailedHandshake: boolean;
  readonly setup: string;
  readonly missing: () => string | undefined;
  readonly open: () => Promise<ClientRunner>;
}

/** A client that is a process: `args(url, agent, cases)` are its arguments. */
function processRunner(
  command: () => string,
  args: (url: string, agent: string, cases: readonly number[]) => string[],
): () => Promise<ClientRunner> {
  return async () => ({
    run: async (url, agent, cases, deadline) => {
      const child = start(command(), args(url, agent, cases));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const code = await Promise.race([
        child.exited,
        new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadline))),
      ]);
      clearTimeout(timer);
      if (code === 'deadline') {
        await stop(child);
        return { exitCode: null, output: child.output() };
      }
      return { exitCode: code, output: child.output() };
    },
    close: async () => {},
  });
}

const echoClientDist = join(WORKSPACE, 'packages', 'browser-client', 'dist', 'echo-client.js');
const casesArg = (cases: readonly number[]) => (cases.length > 0 ? ['--cases', cases.join(',')] : []);
/** Node 20 has the global WebSocket behind a flag; from Node 22 it is there without. */
const websocketFlag = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];

export const clientPeers: Readonly<Record<ClientPeerId, ClientPeer>> = {
  rfc6455: {
    id: 'rfc6455',
    label: 'browser-client (this project)',
    ours: true,
    maxMessageSize: ECHO_CLIENT_LIMIT,
    stopsAtFailedHandshake: true,
    setup: `packages/browser-client/dist/echo-client.js (offers permessage-deflate; its limit ${ECHO_CLIENT_LIMIT} bytes)`,
    missing: () =>
      existsSync(echoClientDist)
        ? undefined
        : 'browser-client is not built (pnpm --filter @rfc6455/browser-client run build)',
    open: processRunner(
      () => process.execPath,
      (url, agent, cases) => [echoClientDist, '--url', url, '--agent', agent, ...casesArg(cases)],
    ),
  },
  undici: {
    id: 'undici',
    label: "undici (Node's WebSocket)",
    ours: false,
    maxMessageSize: undefined,
    stopsAtFailedHandshake: false,
    setup: `scoreboard/undici-client.mjs: Node's global WebSocket${websocketFlag.length > 0 ? ' (node --experimental-websocket)' : ''}`,
    missing: () => undefined,
    open: processRunner(
      () => process.execPath,
      (url, agent, cases) => [
        ...websocketFlag,
        'undici-client.mjs',
        '--url',
        url,
        '--agent',
        agent,
        ...casesArg(cases),
      ],
    ),
  },
  deno: {
    id: 'deno',
    label: 'Deno',
    ours: false,
    maxMessageSize: undefined,
    stopsAtFailedHandshake: false,
    setup: "scoreboard/deno-client.mjs: Deno's WebSocket",
    missing: () =>
      runtimeBinary('deno') === undefined ? 'the deno npm package (its binary) is not installed' : undefined,
    open: processRunner(
      () => runtimeBinary('deno') as string,
      (url, agent, cases) => [
        'run',
        '--allow-net=127.0.0.1',
        '--no-prompt',
        'deno-client.mjs',
        '--url',
        url,
        '--agent',
        agent,
        ...casesArg(cases),
      ],
    ),
  },
  bun: {
    id: 'bun',
    label: 'Bun',
    ours: false,
    maxMessageSize: undefined,
    stopsAtFailedHandshake: false,
    setup: "scoreboard/bun-client.mjs: Bun's WebSocket",
    missing: () =>
      runtimeBinary('bun') === undefined ? 'the bun npm package (its binary) is not installed' : undefined,
    open: processRunner(
      () => runtimeBinary('bun') as string,
      (url, agent, cases) => ['bun-client.mjs', '--url', url, '--agent', agent, ...casesArg(cases)],
    ),
  },
  chromium: {
    id: 'chromium',
    label: 'Chromium',
    ours: false,
    maxMessageSize: undefined,
    stopsAtFailedHandshake: false,
    setup: `scoreboard/chromium-client.html in headless ${CHROMIUM} (playwright-core): the page's native WebSocket`,
    missing: () =>
      !existsSync(CHROMIUM)
        ? `${CHROMIUM} is missing (node scripts/ensure-debian-packages.mjs chromium)`
        : findPackage('playwright-core') === undefined
          ? 'playwright-core is not installed'
          : undefined,
    open: openChromium,
  },
};

/** The part of playwright-core used here (it is a dependency of other workspace packages, loaded from there). */
interface Page {
  goto(url: string): Promise<unknown>;
  waitForFunction(fn: string, arg: undefined, options: { timeout: number; polling: number }): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
  on(event: 'console', listener: (message: { text(): string }) => void): void;
  close(): Promise<void>;
}
interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: {
    launchPersistentContext(
      dir: string,
      options: { executablePath: string; args: string[]; headless: boolean },
    ): Promise<BrowserContext>;
  };
}

/** Headless Chromium with the echo page served from 127.0.0.1 (a page needs an origin to load its module). */
async function openChromium(): Promise<ClientRunner> {
  const dir = findPackage('playwright-core');
  if (dir === undefined) throw new Error('playwright-core is not installed');
  const playwright = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as Playwright;
  const files: Record<string, string> = {
    '/chromium-client.html': 'text/html; charset=utf-8',
    '/web-echo.mjs': 'text/javascript; charset=utf-8',
  };
  const pages = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const type = files[path];
    if (type === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': type }).end(readFileSync(join(SCRIPTS, path.slice(1))));
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), 'scoreboard-chromium-'));
  let context: BrowserContext;
  try {
    context = await playwright.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
    });
  } catch (error) {
    pages.close();
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    run: async (url, agent, cases, deadline) => {
      const page = await context.newPage();
      let output = '';
      page.on('console', (m) => {
        output = `${output}${m.text()}\n`.slice(-65_536);
      });
      try {
        const query = new URLSearchParams({ url, agent, cases: cases.join(',') });
        await page.goto(`${origin}/chromium-client.html?${query}`);
        await page.waitForFunction(
          'window.scoreboardDone !== undefined || window.scoreboardError !== undefined',
          undefined,
          { timeout: deadline, polling: 250 },
        );
        const error = await page.evaluate('window.scoreboardError');
        return {
          exitCode: error === undefined ? 0 : 1,
          output: error === undefined ? output : `${output}${String(error)}`,
        };
      } catch (error) {
        return { exitCode: null, output: `${output}${error instanceof Error ? error.message : String(error)}` };
      } finally {
        await page.close();
      }
    },
    close: async () => {
      await context.close();
      await new Promise<void>((resolve) => pages.close(() => resolve()));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
