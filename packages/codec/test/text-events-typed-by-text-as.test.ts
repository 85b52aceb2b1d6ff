/**
 * An endpoint's events are typed by its `textAs` option, so code that reads
 * text gets a string or bytes without a cast, and the default stays strings.
 * The type assertions are checked by the type-check of the tests; the runtime
 * assertions check that the types tell the truth.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ClientEndpoint, type EndpointEvent, ServerEndpoint, type TextAs } from '../src/index.js';
import { seededRandom } from './helpers.js';

/** Opens `server` against a client and delivers one text message to it. */
function firstText<T extends TextAs>(server: ServerEndpoint<T>, text: string): EndpointEvent<T> | undefined {
  const client = new ClientEndpoint('ws://localhost/', { random: seededRandom(2) });
  for (const b of client.takeOutgoing()) server.receive(b);
  server.nextEvent();
  server.send({ type: 'accept' });
  server.nextEvent();
  for (const b of server.takeOutgoing()) client.receive(b);
  client.nextEvent();
  client.send({ type: 'text', data: text });
  for (const b of client.takeOutgoing()) server.receive(b);
  return server.nextEvent();
}

describe('text events are typed by textAs', () => {
  it('strings by default', () => {
    const server = new ServerEndpoint();
    expectTypeOf(server).toEqualTypeOf<ServerEndpoint<'string'>>();
    const ev = firstText(server, 'héllo');
    if (ev?.type !== 'text') throw new Error(`expected text, got ${ev?.type}`);
    expectTypeOf(ev.data).toEqualTypeOf<string>();
    expect(ev.data).toBe('héllo');
  });

  it("bytes with textAs: 'bytes', on both roles and from a parsed request", () => {
    const server = new ServerEndpoint({ textAs: 'bytes' });
    expectTypeOf(server).toEqualTypeOf<ServerEndpoint<'bytes'>>();
    expectTypeOf(new ClientEndpoint('ws://localhost/', { textAs: 'bytes' })).toEqualTypeOf<ClientEndpoint<'bytes'>>();
    expectTypeOf(
      ServerEndpoint.fromParsedRequest(
        { method: 'GET', target: '/', httpVersion: '1.1', headers: [] },
        { textAs: 'bytes' },
      ),
    ).toEqualTypeOf<ServerEndpoint<'bytes'>>();
    const ev = firstText(server, 'héllo');
    if (ev?.type !== 'text') throw new Error(`expected text, got ${ev?.type}`);
    expectTypeOf(ev.data).toEqualTypeOf<Uint8Array>();
    expect(ev.data).toEqual(new TextEncoder().encode('héllo'));
  });

  it('either when the mode is only known at run time', () => {
    const mode = ['string', 'bytes'][Number(process.env.TEXT_AS_INDEX ?? 1)] as TextAs;
    const ev = firstText(new ServerEndpoint({ textAs: mode }), 'x');
    if (ev?.type !== 'text') throw new Error(`expected text, got ${ev?.type}`);
    expectTypeOf(ev.data).toEqualTypeOf<string | Uint8Array>();
    expect(ev.data).toBeInstanceOf(Uint8Array);
  });

  it('refuses a textAs that is neither', () => {
    expect(() => new ServerEndpoint({ textAs: 'utf16' as TextAs })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
