/**
 * The topics package runs in any runtime: its build imports nothing from
 * Node, and the core and the envelope work in a bare realm that has only
 * TextEncoder and TextDecoder.
 */
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
let bundle = '';

beforeAll(async () => {
  // Bundled as a browser bundler would: a Node built-in anywhere in the graph fails the build.
  const result = await build({
    entryPoints: [`${root}dist/index.js`],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'topics',
    platform: 'browser',
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0]!.text;
});

describe('the topics bundle', () => {
  it('has no Node imports in its build output', () => {
    const files = readdirSync(`${root}dist`).filter((f) => /\.c?js$/.test(f));
    expect(files).toContain('index.js');
    for (const file of files) {
      expect(readFileSync(`${root}dist/${file}`, 'utf8')).not.toMatch(
        /from\s+['"]node:|require\(['"]node:|\bBuffer\b|\bprocess\./,
      );
    }
  });

  it('recovers a subscription and encodes its envelopes in a bare realm', () => {
    const sandbox = { TextEncoder, TextDecoder, result: undefined as unknown };
    const context = vm.createContext(sandbox);
    expect(vm.runInContext('typeof Buffer + typeof process + typeof setTimeout', context)).toBe(
      'undefinedundefinedundefined',
    );
    vm.runInContext(bundle, context);
    vm.runInContext(
      `
      const { TopicsCore, encodeTopicsMessage, decodeTopicsMessage } = topics;
      const core = new TopicsCore();
      core.subscribe('c1', 'news', { epoch: 'e1', offset: 1 });
      const effects = core.takeEffects();
      core.brokerSubscribed('news');
      const fetches = effects.concat(core.takeEffects()).filter((e) => e.type === 'fetch');
      const history = { epoch: 'e1', latest: 2, publications: [{ offset: 2, data: new Uint8Array([9]) }] };
      for (const f of fetches) core.historyResult(f.id, history);
      const subscribed = core.takeEffects().find((e) => e.type === 'subscribed');
      const bytes = encodeTopicsMessage({ type: 'subscribed', topic: subscribed.topic, recovered: subscribed.recovered,
        epoch: subscribed.epoch, offset: subscribed.offset, publications: subscribed.publications });
      const back = decodeTopicsMessage(bytes);
      result = [back.type, back.recovered, back.offset, back.publications.map((p) => p.offset + ':' + p.data[0]).join()];
      `,
      context,
    );
    expect(sandbox.result).toEqual(['subscribed', true, 2, '2:9']);
  });
});
