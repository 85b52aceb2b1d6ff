import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import {
  isFieldValue,
  isToken,
  listHasToken,
  parseExtensions,
  parseSubprotocols,
  parseTokenList,
  serializeExtensions,
  serializeSubprotocols,
  type ExtensionElement,
} from '../src/header-grammar.js';
import { growthRatio } from './growth.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const element: fc.Arbitrary<ExtensionElement> = fc.record({
  name: token,
  params: fc.array(fc.record({ name: token, value: fc.option(token, { nil: null }) }), { maxLength: 4 }),
});

describe('tokens', () => {
  it('accepts tchar and rejects separators', () => {
    expect(isToken('permessage-deflate')).toBe(true);
    expect(isToken("!#$%&'*+-.^_`|~")).toBe(true);
    for (const bad of ['', 'a b', 'a,b', 'a;b', 'a"b', 'a=b', 'a/b', 'é', 'a\tb', '(x)', '{x}', 'a:b', 'a\u0000']) {
      expect(isToken(bad)).toBe(false);
    }
  });

  it('checks field values for control characters', () => {
    expect(isFieldValue('text/plain; charset=utf-8')).toBe(true);
    expect(isFieldValue('tab\tand obs-text \u00e9')).toBe(true);
    for (const bad of ['a\r\nb', 'a\nb', 'a\rb', 'nul\u0000', 'del\u007f', 'wide\u0100']) {
      expect(isFieldValue(bad)).toBe(false);
    }
  });
});

describe('comma lists', () => {
  it('parses token lists with OWS and empty elements', () => {
    expect(parseTokenList(' a ,b,, ,\tc ')).toEqual({ ok: true, value: ['a', 'b', 'c'] });
    expect(parseTokenList('')).toEqual({ ok: true, value: [] });
    expect(parseTokenList('a b').ok).toBe(false);
    expect(parseTokenList('a;b').ok).toBe(false);
  });

  it('finds tokens case-insensitively without failing on junk', () => {
    expect(listHasToken('keep-alive, Upgrade', 'upgrade')).toBe(true);
    expect(listHasToken('UPGRADE', 'upgrade')).toBe(true);
    expect(listHasToken('upgraded, "upgrade"', 'upgrade')).toBe(false);
    expect(listHasToken('', 'upgrade')).toBe(false);
  });

  it('parses Sec-WebSocket-Protocol and rejects duplicates and emptiness', () => {
    expect(parseSubprotocols('chat, superchat')).toEqual({ ok: true, value: ['chat', 'superchat'] });
    expect(parseSubprotocols('chat, chat').ok).toBe(false);
    expect(parseSubprotocols(' , ').ok).toBe(false);
    expect(parseSubprotocols('a b').ok).toBe(false);
  });
});

describe('Sec-WebSocket-Extensions', () => {
  it('parses parameters, quoted values and repeated offers in order', () => {
    const parsed = parseExtensions(
      'permessage-deflate; client_max_window_bits; server_max_window_bits="10", permessage-deflate ;a=1 ; a = 2,x-foo',
    );
    expect(parsed).toEqual({
      ok: true,
      value: [
        {
          name: 'permessage-deflate',
          params: [
            { name: 'client_max_window_bits', value: null },
            { name: 'server_max_window_bits', value: '10' },
          ],
        },
        {
          name: 'permessage-deflate',
          params: [
            { name: 'a', value: '1' },
            { name: 'a', value: '2' },
          ],
        },
        { name: 'x-foo', params: [] },
      ],
    });
  });

  it('unescapes quoted-pairs and requires a token after unescaping', () => {
    expect(parseExtensions('e; p="a\\bc"')).toEqual({
      ok: true,
      value: [{ name: 'e', params: [{ name: 'p', value: 'abc' }] }],
    });
    expect(parseExtensions('e; p="a b"').ok).toBe(false);
    expect(parseExtensions('e; p=""').ok).toBe(false);
  });

  it('rejects malformed lists', () => {
    for (const bad of [
      '',
      ',',
      ';',
      'e;',
      'e; =1',
      'e; p=',
      'e; p="1',
      'e; p="1\\',
      'e p',
      'e; p=1 2',
      '"e"',
      'e;; p',
    ]) {
      expect(parseExtensions(bad).ok, bad).toBe(false);
    }
  });

  it('serialises what it parses (round trip)', () => {
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 4 }), (elements) => {
        expect(parseExtensions(serializeExtensions(elements))).toEqual({ ok: true, value: elements });
      }),
    );
  });

  it('refuses to serialise non-tokens', () => {
    expect(() => serializeExtensions([{ name: 'a\r\nX-Evil: 1', params: [] }])).toThrow(UsageError);
    expect(() => serializeExtensions([{ name: 'e', params: [{ name: 'p', value: 'a b' }] }])).toThrow(UsageError);
    expect(() => serializeExtensions([])).toThrow(UsageError);
    expect(() => serializeSubprotocols(['a', 'a'])).toThrow(UsageError);
    expect(() => serializeSubprotocols(['a b'])).toThrow(UsageError);
    expect(serializeSubprotocols(['a', 'b'])).toBe('a, b');
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'a=;,"\\ \t\u0000é'), maxLength: 60 }), (text) => {
        const result = parseExtensions(text);
        if (result.ok) expect(parseExtensions(serializeExtensions(result.value))).toEqual(result);
      }),
    );
  });
});

describe('linear time on crafted input', () => {
  // Each about `n` characters long.
  const crafted: ReadonlyArray<(n: number) => string> = [
    (n) => 'a,'.repeat(n / 2),
    (n) => `e; p="${'\\a'.repeat(n / 2)}`,
    (n) => `e; p="${'a'.repeat(n)}`,
    (n) => 'e;'.repeat(n / 2),
    (n) => 'a '.repeat(n / 2),
    (n) => `e${' ; p = 1'.repeat(n / 8)}`,
    (n) => `${'\t'.repeat(n)}x`,
  ];

  it.each(crafted.map((make, i) => [i, make] as const))('case %i costs time linear in its length', (_, make) => {
    const ratio = growthRatio(
      make,
      (text) => [parseExtensions(text), parseSubprotocols(text), listHasToken(text, 'upgrade')],
      {
        size: 25_000,
        factor: 4,
      },
    );
    // 4 times the input: about 4 times the work when linear, 16 when quadratic.
    expect(ratio).toBeLessThan(8);
  });

  it('parses 100 000 characters of "a," to the right list', () => {
    const result = parseTokenList('a,'.repeat(50_000));
    expect(result.ok && result.value.length).toBe(50_000);
    expect(parseSubprotocols('a,'.repeat(50_000))).toMatchObject({ ok: false, reason: 'duplicate subprotocol "a"' });
  });
});
