/**
 * Starts this package's Bun or Deno listener in its runtime (the binaries of
 * the `bun` and `deno` npm packages) as a child process running
 * fixtures/runtime-echo-server.mjs, and stops it by its PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DENO = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url));
export const BUN = fileURLToPath(new URL('../node_modules/.bin/bun', import.meta.url));
const fixtures = {
  echo: fileURLToPath(new URL('./fixtures/runtime-echo-server.mjs', import.meta.url)),
  scenarios: fileURLToPath(new URL('./fixtures/runtime-scenario-server.mjs', import.meta.url)),
  web: fileURLToPath(new URL('./fixtures/runtime-web-server.mjs', import.meta.url)),
};

export type Runtime = 'deno' | 'bun';

export interface RuntimeServer {
  readonly runtime: string;
  readonly port: number;
  readonly url: string;
  /** Writes a line to the fixture's stdin. */
  tell(line: string): void;
  /** Lines printed after the first, as they arrive. */
  readonly later: readonly string[];
  /** Resolves once `later` holds at least `count` lines. */
  until(count: number): Promise<void>;
  stop(): Promise<void>;
}

/** The scenario servers' ports by name (plain, deflate, deflateNct). */
export interface ScenarioServers {
  readonly runtime: string;
  readonly ports: Readonly<Record<'plain' | 'deflate' | 'deflateNct', number>>;
  stop(): Promise<void>;
}

/** Runs the echo server on `runtime` with extra listener options; resolves once it listens. */
export async function startRuntimeServer(
  runtime: Runtime,
  options: Record<string, unknown> = {},
): Promise<RuntimeServer> {
  const fixture = await spawnFixture(runtime, fixtures.echo, JSON.stringify(options));
  const { runtime: version, port } = JSON.parse(fixture.line) as { runtime: string; port: number };
  return { ...fixture, runtime: version, port, url: `ws://127.0.0.1:${port}` };
}

/** Runs the client scenarios' three servers on `runtime`. */
export async function startScenarioServers(runtime: Runtime): Promise<ScenarioServers> {
  const { line, stop } = await spawnFixture(runtime, fixtures.scenarios, '{}');
  return { ...(JSON.parse(line) as Omit<ScenarioServers, 'stop'>), stop };
}

/** Starts a fixture; resolves with its first stdout line and a stop function (kills it by PID). */
function spawnFixture(runtime: Runtime, fixture: string, json: string): Promise<Fixture> {
  const child: ChildProcess =
    runtime === 'deno'
      ? spawn(DENO, ['run', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', '--no-prompt', fixture, json], {
          env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
          detached: true,
        })
      : spawn(BUN, [fixture, json], { env: { ...process.env, NO_COLOR: '1' }, detached: true });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`${runtime} exited with ${code} before listening:\n${err}`)));
    const later: string[] = [];
    const waiting = new Set<() => void>();
    let first: string | undefined;
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (first !== undefined) {
          later.push(line);
          for (const wake of waiting) wake();
          continue;
        }
        first = line;
        resolve({
          line,
          later,
          tell: (text) => child.stdin?.write(`${text}\n`),
          until: (count) =>
            new Promise<void>((done) => {
              const check = (): void => {
                if (later.length < count) return;
                waiting.delete(check);
                done();
              };
              waiting.add(check);
              check();
            }),
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              // node_modules/.bin/{deno,bun} are shell scripts that run the binary as their
              // child: signal the process group (spawned detached) so the server goes too.
              try {
                process.kill(-(child.pid as number), 'SIGTERM');
              } catch {
                child.kill('SIGTERM');
              }
            }),
        });
      }
    });
  });
}

/** A running fixture: its first stdout line, the lines after it, and how to stop it. */
export interface Fixture {
  readonly line: string;
  /** Lines printed after the first, as they arrive. */
  readonly later: readonly string[];
  /** Resolves once `later` holds at least `count` lines. */
  until(count: number): Promise<void>;
  /** Writes a line to the fixture's stdin. */
  tell(line: string): void;
  stop(): Promise<void>;
}

/** Runs the web-scenario server (fixtures/runtime-web-server.mjs) on `runtime`: its port, and its events as lines. */
export async function startWebScenarioServer(
  runtime: Runtime,
): Promise<Fixture & { readonly runtime: string; readonly port: number }> {
  const fixture = await spawnFixture(runtime, fixtures.web, '{}');
  const { runtime: version, port } = JSON.parse(fixture.line) as { runtime: string; port: number };
  return Object.assign(fixture, { runtime: version, port });
}
