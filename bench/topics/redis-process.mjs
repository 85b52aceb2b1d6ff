/**
 * A real redis-server for the topics harness: on a free port of 127.0.0.1,
 * without persistence (`--save '' --appendonly no`), stopped by its PID. A
 * restart on the same port loses every key, as a Redis restart without
 * persistence does. `redisCommand` sends one command over RESP for the
 * faults the harness injects (`CLIENT KILL TYPE pubsub`).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';

export const REDIS_SERVER = '/usr/bin/redis-server';

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  server.close();
  await once(server, 'close');
  return port;
}

export async function startRedis() {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} is missing: run node scripts/ensure-debian-packages.mjs redis-server`);
  }
  const port = await freePort();
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const started = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    await new Promise((resolve, reject) => {
      const onData = (chunk) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          started.stdout?.off('data', onData);
          started.stdout?.resume();
          started.off('exit', onExit);
          resolve(undefined);
        }
      };
      const onExit = (code) => reject(new Error(`redis-server exited with ${code}: ${output}`));
      started.stdout?.on('data', onData);
      started.once('exit', onExit);
      started.once('error', reject);
    });
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.pid === undefined) return;
    const exited = once(running, 'exit');
    process.kill(running.pid, 'SIGTERM');
    await exited;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    /** Stop and start again on the same port: everything stored is gone. */
    async restart() {
      await stop();
      await launch();
    },
  };
}

/** Sends one command and resolves with the first line of the reply. */
export function redisCommand(port, args) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.slice(0, reply.indexOf('\r\n')));
      }
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}
