// Client and server over an in-memory stream pair: no sockets at all. The
// server end is the codec's ServerEndpoint driven by hand.
import { type ExtensionElement, permessageDeflate, ServerEndpoint, UsageError } from '@rfc6455/codec';
import { createRequestHeadParser, switchingProtocolsResponse, validateUpgradeRequest } from '@rfc6455/codec/http';
import { describe, expect, test } from 'vitest';
import { type ByteStream, createByteStreamPair, WebSocket, WebSocketStream } from '../src/index.js';

interface Seen {
  headers: Map<string, string>;
  closeCode: number;
  messages: number;
  compressed: number;
  bytesAfterHead: number;
}

/** An echo server on one end of the pair; reports what it saw. */
function serveEcho(
  stream: ByteStream,
  opts: { protocol?: string; reject?: boolean; deflate?: boolean; answerExtensions?: ExtensionElement[] } = {},
) {
  const seen: Seen = {
    headers: new Map<string, string>(),
    closeCode: 0,
    messages: 0,
    compressed: 0,
    bytesAfterHead: 0,
  };
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  if (opts.answerExtensions !== undefined) return answerWith(reader, writer, opts.answerExtensions, seen);
  return (async () => {
    const endpoint = new ServerEndpoint({ extensions: opts.deflate ? [permessageDeflate({ threshold: 0 })] : [] });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        endpoint.receiveEof();
        endpoint.events();
        break;
      }
      if (endpoint.state === 'open' && (value[0] ?? 0) & 0x40) seen.compressed++; // RSV1 on a frame that starts this read
      endpoint.receive(value);
      for (let ev = endpoint.nextEvent(); ev; ev = endpoint.nextEvent()) {
        if (ev.type === 'protocol-error' && ev.phase === 'handshake') throw new Error(ev.reason);
        if (ev.type === 'request') {
          for (const [k, v] of ev.headers.entries()) seen.headers.set(k.toLowerCase(), v);
          if (opts.reject) endpoint.send({ type: 'reject', status: 401, body: 'who are you?' });
          else
            endpoint.send({
              type: 'accept',
              protocol: opts.protocol && ev.protocols.includes(opts.protocol) ? opts.protocol : null,
            });
        }
        if (ev.type === 'text') endpoint.send({ type: 'text', data: ev.data });
        if (ev.type === 'binary') endpoint.send({ type: 'binary', data: ev.data.slice() });
        if (ev.type === 'text' || ev.type === 'binary') seen.messages++;
        if (ev.type === 'close') seen.closeCode = ev.code;
      }
      for (const bytes of endpoint.takeOutgoing()) await writer.write(bytes);
      if (endpoint.shouldCloseTransport) {
        await writer.close();
        reader.releaseLock();
        break;
      }
    }
    return seen;
  })();
}

/**
 * A defective server: it answers the upgrade request with a 101 accepting
 * `extensions` whatever was offered (a response the client must refuse),
 * written with the codec's /http layer, then counts what the client still sends.
 */
async function answerWith(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  extensions: ExtensionElement[],
  seen: Seen,
): Promise<Seen> {
  const parser = createRequestHeadParser();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the client closed before its request was complete');
    const head = parser.push(value);
    if (head.type === 'incomplete') continue;
    if (head.type === 'invalid') throw new Error(head.reason);
    const verdict = validateUpgradeRequest(head.startLine, head.headers);
    if (!verdict.ok) throw new Error(verdict.reason);
    for (const [k, v] of head.headers.entries()) seen.headers.set(k.toLowerCase(), v);
    await writer.write(switchingProtocolsResponse(verdict.request.key, null, extensions, undefined));
    seen.bytesAfterHead += head.trailing.length;
    break;
  }
  // The client tears its transport down, which errors this end (the pair's abort).
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) seen.bytesAfterHead += r.value.length;
  } catch {}
  return seen;
}

describe('in-memory stream pair', () => {
  test('WebSocket: handshake, text, binary, headers, clean close', async () => {
    const [client, server] = createByteStreamPair();
    const served = serveEcho(server, { protocol: 'p2' });
    const ws = new WebSocket('ws://in-memory.test/room', ['p1', 'p2'], {
      transport: () => client,
      headers: [['X-Id', '42']],
      origin: 'https://app.example',
    });
    ws.binaryType = 'arraybuffer';
    const got: unknown[] = [];
    const closed = new Promise<{ code: number; wasClean: boolean }>((resolve) => {
      ws.onclose = (ev) => resolve(ev as never);
    });
    ws.onopen = () => {
      ws.send('ping ✓');
      ws.send(new Uint16Array([1, 2, 3]));
    };
    ws.onmessage = (ev) => {
      got.push((ev as MessageEvent).data);
      if (got.length === 2) ws.close(3001, 'bye');
    };
    const result = await closed;
    expect(ws.protocol).toBe('p2');
    expect(got[0]).toBe('ping ✓');
    expect([...new Uint16Array(got[1] as ArrayBuffer)]).toEqual([1, 2, 3]);
    expect(result).toMatchObject({ code: 3001, wasClean: true });
    const seen = await served;
    expect(seen.headers.get('x-id')).toBe('42');
    expect(seen.headers.get('origin')).toBe('https://app.example');
    expect(seen.closeCode).toBe(3001);
  });

  test('WebSocketStream over the pair', async () => {
    const [client, server] = createByteStreamPair();
    const served = serveEcho(server);
    const wss = new WebSocketStream('ws://in-memory.test/', { transport: () => client });
    const { readable, writable } = await wss.opened;
    const writer = writable.getWriter();
    const reader = readable.getReader();
    for (let i = 0; i < 50; i++) {
      await writer.write(`m${i}`);
      expect((await reader.read()).value).toBe(`m${i}`);
    }
    await writer.close();
    expect(await wss.closed).toEqual({ closeCode: 1005, reason: '' });
    expect((await served).messages).toBe(50);
  });

  test('a refusal is visible with its status and body', async () => {
    const [client, server] = createByteStreamPair();
    void serveEcho(server, { reject: true });
    const wss = new WebSocketStream('ws://in-memory.test/', { transport: () => client });
    const error = await wss.opened.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'HandshakeError', code: 'rejected', status: 401 });
    expect((error as { bodyText: string }).bodyText).toBe('who are you?');
    await expect(wss.closed).rejects.toMatchObject({ name: 'WebSocketError', closeCode: 1006 });
  });

  test('permessage-deflate against the codec as server: compressed both ways, reported in extensions', async () => {
    const [client, server] = createByteStreamPair();
    const served = serveEcho(server, { deflate: true });
    const wss = new WebSocketStream('ws://in-memory.test/', {
      transport: () => client,
      perMessageDeflate: { threshold: 0 },
    });
    const { readable, writable, extensions } = await wss.opened;
    expect(extensions).toBe('permessage-deflate');
    const writer = writable.getWriter();
    const reader = readable.getReader();
    for (let i = 0; i < 20; i++) {
      await writer.write(`message ${i} ✓`.repeat(i * 10));
      expect((await reader.read()).value).toBe(`message ${i} ✓`.repeat(i * 10));
    }
    await writer.close();
    await wss.closed;
    const seen = await served;
    expect(seen.headers.get('sec-websocket-extensions')).toBe('permessage-deflate; client_max_window_bits');
    expect(seen.compressed).toBeGreaterThan(0);
  });

  test('a refused extension response: error then close 1006, and not one frame sent', async () => {
    const [client, server] = createByteStreamPair();
    const served = serveEcho(server, {
      answerExtensions: [{ name: 'permessage-deflate', params: [{ name: 'server_max_window_bits', value: '16' }] }],
    });
    const ws = new WebSocket('ws://in-memory.test/', undefined, { transport: () => client });
    const order: string[] = [];
    let error: unknown;
    ws.onopen = () => order.push('open');
    ws.onerror = (ev) => {
      order.push('error');
      error = (ev as unknown as { error: Error }).error;
    };
    const closed = new Promise<{ code: number; wasClean: boolean }>((resolve) => {
      ws.onclose = (ev) => {
        order.push('close');
        resolve(ev as never);
      };
    });
    expect(await closed).toMatchObject({ code: 1006, wasClean: false });
    expect(order).toEqual(['error', 'close']);
    expect(error).toMatchObject({ name: 'HandshakeError', code: 'failed', failure: 'invalid-extensions' });
    expect(String(error)).toMatch(/server_max_window_bits/);
    expect(ws.extensions).toBe('');
    expect((await served).bytesAfterHead).toBe(0);
  });

  test('invalid perMessageDeflate options throw from the constructor', () => {
    const transport = () => createByteStreamPair()[0];
    expect(
      () => new WebSocket('ws://x.test/', undefined, { transport, perMessageDeflate: { serverMaxWindowBits: 16 } }),
    ).toThrow(UsageError);
    expect(
      () => new WebSocketStream('ws://x.test/', { transport, perMessageDeflate: { clientMaxWindowBits: 8 } }),
    ).toThrow(/clientMaxWindowBits/);
  });

  test('without a transport the main entry fails with a clear error', async () => {
    const ws = new WebSocket('ws://nowhere.test/');
    const error = await new Promise((resolve) => {
      ws.onerror = (ev) => resolve((ev as unknown as { error: Error }).error);
    });
    expect(String(error)).toMatch(/no transport/);
  });
});
