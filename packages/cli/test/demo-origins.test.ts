// Which web pages may use the demo's WebSockets. A browser lets any page open
// a WebSocket to localhost; without an Origin check a page on any site could
// read the inspector feed (cross-site WebSocket hijacking). Real upgrade
// requests with foreign, missing and allowed Origin headers, to a demo
// started in this process and to `rfc6455 demo` as a process.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '@rfc6455/codec';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type Demo, type DemoOptions, startDemo } from '../src/demo-server.js';
import { parseOrigin } from '../src/origin-policy.js';
import type { TapMessage } from '../src/tap-message.js';
import { run, start, stop } from './helpers.js';

let staticDir: string;
beforeAll(() => {
  staticDir = mkdtempSync(join(tmpdir(), 'rfc6455-demo-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>demo</title>');
});
afterAll(() => rmSync(staticDir, { recursive: true, force: true }));

async function demoWith(options: Partial<DemoOptions> = {}): Promise<Demo> {
  return startDemo({ port: 0, host: '127.0.0.1', staticDir, ...options });
}

/** Opens a WebSocket with the given Origin (none when undefined): 'open', or the HTTP status of the refusal. */
function upgrade(url: string, origin?: string): Promise<{ result: 'open' | number; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.on('open', () => resolve({ result: 'open', ws }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ result: res.statusCode ?? 0, ws });
      res.resume();
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

describe('origins', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await demoWith();
  });
  afterAll(() => demo.close());

  test.each(['/inspect', '/echo', '/echo?deflate=off'])('%s refuses pages from other sites with 403', async (path) => {
    for (const origin of [
      'http://evil.example',
      `http://evil.example:${demo.port}`,
      'https://localhost',
      `http://localhost:${demo.port + 1}`,
      'null',
    ]) {
      expect((await upgrade(`ws://127.0.0.1:${demo.port}${path}`, origin)).result).toBe(403);
    }
  });

  test.each(['/inspect', '/echo', '/echo?deflate=off'])(
    '%s accepts the page’s own origins, and clients that send no Origin',
    async (path) => {
      for (const origin of [
        `http://localhost:${demo.port}`,
        `http://127.0.0.1:${demo.port}`,
        `http://[::1]:${demo.port}`,
        undefined,
      ]) {
        const { result, ws } = await upgrade(`ws://127.0.0.1:${demo.port}${path}`, origin);
        expect(result, String(origin)).toBe('open');
        ws.close();
      }
    },
  );

  test('a foreign page cannot read what another tab sent through the demo', async () => {
    const tab = (await upgrade(`ws://127.0.0.1:${demo.port}/echo?deflate=off`, `http://localhost:${demo.port}`)).ws;
    const echoed = once(tab, 'message');
    tab.send('the secret another tab typed');
    await echoed;
    tab.close();

    const evil = await upgrade(`ws://127.0.0.1:${demo.port}/inspect`, 'http://evil.example');
    expect(evil.result).toBe(403);

    // The secret is in the backlog: the page's own inspector reads it back.
    const own = new WebSocket(`ws://127.0.0.1:${demo.port}/inspect`, { origin: `http://localhost:${demo.port}` });
    const seen = await new Promise<string>((resolve) => {
      let text = '';
      own.on('message', (data) => {
        const m = JSON.parse(String(data)) as TapMessage;
        if (m.type === 'bytes') text += Buffer.from(m.base64, 'base64').toString('latin1');
        if (text.includes('the secret another tab typed')) resolve(text);
      });
    });
    expect(seen).toContain('the secret another tab typed');
    own.close();
  });

  test('--host and --allow-origin add origins; --allow-any-origin accepts all', async () => {
    const open = await demoWith({ host: 'localhost', allowedOrigins: [parseOrigin('HTTPS://Tools.Example:443/')] });
    try {
      expect((await upgrade(`ws://127.0.0.1:${open.port}/inspect`, 'https://tools.example')).result).toBe('open');
      expect((await upgrade(`ws://127.0.0.1:${open.port}/echo`, 'https://tools.example')).result).toBe('open');
      expect((await upgrade(`ws://127.0.0.1:${open.port}/echo`, 'https://tools.example:8443')).result).toBe(403);
      expect((await upgrade(`ws://127.0.0.1:${open.port}/echo`, 'http://evil.example')).result).toBe(403);
    } finally {
      await open.close();
    }
    const any = await demoWith({ allowAnyOrigin: true });
    try {
      expect((await upgrade(`ws://127.0.0.1:${any.port}/inspect`, 'http://evil.example')).result).toBe('open');
    } finally {
      await any.close();
    }
  });

  test('parseOrigin takes an origin as a browser writes it and refuses anything else with a typed error', () => {
    expect(parseOrigin('http://LOCALHOST:80')).toBe('http://localhost');
    expect(parseOrigin('https://tools.example:8443')).toBe('https://tools.example:8443');
    expect(parseOrigin('null')).toBe('null');
    for (const bad of [
      'tools.example',
      'ftp://tools.example',
      'https://tools.example/app',
      'https://u:p@tools.example',
      'https://tools.example?x=1',
      '*',
    ]) {
      expect(() => parseOrigin(bad), bad).toThrow(UsageError);
      try {
        parseOrigin(bad);
      } catch (error) {
        expect((error as UsageError).code).toBe('ERR_INVALID_ARGUMENT');
      }
    }
  });

  test('rfc6455 demo: --allow-origin on the command line, its help warns about --allow-any-origin', async () => {
    const demoProcess = await start(
      ['demo', '--port', '0', '--allow-origin', 'https://tools.example'],
      /http:\/\/localhost:(\d+)\//,
    );
    try {
      const port = demoProcess.match[1];
      expect((await upgrade(`ws://127.0.0.1:${port}/inspect`, 'https://tools.example')).result).toBe('open');
      expect((await upgrade(`ws://127.0.0.1:${port}/inspect`, 'https://evil.example')).result).toBe(403);
    } finally {
      await stop(demoProcess.child);
    }
    const bad = await run(['demo', '--port', '0', '--allow-origin', 'https://tools.example/path']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not an origin');
    const help = await run(['demo', '--help']);
    expect(help.stdout).toContain('--allow-any-origin');
    expect(help.stdout).toMatch(/any site you visit[\s\S]*can read what passes through it/);
  });
});
