/**
 * A client endpoint and a server endpoint complete the opening handshake
 * for any subprotocols, extension offers, extra fields and Origin, under
 * any chunking: the server reports what the client sent, and the client
 * opens with exactly what the server chose. Frames sent right behind either
 * head reach the other side.
 */
import fc from 'fast-check';
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/frames.js';
import { ClientEndpoint, type ExtensionElement, serializeExtensions, ServerEndpoint } from '../src/index.js';
import { passThroughExtension } from './helpers.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 10 });
const VISIBLE = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i));
const fieldValue = fc.string({ unit: fc.constantFrom(...VISIBLE, '\t'), maxLength: 30 }).map((v) => v.trim());

const RESERVED = new Set([
  'host',
  'upgrade',
  'connection',
  'origin',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-accept',
  'content-length',
  'transfer-encoding',
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
  // One offer per extension name: an endpoint negotiates each extension once.
  extensions: fc.uniqueArray(extension, { maxLength: 3, selector: (e) => e.name.toLowerCase() }),
  headers: fc.array(fc.tuple(headerName, fieldValue), { maxLength: 6 }),
  origin: fc.option(fc.webUrl(), { nil: undefined }),
  protocolChoice: fc.nat(),
  extensionChoice: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  cuts: fc.uniqueArray(fc.nat(), { maxLength: 6 }),
  early: fc.string({ maxLength: 16 }),
  maskKey: fc.uint8Array({ minLength: 4, maxLength: 4 }),
});

function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end));
}

describe('client ⇄ server endpoint handshake round trip', () => {
  it('opens with exactly what the server chose, for any offers and any chunking', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const url = `${s.secure ? 'wss' : 'ws'}://example.test${s.port === undefined ? '' : `:${s.port}`}${s.path || '/'}${s.query === undefined ? '' : `?${s.query}`}`;
        const client = new ClientEndpoint(url, {
          protocols: s.protocols,
          extensions: s.extensions.map((offer) => passThroughExtension(offer)),
          headers: s.headers,
          origin: s.origin,
        });
        const chosen = s.extensions.filter((_, i) => s.extensionChoice[i]);
        // The server supports exactly the chosen extensions.
        const server = new ServerEndpoint({ extensions: chosen.map((offer) => passThroughExtension(offer)) });

        // A message the client sends right behind its request (it should not, but may: §4.1).
        const early = encodeFrame({ opcode: 1, maskKey: s.maskKey }, new TextEncoder().encode(s.early));
        for (const chunk of split(concat([...client.takeOutgoing(), early]), s.cuts)) server.receive(chunk);
        const request = server.nextEvent();
        if (request?.type !== 'request') throw new Error(`expected a request, got ${JSON.stringify(request)}`);
        expect(server.nextEvent()).toBeUndefined();
        expect(request.protocols).toEqual(s.protocols);
        expect(request.extensions).toEqual(s.extensions);
        expect(request.origin).toBe(s.origin ?? null);
        expect(request.key).toBe(client.key);
        expect(`${request.path}${request.query === '' ? '' : `?${request.query}`}`).toBe(
          `${client.url.pathname}${client.url.search}`,
        );
        for (const [name, value] of s.headers) expect(request.headers.getAll(name)).toContain(value);

        const protocol = s.protocols.length === 0 ? null : (s.protocols[s.protocolChoice % s.protocols.length] ?? null);
        server.send({ type: 'accept', protocol, headers: [['X-Chosen', 'yes']] });
        expect(server.events()).toMatchObject([
          { type: 'open', protocol },
          { type: 'text', data: s.early },
        ]);
        expect(server.extensions.map((e) => e.response)).toEqual(chosen);

        // An empty text message right behind the 101.
        server.send({ type: 'text', data: '' });
        for (const chunk of split(concat(server.takeOutgoing()), s.cuts)) client.receive(chunk);
        const events = client.events();
        const open = events[0];
        expect(open?.type).toBe('open');
        if (open?.type !== 'open') return;
        expect(open.protocol).toBe(protocol);
        expect(open.extensions).toBe(chosen.length === 0 ? '' : serializeExtensions(chosen));
        expect(client.extensions.map((e) => e.response)).toEqual(chosen);
        expect(open.headers.get('x-chosen')).toBe('yes');
        expect(events.slice(1)).toEqual([{ type: 'text', data: '' }]);
      }),
      { numRuns: 300 },
    );
  });
});
