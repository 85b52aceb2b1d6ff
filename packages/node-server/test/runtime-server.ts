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
};

export type Runtime = 'deno' | 'bun';

export interface RuntimeServer {
  readonly runtime: string;
  readonly port: number;
  readonly url: string;
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
  const { line, stop } = await spawnFixture(runtime, fixtures.echo, JSON.stringify(options));
  const { runtime: version, port } = JSON.parse(line) as { runtime: string; port: number };
  return { runtime: version, port, url: `ws://127.0.0.1:${port}`, stop };
}

/** Runs the client scenarios' three servers on `runtime`. */
export async function startScenarioServers(runtime: Runtime): Promise<ScenarioServers> {
  const { line, stop } = await spawnFixture(runtime, fixtures.scenarios, '{}');
  return { ...(JSON.parse(line) as Omit<ScenarioServers, 'stop'>), stop };
}

/** Starts a fixture; resolves with its first stdout line and a stop function (kills it by PID). */
function spawnFixture(
  runtime: Runtime,
  fixture: string,
  json: string,
): Promise<{ line: string; stop: () => Promise<void> }> {
  const child: ChildProcess =
    runtime === 'deno'
      ? spawn(DENO, ['run', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', '--no-prompt', fixture, json], {
          env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
        })
      : spawn(BUN, [fixture, json], { env: { ...process.env, NO_COLOR: '1' } });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`${runtime} exited with ${code} before listening:\n${err}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      resolve({
        line: out.slice(0, nl),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
