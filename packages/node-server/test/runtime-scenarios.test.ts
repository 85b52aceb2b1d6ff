/**
 * browser-client's shared scenarios (its Node client, built) against the Bun
 * and Deno listeners run by the real binaries, with the same server
 * behaviours as its node-server project server. `deflateBadResponse` is left
 * out: it needs a deliberately malformed 101, which no server of this
 * package sends.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { missingPeers } from '../../../scripts/test-peers.js';
import { type PathRouter, startPathRouter } from './path-router.js';
import { BUN, DENO, type Runtime, type ScenarioServers, startScenarioServers } from './runtime-server.js';

type Scenario = (lib: unknown, base: string, extra: object) => Promise<void>;
const scenariosUrl = new URL('../../browser-client/test/fixtures/scenarios.mjs', import.meta.url).href;
const clientUrl = new URL('../../browser-client/dist/node.js', import.meta.url).href;
const { scenarios } = (await import(scenariosUrl)) as { scenarios: Record<string, Scenario> };
const NOT_FOR_A_SERVER = new Set(['deflateBadResponse']);
const names = Object.keys(scenarios).filter((name) => !NOT_FOR_A_SERVER.has(name));

const missing = missingPeers({ deno: DENO, bun: BUN });

describe.skipIf(missing !== null).each(['deno', 'bun'] as const)(
  'client scenarios against the %s listener',
  (runtime: Runtime) => {
    let servers: ScenarioServers;
    let router: PathRouter;
    let lib: unknown;
    beforeAll(async () => {
      lib = await import(clientUrl);
      servers = await startScenarioServers(runtime);
      router = await startPathRouter(servers.ports);
    });
    afterAll(async () => {
      await router?.close();
      await servers?.stop();
    });

    test('runs on the runtime', () => {
      expect(servers.runtime.startsWith(runtime)).toBe(true);
    });
    for (const name of names) {
      test(name, async () => {
        await (scenarios[name] as Scenario)(lib, router.url, {});
      });
    }
  },
);
