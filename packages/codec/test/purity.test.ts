/**
 * The codec runs unchanged in any runtime: its bundle imports nothing from
 * Node, and it works in a bare JavaScript realm given only TextEncoder,
 * TextDecoder, crypto.getRandomValues and URL.
 */
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
let bundle = '';

beforeAll(async () => {
  // Bundle the built ESM entry as a browser bundler would; a Node built-in anywhere in the graph fails the build.
  const result = await build({
    entryPoints: [`${root}dist/index.js`],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'codec',
    platform: 'browser',
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0]!.text;
});

describe('the codec bundle', () => {
  it('has no Node imports in its own build output', () => {
    const files = readdirSync(`${root}dist`).filter((f) => /\.c?js$/.test(f));
    expect(files).toContain('index.js');
    for (const file of files) {
      const text = readFileSync(`${root}dist/${file}`, 'utf8');
      expect(text).not.toMatch(/from\s+['"]node:|require\(['"]node:|\bBuffer\b|\bprocess\./);
    }
  });

  it('runs a client/server session, handshake included, in a bare realm with only the web-standard globals it is allowed', () => {
    const sandbox = {
      TextEncoder,
      TextDecoder,
      URL,
      crypto: { getRandomValues: (b: Uint8Array) => globalThis.crypto.getRandomValues(b) },
      result: undefined as unknown,
    };
    const context = vm.createContext(sandbox);
    // No Node globals leak into the realm.
    expect(vm.runInContext('typeof Buffer + typeof process + typeof require + typeof setTimeout', context)).toBe(
      'undefinedundefinedundefinedundefined',
    );
    vm.runInContext(bundle, context);
    vm.runInContext(
      `
      const { ClientEndpoint, ServerEndpoint } = codec;
      const client = new ClientEndpoint('ws://bare.realm/chat', { protocols: ['p'] });
      const server = new ServerEndpoint();
      for (const chunk of client.takeOutgoing()) server.receive(chunk);
      const request = server.nextEvent();
      server.send({ type: 'accept', protocol: request.protocols[0] });
      for (const chunk of server.takeOutgoing()) client.receive(chunk);
      const open = client.nextEvent();
      client.send({ type: 'text', data: 'héllo from a bare realm' });
      client.send({ type: 'binary', data: new Uint8Array([1, 2, 3]) });
      for (const chunk of client.takeOutgoing()) server.receive(chunk);
      result = [request.type + ':' + request.path, open.type + ':' + open.protocol].concat(
        server.events().map((e) => e.type + ':' + (e.type === 'open' ? e.protocol : typeof e.data === 'string' ? e.data : Array.from(e.data).join(','))),
      );
      `,
      context,
    );
    expect(sandbox.result).toEqual([
      'request:/chat',
      'open:p',
      'open:p',
      'text:héllo from a bare realm',
      'binary:1,2,3',
    ]);
  });
});

describe('the codec source', () => {
  // The same program `tsc -p packages/codec` checks, plus one probe file in src/.
  function diagnosticsFor(probe: string): string[] {
    const configPath = `${root}tsconfig.json`;
    const config = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root);
    const probePath = `${root}src/__purity-probe__.ts`;
    const host = ts.createCompilerHost(config.options);
    const { getSourceFile, fileExists } = host;
    host.fileExists = (name) => name === probePath || fileExists.call(host, name);
    host.getSourceFile = (name, version, ...rest) =>
      name === probePath ? ts.createSourceFile(name, probe, version) : getSourceFile.call(host, name, version, ...rest);
    const program = ts.createProgram([...config.fileNames, probePath], config.options, host);
    return ts
      .getPreEmitDiagnostics(program, program.getSourceFile(probePath))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }

  it('type-checks with the globals it is allowed', () => {
    const allowed = `
      export const probe = [
        new TextEncoder().encode('x'),
        new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(1)),
        crypto.getRandomValues(new Uint8Array(4)),
        new URL('ws://a/').pathname,
        typeof WebAssembly === 'object' && WebAssembly.validate(new Uint8Array(8)),
      ];`;
    expect(diagnosticsFor(allowed)).toEqual([]);
  });

  it.each([
    ['Buffer', 'Buffer.from([1])'],
    ['setTimeout', 'setTimeout(() => {}, 1)'],
    ['process', 'process.env'],
    ['document', 'document.title'],
    ['fetch', "fetch('http://a/')"],
    ['queueMicrotask', 'queueMicrotask(() => {})'],
  ])('fails to type-check when it names %s', (name, expression) => {
    const found = diagnosticsFor(`export const probe = ${expression};`);
    expect(found.some((message) => message.includes(`'${name}'`))).toBe(true);
  });
});
