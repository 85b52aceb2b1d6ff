/**
 * permessage-deflate negotiation (RFC 7692 §5, §7) as the endpoints run it:
 * the offers a client endpoint writes, the choice a server endpoint makes
 * among the offers of a request, a client endpoint's validation of the 101,
 * and the whole exchange between the two.
 */
import { concat } from 'uint8arrays/concat';
import { describe, expect, it } from 'vitest';
import { computeAcceptKey, createRequestHeadParser, createResponseHeadParser } from '../src/http.js';
import {
  ClientEndpoint,
  type Endpoint,
  HandshakeFailure,
  type PerMessageDeflateParams,
  permessageDeflate,
  ServerEndpoint,
} from '../src/index.js';
import { deflateParams, feed, outgoingBytes, passThroughExtension, seededRandom } from './helpers.js';

const enc = new TextEncoder();
type DeflateOptions = Parameters<typeof permessageDeflate>[0];

/** A valid upgrade request offering the extensions in `header`. */
function requestOffering(header: string): Uint8Array {
  const lines = [
    'GET / HTTP/1.1',
    'Host: example.com',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Extensions: ${header}`,
  ];
  return enc.encode(`${lines.join('\r\n')}\r\n\r\n`);
}

/** The value of a field of the response an endpoint queued ('' when absent). */
function responseField(endpoint: Endpoint, name: string): string {
  const head = createResponseHeadParser().push(outgoingBytes(endpoint));
  if (head.type !== 'complete') throw new Error(`no complete response head: ${head.type}`);
  expect(head.startLine.status).toBe(101);
  return head.headers.get(name) ?? '';
}

/** What a server endpoint supporting permessage-deflate with `options` agrees to for the offers in `header`. */
function serverChoice(
  header: string,
  options: DeflateOptions = {},
): { header: string; params: PerMessageDeflateParams | undefined } {
  const server = new ServerEndpoint({ extensions: [permessageDeflate(options)] });
  server.receive(requestOffering(header));
  expect(server.nextEvent()?.type).toBe('request');
  server.send({ type: 'accept' });
  return { header: responseField(server, 'sec-websocket-extensions'), params: deflateParams(server) };
}

/** A 101 that answers `client`'s request, accepting the extensions in `header`. */
function switchingProtocols(client: ClientEndpoint, header: string): Uint8Array {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${computeAcceptKey(client.key)}`,
    `Sec-WebSocket-Extensions: ${header}`,
  ];
  return enc.encode(`${lines.join('\r\n')}\r\n\r\n`);
}

/** How a client endpoint offering permessage-deflate with `options` takes a 101 accepting `responseHeader`. */
function clientCheck(
  responseHeader: string,
  options: DeflateOptions = {},
): { ok: true; params: PerMessageDeflateParams | undefined } | { ok: false; reason: string } {
  const client = new ClientEndpoint('ws://example.com/', { extensions: [permessageDeflate(options)] });
  client.receive(switchingProtocols(client, responseHeader));
  const ev = client.nextEvent();
  if (ev?.type === 'open') return { ok: true, params: deflateParams(client) };
  expect(ev).toMatchObject({
    type: 'protocol-error',
    phase: 'handshake',
    status: 101,
    failure: HandshakeFailure.InvalidExtensions,
  });
  expect(client.shouldCloseTransport).toBe(true);
  return { ok: false, reason: ev?.type === 'protocol-error' ? ev.reason : '' };
}

/** The Sec-WebSocket-Extensions of the request a client endpoint queues. */
function offered(options: DeflateOptions): string {
  const client = new ClientEndpoint('ws://example.com/', { extensions: [permessageDeflate(options)] });
  const head = createRequestHeadParser().push(outgoingBytes(client));
  if (head.type !== 'complete') throw new Error(`no complete request head: ${head.type}`);
  return head.headers.get('sec-websocket-extensions') ?? '';
}

describe('client offers', () => {
  it('offers client_max_window_bits without a value by default, then any fallbacks in order', () => {
    expect(offered({})).toBe('permessage-deflate; client_max_window_bits');
    expect(
      offered({
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 12,
        fallbackOffers: [{}],
      }),
    ).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12, permessage-deflate',
    );
  });

  it('refuses to promise an 8-bit window for its own deflater', () => {
    expect(() => permessageDeflate({ clientMaxWindowBits: 8 })).toThrow(/clientMaxWindowBits/);
    expect(() => permessageDeflate({ serverMaxWindowBits: 16 })).toThrow(/serverMaxWindowBits/);
    expect(() => permessageDeflate({ level: 10 })).toThrow(/level/);
  });
});

describe('server choice', () => {
  it('accepts the plain offer with an empty response', () => {
    expect(serverChoice('permessage-deflate')).toEqual({
      header: 'permessage-deflate',
      params: {
        serverNoContextTakeover: false,
        clientNoContextTakeover: false,
        serverMaxWindowBits: 15,
        clientMaxWindowBits: 15,
      },
    });
  });

  it('declines offers with unknown, duplicate or invalid parameters and takes the next one', () => {
    for (const bad of [
      'permessage-deflate; foo',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; client_max_window_bits=10; client_max_window_bits=10',
      'permessage-deflate; server_max_window_bits',
      'permessage-deflate; server_max_window_bits=16',
      'permessage-deflate; server_max_window_bits=7',
      'permessage-deflate; server_max_window_bits=010',
      'permessage-deflate; client_max_window_bits=09',
      'permessage-deflate; client_max_window_bits=1x',
      'permessage-deflate; server_no_context_takeover=1',
      'permessage-deflate; server_max_window_bits=8', // our deflater cannot do 8
    ]) {
      expect(serverChoice(bad), bad).toEqual({ header: '', params: undefined });
      expect(serverChoice(`${bad}, permessage-deflate; client_max_window_bits`).header, bad).toBe('permessage-deflate');
    }
  });

  it('reads quoted values', () => {
    expect(serverChoice('permessage-deflate; server_max_window_bits="10"').header).toBe(
      'permessage-deflate; server_max_window_bits=10',
    );
  });

  it('echoes server_no_context_takeover and caps windows by the offer and its own options', () => {
    expect(
      serverChoice(
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11',
        { serverMaxWindowBits: 10 },
      ).header,
    ).toBe('permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11');
    expect(
      serverChoice('permessage-deflate; client_max_window_bits', {
        clientMaxWindowBits: 9,
        clientNoContextTakeover: true,
      }).header,
    ).toBe('permessage-deflate; client_no_context_takeover; client_max_window_bits=9');
    // Without the parameter in the offer the client may not be told its window.
    expect(serverChoice('permessage-deflate', { clientMaxWindowBits: 9 }).header).toBe('permessage-deflate');
    // A server may state its own window unasked.
    expect(serverChoice('permessage-deflate', { serverMaxWindowBits: 11 }).header).toBe(
      'permessage-deflate; server_max_window_bits=11',
    );
  });

  it('accepts 8 for the client window and reads it with 9', () => {
    expect(serverChoice('permessage-deflate; client_max_window_bits=8').params?.clientMaxWindowBits).toBe(8);
  });

  it('ignores other extensions and never throws on garbage', () => {
    expect(serverChoice('x-foo; a=b, permessage-deflate').header).toBe('permessage-deflate');
    // The name matches in any case; the unknown parameter declines the offer.
    expect(serverChoice('PERMESSAGE-DEFLATE; x=y')).toEqual({ header: '', params: undefined });
    // A parameter value that is no token even unquoted (§9.1) never reaches negotiation: the request is refused.
    const server = new ServerEndpoint({ extensions: [permessageDeflate()] });
    server.receive(requestOffering('PERMESSAGE-DEFLATE; x="\\""'));
    expect(server.nextEvent()).toMatchObject({
      type: 'protocol-error',
      phase: 'handshake',
      status: 400,
      failure: HandshakeFailure.BadRequest,
    });
    expect(new TextDecoder().decode(outgoingBytes(server))).toMatch(/^HTTP\/1\.1 400 /);
  });
});

describe('client validation of the response', () => {
  const fails = (response: string, options: DeflateOptions = {}) => {
    const r = clientCheck(response, options);
    expect(r.ok, response).toBe(false);
    return r.ok ? '' : r.reason;
  };

  it('accepts what it offered', () => {
    const r = clientCheck(
      'permessage-deflate; client_max_window_bits=10; server_max_window_bits=9; server_no_context_takeover',
    );
    expect(r.ok && r.params).toEqual({
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 9,
      clientMaxWindowBits: 10,
    });
  });

  it('fails with a clear reason on every rule of §7', () => {
    expect(fails('permessage-deflate; foo')).toMatch(/unknown parameter foo/);
    expect(fails('permessage-deflate; client_max_window_bits')).toMatch(/client_max_window_bits needs a value/);
    expect(fails('permessage-deflate; server_max_window_bits=10; server_max_window_bits=10')).toMatch(/duplicate/);
    expect(fails('permessage-deflate; server_max_window_bits=010')).toMatch(/8 to 15/);
    expect(fails('permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: false })).toMatch(
      /not offered/,
    );
    expect(fails('permessage-deflate; client_max_window_bits=8')).toMatch(/8-bit window/);
    expect(fails('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 })).toMatch(
      /exceeds the offered 10/,
    );
    expect(fails('permessage-deflate', { serverNoContextTakeover: true })).toMatch(/not echoed/);
    expect(fails('permessage-deflate, permessage-deflate')).toMatch(/more than once/);
  });

  it('matches the response against each offer in turn', () => {
    const options = { serverNoContextTakeover: true, fallbackOffers: [{}] };
    const r = clientCheck('permessage-deflate', options);
    expect(r.ok).toBe(true);
  });
});

describe('the whole handshake', () => {
  it('negotiates between a client and a server endpoint and carries messages', () => {
    const c = new ClientEndpoint('ws://example.com/', {
      extensions: [permessageDeflate({ serverNoContextTakeover: true, clientMaxWindowBits: 12 })],
      random: seededRandom(1),
    });
    const s = new ServerEndpoint({ extensions: [permessageDeflate({ clientMaxWindowBits: 10 })] });
    s.receive(outgoingBytes(c));
    expect(s.nextEvent()?.type).toBe('request');
    s.send({ type: 'accept' });
    const response = outgoingBytes(s);
    expect(new TextDecoder().decode(response)).toContain(
      'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10\r\n',
    );
    c.receive(response);
    expect(c.nextEvent()).toMatchObject({
      type: 'open',
      extensions: 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
    });
    expect(s.nextEvent()?.type).toBe('open');
    const agreed = {
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 10,
    };
    expect(deflateParams(c)).toEqual(agreed);
    expect(deflateParams(s)).toEqual(agreed);
    const text = 'negotiated and compressed '.repeat(100);
    c.send({ type: 'text', data: text });
    const wire = outgoingBytes(c);
    expect(wire[0]).toBe(0xc1);
    expect(wire.length).toBeLessThan(enc.encode(text).length / 4);
    expect(feed(s, [wire])).toEqual([{ type: 'text', data: text }]);
    s.send({ type: 'binary', data: enc.encode(text) });
    expect(feed(c, [outgoingBytes(s)])[0]).toMatchObject({ type: 'binary' });
  });

  it('never agrees to two extensions that claim the same RSV bit on one connection', () => {
    // A server takes the first of them the client offered and skips the other.
    const rival = passThroughExtension({ name: 'x-rival', params: [] }, 0x40);
    const server = new ServerEndpoint({ extensions: [permessageDeflate(), rival] });
    server.receive(requestOffering('x-rival, permessage-deflate'));
    server.nextEvent();
    server.send({ type: 'accept' });
    expect(responseField(server, 'sec-websocket-extensions')).toBe('x-rival');
    expect(server.extensions.map((e) => e.name)).toEqual(['x-rival']);

    // A client fails a response that accepts both.
    const client = new ClientEndpoint('ws://example.com/', { extensions: [permessageDeflate(), rival] });
    client.takeOutgoing();
    client.receive(switchingProtocols(client, 'permessage-deflate, x-rival'));
    expect(client.nextEvent()).toMatchObject({
      type: 'protocol-error',
      phase: 'handshake',
      failure: HandshakeFailure.InvalidExtensions,
      reason: expect.stringMatching(/RSV bit/),
    });
    expect(concat(client.takeOutgoing()).length).toBe(0);
  });
});
