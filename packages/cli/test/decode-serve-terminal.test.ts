// `rfc6455 decode` and `rfc6455 serve` print strings the peer chose too: a
// close reason, text, a request target. On a real terminal (util-linux's
// script(1) gives the command one) their control characters are escaped,
// as `connect` does; piped, they are left as sent.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { CLI, run } from './helpers.js';

// C1 CSI and a right-to-left override: JSON.stringify leaves both as they are.
const REASON = 'bye\u009b2J\u202eevil';
const REASON_SHOWN = 'bye\\x9b2J\\u202eevil';
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are escaped before reaching a terminal.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function closeFrameHex(code: number, reason: string): string {
  const body = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
  return Buffer.concat([Buffer.from([0x88, body.length]), body]).toString('hex');
}

describe('on a terminal', () => {
  test('decode escapes a close reason’s control characters; piped, it prints them as sent', async () => {
    const hex = closeFrameHex(1000, REASON);
    const command = `'${process.execPath}' '${CLI}' decode --from server ${hex}`;
    const { stdout } = await promisify(execFile)('script', ['-q', '-e', '-c', command, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(stdout).toContain(REASON_SHOWN);
    expect(stdout.replaceAll('\r\n', '\n')).not.toMatch(UNSAFE);
    const piped = await run(['decode', '--from', 'server', hex]);
    expect(piped.stdout).toContain(REASON);
  });

  test('serve escapes the close reason a client sent', async () => {
    const command = `'${process.execPath}' '${CLI}' serve --host 127.0.0.1 --port 0`;
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    const seen = (pattern: RegExp): Promise<RegExpMatchArray> =>
      new Promise((resolve) => {
        const check = (): void => {
          const m = output.match(pattern);
          if (m !== null) {
            child.stdout.off('data', onData);
            resolve(m);
          }
        };
        const onData = (d: Buffer): void => {
          output += d.toString();
          check();
        };
        child.stdout.on('data', onData);
        check();
      });
    try {
      const [, port] = await seen(/listening on ws:\/\/[^:]+:(\d+)/);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((resolve) => ws.once('open', resolve));
      ws.close(1000, REASON);
      await seen(/closed 1000[^\n]*\n/);
      expect(output).toContain(REASON_SHOWN);
      expect(output.replaceAll('\r\n', '\n')).not.toMatch(UNSAFE);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
