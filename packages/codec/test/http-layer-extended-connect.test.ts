// The RFC 8441 client half on the public /http subpath, for a host that
// drives its own HTTP/2 stack: the fields of the extended CONNECT (§4, §5),
// and the checks of the response (RFC 6455 §4.1 steps 5–6, which §5 keeps).
import { describe, expect, it } from 'vitest';
import {
  extendedConnectRequestHeaders,
  HandshakeFailure,
  HttpHeaders,
  readExtendedConnectResponse,
  validateExtendedConnectResponse,
} from '../src/http.js';

describe('extendedConnectRequestHeaders', () => {
  it('writes the pseudo-header fields RFC 8441 fixes, the version and the offers', () => {
    const headers = extendedConnectRequestHeaders(new URL('wss://Example.COM:8443/chat?room=7'), {
      protocols: ['v2.chat', 'v1.chat'],
      extensions: [{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }],
      origin: 'https://app.example',
      headers: { Cookie: 'a=1', 'X-Trace': 't' },
    });
    expect(headers).toEqual({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': '/chat?room=7',
      ':authority': 'example.com:8443',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'v2.chat, v1.chat',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      origin: 'https://app.example',
      cookie: 'a=1',
      'x-trace': 't',
    });
    expect(headers).not.toHaveProperty('sec-websocket-key');
  });

  it('uses the http scheme for ws: and refuses fields HTTP/2 forbids', () => {
    expect(extendedConnectRequestHeaders(new URL('ws://h/'), {})[':scheme']).toBe('http');
    for (const name of ['Connection', 'Upgrade', 'Transfer-Encoding', 'Sec-WebSocket-Key', 'Host']) {
      expect(() => extendedConnectRequestHeaders(new URL('ws://h/'), { headers: { [name]: 'x' } })).toThrow();
    }
  });
});

describe('validateExtendedConnectResponse', () => {
  const offered = { protocols: ['v2.chat', 'v1.chat'], extensions: ['permessage-deflate'] };

  it('accepts a chosen subprotocol that was offered, with no key or accept to check', () => {
    const verdict = validateExtendedConnectResponse(new HttpHeaders([['sec-websocket-protocol', 'v1.chat']]), offered);
    expect(verdict).toEqual({ ok: true, protocol: 'v1.chat', extensions: [] });
  });

  it('refuses a subprotocol or an extension that was not offered', () => {
    const protocol = validateExtendedConnectResponse(new HttpHeaders([['sec-websocket-protocol', 'v3']]), offered);
    expect(protocol.ok).toBe(false);
    const extension = validateExtendedConnectResponse(new HttpHeaders([['sec-websocket-extensions', 'x-mux']]), {
      protocols: [],
      extensions: [],
    });
    expect(extension.ok).toBe(false);
  });
});

describe('readExtendedConnectResponse', () => {
  it("reads Node's response record: the status, and the fields without pseudo-headers", () => {
    const head = readExtendedConnectResponse({ headers: { ':status': 200, 'sec-websocket-protocol': 'v1.chat' } }, 100);
    expect(head.ok).toBe(true);
    if (head.ok) {
      expect(head.status).toBe(200);
      expect([...head.headers]).toEqual([['sec-websocket-protocol', 'v1.chat']]);
    }
  });

  it('refuses a missing status, upper-case names and too many fields', () => {
    expect(readExtendedConnectResponse({ headers: {} }, 100)).toMatchObject({
      ok: false,
      failure: HandshakeFailure.MalformedResponse,
    });
    expect(readExtendedConnectResponse({ status: 200, headers: [['Sec-WebSocket-Protocol', 'a']] }, 100)).toMatchObject(
      {
        ok: false,
        failure: HandshakeFailure.MalformedResponse,
      },
    );
    const many = Array.from({ length: 3 }, (_, i) => [`x-${i}`, 'v'] as const);
    expect(readExtendedConnectResponse({ status: 200, headers: many }, 2)).toMatchObject({
      ok: false,
      failure: HandshakeFailure.ResponseTooLarge,
    });
  });
});
