import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClientHandshake,
  ServerHandshake,
  type ExtensionElement,
  type UpgradeRequestEvent,
} from '../src/handshake.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 10 });
const VISIBLE = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i));
const fieldValue = fc.string({ unit: fc.constantFrom(...VISIBLE, '\t'), maxLength: 30 }).map((v) => v.trim());

const RESERVED = new Set([
  'host', 'upgrade', 'connection', 'origin', 'sec-websocket-key', 'sec-websocket-version',
  'sec-websocket-protocol', 'sec-websocket-extensions', 'sec-websocket-accept', 'content-length', 'transfer-encoding',
]);
const headerName = token.filter((name) => !RESERVED.has(name.toLowerCase()));

const extension: fc.Arbitrary<ExtensionElement> = fc.record({
  name: token,
  params: fc.array(fc.record({ name: token, value: fc.option(token, { nil: null }) }), { maxLength: 3 }),
});

const scenario = fc.record({
  path: fc.webPath(),
  query: fc.option(fc.webQueryParameters(), { nil: undefined }),
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  secure: fc.boolean(),
  protocols: fc.uniqueArray(token, { maxLength: 5 }),
  extensions: fc.array(extension, { maxLength: 3 }),
  headers: fc.array(fc.tuple(headerName, fieldValue), { maxLength: 6 }),
  origin: fc.option(fc.webUrl(), { nil: undefined }),
  protocolChoice: fc.nat(),
  extensionChoice: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  cuts: fc.uniqueArray(fc.nat(), { maxLength: 6 }),
  early: fc.uint8Array({ maxLength: 16 }),
});

function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end));
}

describe('client ⇄ server handshake round trip', () => {
  it('opens with exactly what the server chose, for any offers and any chunking', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const url = `${s.secure ? 'wss' : 'ws'}://example.test${s.port === undefined ? '' : `:${s.port}`}${s.path || '/'}${s.query === undefined ? '' : `?${s.query}`}`;
        const client = new ClientHandshake(url, {
          protocols: s.protocols,
          extensions: s.extensions,
          headers: s.headers,
          origin: s.origin,
        });

        const server = new ServerHandshake();
        for (const chunk of split(client.request, s.cuts)) server.receive(chunk);
        server.receive(s.early);
        const request = server.nextEvent() as UpgradeRequestEvent;
        expect(request.type).toBe('request');
        expect(request.protocols).toEqual(s.protocols);
        expect(request.extensions).toEqual(s.extensions);
        expect(request.origin).toBe(s.origin ?? null);
        expect(request.key).toBe(client.key);
        expect(`${request.path}${request.query === '' ? '' : `?${request.query}`}`).toBe(
          `${client.url.pathname}${client.url.search}`,
        );
        for (const [name, value] of s.headers) expect(request.headers.getAll(name)).toContain(value);

        const protocol = s.protocols.length === 0 ? null : (s.protocols[s.protocolChoice % s.protocols.length] ?? null);
        const chosen = s.extensions.filter((_, i) => s.extensionChoice[i]);
        const accepted = server.accept({ protocol, extensions: chosen, headers: [['X-Chosen', 'yes']] });
        expect(accepted.trailing).toEqual(s.early);

        const frames = Uint8Array.of(0x81, 0x00);
        const response = new Uint8Array([...accepted.response, ...frames]);
        const afterOpen: number[] = [];
        for (const chunk of split(response, s.cuts)) {
          if (client.state === 'open') afterOpen.push(...chunk);
          else client.receive(chunk);
        }
        const open = client.nextEvent();
        expect(open?.type).toBe('open');
        if (open?.type !== 'open') return;
        expect(open.protocol).toBe(protocol);
        expect(open.extensions).toEqual(chosen);
        expect(open.headers.get('x-chosen')).toBe('yes');
        expect([...open.trailing, ...afterOpen]).toEqual([...frames]);
      }),
      { numRuns: 300 },
    );
  });
});
