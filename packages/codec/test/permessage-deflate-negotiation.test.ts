/**
 * permessage-deflate negotiation (RFC 7692 §5, §7): offers, the server's
 * choice among them, the client's validation of the response, and the whole
 * exchange through ClientHandshake and ServerHandshake.
 */
import { describe, expect, it } from 'vitest';
import {
  acceptExtensions,
  ClientHandshake,
  Connection,
  negotiateExtensions,
  offerExtensions,
  parseExtensions,
  type PerMessageDeflateAgreement,
  permessageDeflate,
  serializeExtensions,
  ServerHandshake,
} from '../src/index.js';
import { feed, outgoingBytes, seededRandom } from './helpers.js';

const enc = new TextEncoder();

function offers(header: string) {
  const parsed = parseExtensions(header);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

function serverChoice(header: string, options: Parameters<typeof permessageDeflate>[0] = {}) {
  const { response, negotiated } = negotiateExtensions(offers(header), [permessageDeflate(options)]);
  return { header: response.length ? serializeExtensions(response) : '', params: (negotiated[0] as PerMessageDeflateAgreement | undefined)?.params };
}

function clientCheck(responseHeader: string, options: Parameters<typeof permessageDeflate>[0] = {}) {
  return acceptExtensions(offers(responseHeader), [permessageDeflate(options)]);
}

describe('client offers', () => {
  it('offers client_max_window_bits without a value by default, then any fallbacks in order', () => {
    expect(serializeExtensions(offerExtensions([permessageDeflate()]))).toBe('permessage-deflate; client_max_window_bits');
    const ext = permessageDeflate({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 12,
      fallbackOffers: [{}],
    });
    expect(serializeExtensions(offerExtensions([ext]))).toBe(
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
      params: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
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
      expect(serverChoice(bad).header, bad).toBe('');
      expect(serverChoice(`${bad}, permessage-deflate; client_max_window_bits`).header, bad).toBe('permessage-deflate');
    }
  });

  it('reads quoted values', () => {
    expect(serverChoice('permessage-deflate; server_max_window_bits="10"').header).toBe('permessage-deflate; server_max_window_bits=10');
  });

  it('echoes server_no_context_takeover and caps windows by the offer and its own options', () => {
    expect(serverChoice('permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11', { serverMaxWindowBits: 10 }).header).toBe(
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
    );
    expect(serverChoice('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 9, clientNoContextTakeover: true }).header).toBe(
      'permessage-deflate; client_no_context_takeover; client_max_window_bits=9',
    );
    // Without the parameter in the offer the client may not be told its window.
    expect(serverChoice('permessage-deflate', { clientMaxWindowBits: 9 }).header).toBe('permessage-deflate');
    // A server may state its own window unasked.
    expect(serverChoice('permessage-deflate', { serverMaxWindowBits: 11 }).header).toBe('permessage-deflate; server_max_window_bits=11');
  });

  it('accepts 8 for the client window and reads it with 9', () => {
    expect(serverChoice('permessage-deflate; client_max_window_bits=8').params?.clientMaxWindowBits).toBe(8);
  });

  it('ignores other extensions and never throws on garbage', () => {
    expect(serverChoice('x-foo; a=b, permessage-deflate').header).toBe('permessage-deflate');
    expect(negotiateExtensions([{ name: 'PERMESSAGE-DEFLATE', params: [{ name: 'x', value: '"' }] }], [permessageDeflate()]).response).toEqual([]);
  });
});

describe('client validation of the response', () => {
  const fails = (response: string, options: Parameters<typeof permessageDeflate>[0] = {}) => {
    const r = clientCheck(response, options);
    expect(r.ok, response).toBe(false);
    return r.ok ? '' : r.reason;
  };

  it('accepts what it offered', () => {
    const r = clientCheck('permessage-deflate; client_max_window_bits=10; server_max_window_bits=9; server_no_context_takeover');
    expect(r.ok && (r.negotiated[0] as PerMessageDeflateAgreement).params).toEqual({
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
    expect(fails('permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: false })).toMatch(/not offered/);
    expect(fails('permessage-deflate; client_max_window_bits=8')).toMatch(/8-bit window/);
    expect(fails('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 })).toMatch(/exceeds the offered 10/);
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
  it('negotiates through ClientHandshake and ServerHandshake and carries messages', () => {
    const clientExt = permessageDeflate({ serverNoContextTakeover: true, clientMaxWindowBits: 12 });
    const hs = new ClientHandshake('ws://example.com/', { extensions: offerExtensions([clientExt]), random: seededRandom(1) });
    const server = new ServerHandshake();
    server.receive(hs.request);
    const req = server.nextEvent();
    if (req?.type !== 'request') throw new Error('no request');
    const chosen = negotiateExtensions(req.extensions, [permessageDeflate({ clientMaxWindowBits: 10 })]);
    const accepted = server.accept({ extensions: chosen.response });
    expect(new TextDecoder().decode(accepted.response)).toContain(
      'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10\r\n',
    );
    hs.receive(accepted.response);
    const open = hs.nextEvent();
    if (open?.type !== 'open') throw new Error(`handshake: ${JSON.stringify(open)}`);
    const agreed = acceptExtensions(open.extensions, [clientExt]);
    if (!agreed.ok) throw new Error(agreed.reason);
    const c = new Connection({ role: 'client', extensions: agreed.negotiated, random: seededRandom(2) });
    const s = new Connection({ role: 'server', extensions: chosen.negotiated });
    const text = 'negotiated and compressed '.repeat(100);
    c.send({ type: 'text', data: text });
    const wire = outgoingBytes(c);
    expect(wire[0]).toBe(0xc1);
    expect(wire.length).toBeLessThan(enc.encode(text).length / 4);
    expect(feed(s, [wire])).toEqual([{ type: 'text', data: text }]);
    s.send({ type: 'binary', data: enc.encode(text) });
    expect(feed(c, [outgoingBytes(s)])[0]).toMatchObject({ type: 'binary' });
  });

  it('rejects two extensions that claim the same RSV bit on one connection', () => {
    const a = negotiateExtensions(offers('permessage-deflate'), [permessageDeflate()]).negotiated[0]!;
    expect(() => new Connection({ role: 'server', extensions: [a, a] })).toThrow(/RSV bit/);
  });
});
