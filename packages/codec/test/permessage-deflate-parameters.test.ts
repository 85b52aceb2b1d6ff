/**
 * RFC 7692 §7.1: how each of permessage-deflate's four parameters is accepted
 * or declined, in both roles. The rules are restated here from the RFC (not
 * from the implementation) and checked three ways: tables of offers and
 * responses, every possible offer against every server configuration, and
 * every possible response against every client configuration.
 *
 * Where the RFC leaves a choice, this codec's documented policy decides:
 * a server declines an offer that would have it deflate with an 8-bit window
 * (server_max_window_bits=8), and a client fails on a response asking it to
 * deflate with one (client_max_window_bits=8); zlib cannot produce either.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptExtensions,
  type DeflateOffer,
  type ExtensionElement,
  negotiateExtensions,
  parseExtensions,
  type PerMessageDeflateAgreement,
  type PerMessageDeflateOptions,
  type PerMessageDeflateParams,
  permessageDeflate,
  serializeExtensions,
} from '../src/index.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const WINDOWS = [8, 9, 10, 11, 12, 13, 14, 15] as const;

// --- the RFC's rules, restated --------------------------------------------

/** One offer's parameters; `clientMaxWindowBits: true` is the parameter without a value. */
interface OfferParams {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number | undefined;
  readonly clientMaxWindowBits: number | true | undefined;
}

/** One response's parameters (in a response every window parameter has a value). */
interface ResponseParams {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number | undefined;
  readonly clientMaxWindowBits: number | undefined;
}

/**
 * Reads an element under §7.1's rules: only the four names, none twice, no
 * value on the takeover ones, and on the window ones a decimal 8–15 without
 * leading zeros (§7.1.2.1, §7.1.2.2); only an offer's client_max_window_bits
 * may come without a value. A string names the broken rule.
 */
function readParams(element: ExtensionElement, inOffer: boolean): OfferParams | string {
  const out = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined as number | undefined,
    clientMaxWindowBits: undefined as number | true | undefined,
  };
  const seen = new Set<string>();
  for (const { name, value } of element.params) {
    if (seen.has(name)) return `${name} twice`;
    seen.add(name);
    if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
      if (value !== null) return `${name} with a value`;
      if (name === 'server_no_context_takeover') out.serverNoContextTakeover = true;
      else out.clientNoContextTakeover = true;
    } else if (name === 'client_max_window_bits' && value === null && inOffer) {
      out.clientMaxWindowBits = true;
    } else if (name === 'server_max_window_bits' || name === 'client_max_window_bits') {
      if (value === null || !/^(?:[89]|1[0-5])$/.test(value)) return `${name} without a value from 8 to 15`;
      if (name === 'server_max_window_bits') out.serverMaxWindowBits = Number(value);
      else out.clientMaxWindowBits = Number(value);
    } else {
      return `unknown parameter ${name}`;
    }
  }
  return out;
}

function readResponse(element: ExtensionElement): ResponseParams | string {
  return readParams(element, false) as ResponseParams | string;
}

/**
 * What a server must do to accept `offer` with `response` (§7.1.1, §7.1.2),
 * or the rule the response breaks. For client_max_window_bits this takes the
 * strict reading of §7.1.2.2: a server that uses the offered value answers
 * with it or less.
 */
function serverRuleBroken(offer: OfferParams, response: ResponseParams): string | undefined {
  // §7.1.1.1: accepting server_no_context_takeover means stating it.
  if (offer.serverNoContextTakeover && !response.serverNoContextTakeover)
    return '7.1.1.1: server_no_context_takeover not stated';
  // §7.1.2.1: accepting server_max_window_bits means stating it, with the same or a smaller value.
  if (offer.serverMaxWindowBits !== undefined) {
    if (response.serverMaxWindowBits === undefined) return '7.1.2.1: server_max_window_bits not stated';
    if (response.serverMaxWindowBits > offer.serverMaxWindowBits)
      return '7.1.2.1: server_max_window_bits above the offer';
  }
  // §7.1.2.2: no client_max_window_bits in the response to an offer without it.
  if (offer.clientMaxWindowBits === undefined && response.clientMaxWindowBits !== undefined)
    return '7.1.2.2: client_max_window_bits not offered';
  if (
    typeof offer.clientMaxWindowBits === 'number' &&
    response.clientMaxWindowBits !== undefined &&
    response.clientMaxWindowBits > offer.clientMaxWindowBits
  ) {
    return '7.1.2.2: client_max_window_bits above the offered value';
  }
  return undefined;
}

/**
 * When a client must fail a response to `offer` (§7.1: it accepts no offer
 * made). Unlike the server's rule above, a client_max_window_bits above the
 * offered value is no reason: the offered value already binds the client
 * "even if the server doesn't include [it] with a value greater than the one
 * in the extension negotiation offer" (§7.1.2.2).
 */
function clientMustFail(offer: OfferParams, response: ResponseParams): boolean {
  if (offer.serverNoContextTakeover && !response.serverNoContextTakeover) return true;
  if (
    offer.serverMaxWindowBits !== undefined &&
    (response.serverMaxWindowBits === undefined || response.serverMaxWindowBits > offer.serverMaxWindowBits)
  )
    return true;
  if (offer.clientMaxWindowBits === undefined && response.clientMaxWindowBits !== undefined) return true;
  return false;
}

/** The window the client may deflate with, and whether it may keep context, once `response` accepted `offer`. */
function clientBound(offer: OfferParams, response: ResponseParams): { window: number; noContext: boolean } {
  const offered = typeof offer.clientMaxWindowBits === 'number' ? offer.clientMaxWindowBits : 15;
  return {
    window: Math.min(offered, response.clientMaxWindowBits ?? 15),
    // §7.1.1.2: the offer is a promise; the response is a requirement.
    noContext: offer.clientNoContextTakeover || response.clientNoContextTakeover,
  };
}

// --- helpers ------------------------------------------------------------------

function offerHeader(o: OfferParams): string {
  const parts = ['permessage-deflate'];
  if (o.serverNoContextTakeover) parts.push('server_no_context_takeover');
  if (o.clientNoContextTakeover) parts.push('client_no_context_takeover');
  if (o.serverMaxWindowBits !== undefined) parts.push(`server_max_window_bits=${o.serverMaxWindowBits}`);
  if (o.clientMaxWindowBits === true) parts.push('client_max_window_bits');
  else if (o.clientMaxWindowBits !== undefined) parts.push(`client_max_window_bits=${o.clientMaxWindowBits}`);
  return parts.join('; ');
}

function responseHeader(r: ResponseParams): string {
  return offerHeader(r);
}

function elements(header: string): ExtensionElement[] {
  const parsed = parseExtensions(header);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

/** Server: the response header to `offers` ('' when declined) and the server's own parameters. */
function serve(
  offers: string,
  options: PerMessageDeflateOptions = {},
): { header: string; params: PerMessageDeflateParams | undefined } {
  const { response, negotiated } = negotiateExtensions(elements(offers), [permessageDeflate(options)]);
  return {
    header: response.length === 0 ? '' : serializeExtensions(response),
    params: (negotiated[0] as PerMessageDeflateAgreement | undefined)?.params,
  };
}

/** Client: validates a response header against what `options` offered. */
function validate(response: string, options: PerMessageDeflateOptions = {}): PerMessageDeflateParams | string {
  const r = acceptExtensions(elements(response), [permessageDeflate(options)]);
  return r.ok ? (r.negotiated[0] as PerMessageDeflateAgreement).params : r.reason;
}

/** The parameters a client's offer carries (the first offer has client_max_window_bits unless told not to). */
function offered(options: DeflateOffer, first = true): OfferParams {
  const c = options.clientMaxWindowBits ?? (first ? true : undefined);
  return {
    serverNoContextTakeover: options.serverNoContextTakeover === true,
    clientNoContextTakeover: options.clientNoContextTakeover === true,
    serverMaxWindowBits: options.serverMaxWindowBits,
    clientMaxWindowBits: c === false ? undefined : c,
  };
}

function* allOffers(): Generator<OfferParams> {
  for (const serverNoContextTakeover of [false, true]) {
    for (const clientNoContextTakeover of [false, true]) {
      for (const serverMaxWindowBits of [undefined, ...WINDOWS]) {
        for (const clientMaxWindowBits of [undefined, true as const, ...WINDOWS]) {
          yield { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits };
        }
      }
    }
  }
}

function* allResponses(): Generator<ResponseParams> {
  for (const serverNoContextTakeover of [false, true]) {
    for (const clientNoContextTakeover of [false, true]) {
      for (const serverMaxWindowBits of [undefined, ...WINDOWS]) {
        for (const clientMaxWindowBits of [undefined, ...WINDOWS]) {
          yield { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits };
        }
      }
    }
  }
}

/** Every configuration a server can be given (its own windows are 9–15: it never deflates with 8). */
function* allServerOptions(): Generator<DeflateOffer> {
  for (const serverNoContextTakeover of [false, true]) {
    for (const clientNoContextTakeover of [false, true]) {
      for (const serverMaxWindowBits of [undefined, 9, 12, 15]) {
        for (const clientMaxWindowBits of [undefined, 9, 12, 15]) {
          yield { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits };
        }
      }
    }
  }
}

/** What is wrong with the server's answer to `offer` under `options`, if anything. */
function serverProblem(
  options: DeflateOffer,
  offer: OfferParams,
  response: ExtensionElement[],
  params: PerMessageDeflateParams | undefined,
): string | undefined {
  if (offer.serverMaxWindowBits === 8)
    return response.length === 0 ? undefined : 'accepted an 8-bit server window (policy: declined)';
  if (response.length !== 1 || params === undefined) return 'declined';
  const r = readResponse(response[0]!);
  if (typeof r === 'string') return r;
  const broken = serverRuleBroken(offer, r);
  if (broken !== undefined) return broken;
  // The server keeps to its own configuration...
  if (options.serverNoContextTakeover && !r.serverNoContextTakeover) return 'own serverNoContextTakeover not stated';
  if (options.clientNoContextTakeover && !r.clientNoContextTakeover) return 'own clientNoContextTakeover not stated';
  if (options.serverMaxWindowBits !== undefined && (r.serverMaxWindowBits ?? 15) > options.serverMaxWindowBits)
    return 'own serverMaxWindowBits exceeded';
  if (
    typeof options.clientMaxWindowBits === 'number' &&
    offer.clientMaxWindowBits !== undefined &&
    (r.clientMaxWindowBits ?? 15) > options.clientMaxWindowBits
  ) {
    return 'own clientMaxWindowBits exceeded';
  }
  // ...and will do what it stated: deflate within its window, inflate whatever the client may send.
  if (params.serverMaxWindowBits !== (r.serverMaxWindowBits ?? 15))
    return `deflates with ${params.serverMaxWindowBits} bits`;
  if (params.serverNoContextTakeover !== r.serverNoContextTakeover) return 'context takeover differs from the response';
  const client = clientBound(offer, r);
  if (params.clientMaxWindowBits < client.window)
    return `inflates with ${params.clientMaxWindowBits} bits, client may use ${client.window}`;
  if (params.clientNoContextTakeover && !client.noContext) return 'expects a client reset the client never promised';
  return undefined;
}

// --- tables ---------------------------------------------------------------------

describe('server: offer → response (RFC 7692 §7.1)', () => {
  // [offer, server options, the response this server gives, what the RFC requires of any response]
  const table: Array<[string, PerMessageDeflateOptions, string, string]> = [
    // The reported defect: accepting server_max_window_bits=15 means stating it.
    [
      'permessage-deflate; client_max_window_bits=15; server_max_window_bits=15; client_no_context_takeover; server_no_context_takeover',
      {},
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15',
      'server_no_context_takeover and server_max_window_bits≤15 stated',
    ],
    [
      'permessage-deflate; server_max_window_bits=15',
      {},
      'permessage-deflate; server_max_window_bits=15',
      'server_max_window_bits≤15 stated',
    ],
    [
      'permessage-deflate; server_max_window_bits="15"',
      {},
      'permessage-deflate; server_max_window_bits=15',
      'a quoted value is the same value',
    ],
    [
      'permessage-deflate; server_max_window_bits=9',
      {},
      'permessage-deflate; server_max_window_bits=9',
      'server_max_window_bits≤9 stated',
    ],
    [
      'permessage-deflate; server_max_window_bits=12',
      { serverMaxWindowBits: 10 },
      'permessage-deflate; server_max_window_bits=10',
      'a smaller value accepts too',
    ],
    [
      'permessage-deflate; server_max_window_bits=9',
      { serverMaxWindowBits: 10 },
      'permessage-deflate; server_max_window_bits=9',
      'never above the offer',
    ],
    [
      'permessage-deflate',
      { serverMaxWindowBits: 10 },
      'permessage-deflate; server_max_window_bits=10',
      'a server may state it unasked',
    ],
    ['permessage-deflate; server_max_window_bits=8', {}, '', 'declining is allowed (policy: no 8-bit deflate)'],
    [
      'permessage-deflate; server_no_context_takeover',
      {},
      'permessage-deflate; server_no_context_takeover',
      'server_no_context_takeover stated',
    ],
    [
      'permessage-deflate',
      { serverNoContextTakeover: true },
      'permessage-deflate; server_no_context_takeover',
      'a server may state it unasked',
    ],
    [
      'permessage-deflate; client_no_context_takeover',
      {},
      'permessage-deflate; client_no_context_takeover',
      'optional (policy: echoed)',
    ],
    [
      'permessage-deflate',
      { clientNoContextTakeover: true },
      'permessage-deflate; client_no_context_takeover',
      'a server may require it unasked',
    ],
    ['permessage-deflate', {}, 'permessage-deflate', 'nothing required'],
    ['permessage-deflate; client_max_window_bits', {}, 'permessage-deflate', 'optional'],
    [
      'permessage-deflate; client_max_window_bits=10',
      {},
      'permessage-deflate; client_max_window_bits=10',
      'optional, at most 10 (policy: echoed)',
    ],
    ['permessage-deflate; client_max_window_bits=15', {}, 'permessage-deflate', 'optional'],
    [
      'permessage-deflate; client_max_window_bits=8',
      {},
      'permessage-deflate; client_max_window_bits=8',
      'optional; our inflater reads 8 with 9',
    ],
    [
      'permessage-deflate; client_max_window_bits',
      { clientMaxWindowBits: 10 },
      'permessage-deflate; client_max_window_bits=10',
      'the server may choose any value',
    ],
    [
      'permessage-deflate; client_max_window_bits=12',
      { clientMaxWindowBits: 10 },
      'permessage-deflate; client_max_window_bits=10',
      'at most the offered 12',
    ],
    [
      'permessage-deflate; client_max_window_bits=9',
      { clientMaxWindowBits: 10 },
      'permessage-deflate; client_max_window_bits=9',
      'at most the offered 9',
    ],
    ['permessage-deflate', { clientMaxWindowBits: 10 }, 'permessage-deflate', 'MUST NOT state it when not offered'],
    // Offers are tried in the client's order; one the server cannot serve is skipped.
    [
      'permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=15',
      {},
      'permessage-deflate; server_max_window_bits=15',
      'the second offer accepted, with its parameters',
    ],
    [
      'permessage-deflate; x=1, permessage-deflate; server_no_context_takeover',
      {},
      'permessage-deflate; server_no_context_takeover',
      'an unknown parameter declines the first',
    ],
  ];

  it.each(table)('%s with %j → %s (%s)', (offers, options, expected) => {
    const { header, params } = serve(offers, options);
    expect(header).toBe(expected);
    if (expected === '') return;
    // The response satisfies the RFC for the offer it accepted (the last one here when there are two).
    const offer = readParams(elements(offers).at(-1)!, true);
    if (typeof offer === 'string') throw new Error(offer);
    const response = readResponse(elements(header)[0]!);
    if (typeof response === 'string') throw new Error(response);
    expect(serverRuleBroken(offer, response)).toBeUndefined();
    // What the server will do matches what it stated.
    expect(params?.serverMaxWindowBits).toBe(response.serverMaxWindowBits ?? 15);
    expect(params?.serverNoContextTakeover).toBe(response.serverNoContextTakeover);
  });

  it('declines every malformed offer (§7.1: unknown, duplicate or invalid parameters)', () => {
    for (const bad of [
      'permessage-deflate; foo',
      'permessage-deflate; server_no_context_takeover=1',
      'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
      'permessage-deflate; server_max_window_bits',
      'permessage-deflate; server_max_window_bits=7',
      'permessage-deflate; server_max_window_bits=16',
      'permessage-deflate; server_max_window_bits=010',
      'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
      'permessage-deflate; client_max_window_bits=0',
      'permessage-deflate; client_max_window_bits=+9',
    ]) {
      expect(serve(bad).header, bad).toBe('');
    }
  });
});

describe('client: offer → response validation (RFC 7692 §7.1)', () => {
  type Row = [string, PerMessageDeflateOptions, string, Partial<PerMessageDeflateParams> | RegExp];
  const table: Row[] = [
    // server_max_window_bits offered: the response must state it, with the same or a smaller value.
    [
      'server_max_window_bits=10 stated',
      { serverMaxWindowBits: 10 },
      'permessage-deflate; server_max_window_bits=10',
      { serverMaxWindowBits: 10 },
    ],
    [
      'server_max_window_bits smaller',
      { serverMaxWindowBits: 10 },
      'permessage-deflate; server_max_window_bits=9',
      { serverMaxWindowBits: 9 },
    ],
    [
      'server_max_window_bits=8 (read with 9)',
      { serverMaxWindowBits: 10 },
      'permessage-deflate; server_max_window_bits=8',
      { serverMaxWindowBits: 8 },
    ],
    [
      'server_max_window_bits larger',
      { serverMaxWindowBits: 10 },
      'permessage-deflate; server_max_window_bits=11',
      /exceeds the offered 10/,
    ],
    [
      'server_max_window_bits left out',
      { serverMaxWindowBits: 10 },
      'permessage-deflate',
      /server_max_window_bits=10 was offered but not echoed/,
    ],
    [
      'server_max_window_bits=15 left out',
      { serverMaxWindowBits: 15 },
      'permessage-deflate',
      /server_max_window_bits=15 was offered but not echoed/,
    ],
    [
      'server_max_window_bits=15 stated',
      { serverMaxWindowBits: 15 },
      'permessage-deflate; server_max_window_bits=15',
      { serverMaxWindowBits: 15 },
    ],
    [
      'server_max_window_bits unasked',
      {},
      'permessage-deflate; server_max_window_bits=12',
      { serverMaxWindowBits: 12 },
    ],
    ['no window stated', {}, 'permessage-deflate', { serverMaxWindowBits: 15, clientMaxWindowBits: 15 }],
    // server_no_context_takeover offered: the response must state it; it may state it unasked.
    [
      'server_no_context_takeover stated',
      { serverNoContextTakeover: true },
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
    ],
    [
      'server_no_context_takeover left out',
      { serverNoContextTakeover: true },
      'permessage-deflate',
      /server_no_context_takeover was offered but not echoed/,
    ],
    [
      'server_no_context_takeover unasked',
      {},
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
    ],
    // client_no_context_takeover: always allowed in a response; an offered one binds the client anyway.
    [
      'client_no_context_takeover required',
      {},
      'permessage-deflate; client_no_context_takeover',
      { clientNoContextTakeover: true },
    ],
    [
      'client_no_context_takeover promised',
      { clientNoContextTakeover: true },
      'permessage-deflate',
      { clientNoContextTakeover: true },
    ],
    // client_max_window_bits: only when offered; an offered value binds the client whatever the answer.
    [
      'client_max_window_bits chosen by the server',
      {},
      'permessage-deflate; client_max_window_bits=10',
      { clientMaxWindowBits: 10 },
    ],
    [
      'client_max_window_bits below the offer',
      { clientMaxWindowBits: 11 },
      'permessage-deflate; client_max_window_bits=10',
      { clientMaxWindowBits: 10 },
    ],
    [
      'client_max_window_bits above the offer',
      { clientMaxWindowBits: 11 },
      'permessage-deflate; client_max_window_bits=12',
      { clientMaxWindowBits: 11 },
    ],
    [
      'client_max_window_bits left out of the answer',
      { clientMaxWindowBits: 11 },
      'permessage-deflate',
      { clientMaxWindowBits: 11 },
    ],
    [
      'client_max_window_bits not offered',
      { clientMaxWindowBits: false },
      'permessage-deflate; client_max_window_bits=15',
      /client_max_window_bits was not offered/,
    ],
    ['client_max_window_bits=8 (policy)', {}, 'permessage-deflate; client_max_window_bits=8', /8-bit window/],
    // Malformed responses (§7.1).
    ['unknown parameter', {}, 'permessage-deflate; foo', /unknown parameter foo/],
    [
      'valueless client_max_window_bits',
      {},
      'permessage-deflate; client_max_window_bits',
      /client_max_window_bits needs a value/,
    ],
    [
      'valueless server_max_window_bits',
      {},
      'permessage-deflate; server_max_window_bits',
      /server_max_window_bits needs a value/,
    ],
    ['window out of range', {}, 'permessage-deflate; server_max_window_bits=16', /8 to 15/],
    ['leading zero', {}, 'permessage-deflate; client_max_window_bits=09', /8 to 15/],
    ['duplicate', {}, 'permessage-deflate; client_no_context_takeover; client_no_context_takeover', /duplicate/],
    ['value on a takeover parameter', {}, 'permessage-deflate; server_no_context_takeover=1', /takes no value/],
    // With fallbacks the response may accept any of the offers.
    [
      'accepting the fallback',
      { serverMaxWindowBits: 10, fallbackOffers: [{}] },
      'permessage-deflate',
      { serverMaxWindowBits: 15 },
    ],
    [
      'accepting the first',
      { serverMaxWindowBits: 10, fallbackOffers: [{}] },
      'permessage-deflate; server_max_window_bits=10',
      { serverMaxWindowBits: 10 },
    ],
    [
      'server_max_window_bits=8 offered',
      { serverNoContextTakeover: true, fallbackOffers: [{ serverMaxWindowBits: 8 }] },
      'permessage-deflate; server_max_window_bits=8',
      { serverMaxWindowBits: 8, serverNoContextTakeover: false },
    ],
    [
      'accepting neither',
      { serverNoContextTakeover: true, fallbackOffers: [{ serverMaxWindowBits: 8 }] },
      'permessage-deflate',
      /server_no_context_takeover was offered but not echoed/,
    ],
  ];

  it.each(table)('%s: %j, %s', (_name, options, response, expected) => {
    const result = validate(response, options);
    if (expected instanceof RegExp) expect(result).toMatch(expected);
    else expect(result).toMatchObject(expected);
  });
});

// --- every offer, every response --------------------------------------------

describe('every offer and every response', () => {
  it('the server answers every well-formed offer under every configuration with a response the RFC accepts', () => {
    // Problems are collected rather than asserted one by one: 20 000 pairs.
    const problems: string[] = [];
    let checked = 0;
    for (const options of allServerOptions()) {
      const ext = permessageDeflate(options);
      for (const offer of allOffers()) {
        const header = offerHeader(offer);
        const { response, negotiated } = negotiateExtensions(elements(header), [ext]);
        const problem = serverProblem(
          options,
          offer,
          response,
          (negotiated[0] as PerMessageDeflateAgreement | undefined)?.params,
        );
        if (problem !== undefined)
          problems.push(
            `${JSON.stringify(options)}: ${header} → ${response.length ? serializeExtensions(response) : '(declined)'}: ${problem}`,
          );
        checked++;
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(checked).toBe(64 * 360);
  });

  it('the client accepts exactly the responses the RFC lets a server give to its offer, and keeps to them', () => {
    const configurations: DeflateOffer[] = [];
    for (const serverNoContextTakeover of [false, true]) {
      for (const clientNoContextTakeover of [false, true]) {
        // The options are validated for both roles at once, and a server
        // never deflates with 8: a client offers server_max_window_bits=8
        // only in a fallback (the table above covers it).
        for (const serverMaxWindowBits of [undefined, 9, 10, 11, 12, 13, 14, 15]) {
          // The client's own window is never 8 (it cannot deflate with one).
          for (const clientMaxWindowBits of [false, true, 9, 10, 11, 12, 13, 14, 15] as const) {
            configurations.push({
              serverNoContextTakeover,
              clientNoContextTakeover,
              serverMaxWindowBits,
              clientMaxWindowBits,
            });
          }
        }
      }
    }
    const responses = [...allResponses()].map((r) => ({ r, element: elements(responseHeader(r))[0]! }));
    const problems: string[] = [];
    let accepted = 0;
    for (const options of configurations) {
      const ext = permessageDeflate(options);
      const offer = offered(options);
      for (const { r, element } of responses) {
        const result = ext.validateResponse(element);
        const mustFail = clientMustFail(offer, r) || r.clientMaxWindowBits === 8; // 8: policy
        const pair = `${offerHeader(offer)} ← ${responseHeader(r)}`;
        if (result.ok === mustFail) {
          problems.push(`${pair}: ${result.ok ? 'accepted' : `failed (${result.reason})`}`);
          continue;
        }
        if (!result.ok) continue;
        accepted++;
        const params = (result.negotiated as PerMessageDeflateAgreement).params;
        const bound = clientBound(offer, r);
        const expected: PerMessageDeflateParams = {
          serverNoContextTakeover: r.serverNoContextTakeover,
          clientNoContextTakeover: bound.noContext,
          serverMaxWindowBits: r.serverMaxWindowBits ?? 15,
          clientMaxWindowBits: bound.window,
        };
        if (JSON.stringify(params) !== JSON.stringify(expected))
          problems.push(`${pair}: agreed ${JSON.stringify(params)}, expected ${JSON.stringify(expected)}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // Not a vacuous check: a good share of the pairs are valid.
    expect(accepted).toBeGreaterThan(configurations.length * responses.length * 0.1);
  });

  it('our client and our server always agree, whatever each is configured with (fallback offers included)', () => {
    const window = fc.integer({ min: 9, max: 15 });
    const clientOffer = (minServerWindow: number): fc.Arbitrary<DeflateOffer> =>
      fc.record(
        {
          serverNoContextTakeover: fc.boolean(),
          clientNoContextTakeover: fc.boolean(),
          serverMaxWindowBits: fc.integer({ min: minServerWindow, max: 15 }),
          clientMaxWindowBits: fc.oneof(fc.boolean(), window),
        },
        { requiredKeys: [] },
      );
    const serverOptions: fc.Arbitrary<DeflateOffer> = fc.record(
      {
        serverNoContextTakeover: fc.boolean(),
        clientNoContextTakeover: fc.boolean(),
        serverMaxWindowBits: window,
        clientMaxWindowBits: window,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        clientOffer(9),
        fc.array(clientOffer(8), { maxLength: 3 }),
        serverOptions,
        (first, fallbackOffers, serverConfig) => {
          const client = permessageDeflate({ ...first, fallbackOffers });
          const server = permessageDeflate(serverConfig);
          const { response, negotiated } = negotiateExtensions(client.offers(), [server]);
          const everyOfferForcesEight = [first, ...fallbackOffers].every((o) => o.serverMaxWindowBits === 8);
          expect(response.length).toBe(everyOfferForcesEight ? 0 : 1);
          if (response.length === 0) return;
          // The server took the first offer it can serve, and its response obeys the RFC for that offer.
          const taken = [first, ...fallbackOffers].findIndex((o) => o.serverMaxWindowBits !== 8);
          const r = readResponse(response[0]!);
          if (typeof r === 'string') throw new Error(r);
          expect(
            serverRuleBroken(offered(taken === 0 ? first : fallbackOffers[taken - 1]!, taken === 0), r),
          ).toBeUndefined();
          const result = client.validateResponse(response[0]!);
          if (!result.ok)
            throw new Error(
              `${serializeExtensions(client.offers())} → ${serializeExtensions(response)}: ${result.reason}`,
            );
          const s = (negotiated[0] as PerMessageDeflateAgreement).params;
          const c = (result.negotiated as PerMessageDeflateAgreement).params;
          // Each side deflates within the window the other inflates with...
          expect(s.serverMaxWindowBits).toBeLessThanOrEqual(c.serverMaxWindowBits);
          expect(c.clientMaxWindowBits).toBeLessThanOrEqual(s.clientMaxWindowBits);
          // ...and drops its context whenever the other side's inflater does.
          if (c.serverNoContextTakeover) expect(s.serverNoContextTakeover).toBe(true);
          if (s.clientNoContextTakeover) expect(c.clientNoContextTakeover).toBe(true);
        },
      ),
      {
        numRuns: RUNS,
        examples: [
          // The reported defect: our client offering 15 got a response without it.
          [
            {
              serverNoContextTakeover: true,
              clientNoContextTakeover: true,
              serverMaxWindowBits: 15,
              clientMaxWindowBits: 15,
            },
            [],
            {},
          ],
        ],
      },
    );
  });
});
