/**
 * The endpoints that judge what a dissected stream carries: a client
 * endpoint that judges a 101 (after `validateUpgradeResponse`, it checks the
 * extension parameters), and an endpoint of the receiving role, opened with
 * the extensions a 101 agreed, that reads the frames.
 *
 * Neither talks to anybody, and neither is told the agreement directly: a
 * client endpoint offers what the observed request offered and is fed the
 * observed response (its accept value re-derived for the endpoint's own key),
 * and a server endpoint is fed a request offering what was agreed, so each
 * arrives at the agreement by its own negotiation.
 */
import {
  ClientEndpoint,
  ServerEndpoint,
  parseDeflateParams,
  parseExtensions,
  permessageDeflate,
  serializeExtensions,
  type DeflateOffer,
  type Extension,
  type ExtensionElement,
  type ExtensionParam,
  type PerMessageDeflateParams,
} from '@rfc6455/codec';
import {
  computeAcceptKey,
  HttpHeaders,
  validateUpgradeResponse,
  type HandshakeFailure,
  type UpgradeRequestEvent,
} from '@rfc6455/codec/http';
import type { Side } from './records.js';

export interface ReceivingEndpointOptions {
  /** Largest message accepted (default: the codec's). */
  readonly maxMessageSize?: number | undefined;
}

/** A 101's verdict: the agreed extensions and the client endpoint that accepted it, or why it is refused. */
export type SwitchingProtocolsVerdict =
  | { readonly ok: true; readonly agreed: readonly ExtensionElement[]; readonly endpoint: ClientEndpoint }
  | { readonly ok: false; readonly failure: HandshakeFailure | null; readonly reason: string };

const PERMESSAGE_DEFLATE = 'permessage-deflate';
const ENDPOINT_URL = 'ws://dissector.invalid/';
/** The key of a request the dissector did not see (RFC 6455's example). */
const UNSEEN_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/**
 * Judges the fields of a 101 against the request it answers, or, when that
 * request was not seen, against a request that offered whatever the
 * response accepted (then one accept value stands for the unknown key's;
 * every other rule still holds).
 */
export function judgeSwitchingProtocols(
  headers: HttpHeaders,
  request: UpgradeRequestEvent | null,
  options: ReceivingEndpointOptions,
): SwitchingProtocolsVerdict {
  let verdict: ReturnType<typeof validateUpgradeResponse>;
  if (request !== null) {
    verdict = validateUpgradeResponse(headers, {
      key: request.key,
      protocols: request.protocols,
      extensions: request.extensions.map((offer) => offer.name),
    });
  } else {
    const parsed = parseExtensions(headers.get('sec-websocket-extensions') ?? '');
    const oneAccept = headers.getAll('sec-websocket-accept').length === 1;
    verdict = validateUpgradeResponse(oneAccept ? withAccept(headers, computeAcceptKey(UNSEEN_KEY)) : headers, {
      key: UNSEEN_KEY,
      protocols: headers.getAll('sec-websocket-protocol'),
      extensions: parsed.ok ? parsed.value.map((element) => element.name) : [],
    });
  }
  if (!verdict.ok) return verdict;
  const undecodable = cannotDecode(verdict.extensions);
  if (undecodable !== null) return { ok: false, failure: null, reason: undecodable };
  const offers = request === null ? (verdict.extensions.length > 0 ? [{}] : []) : deflateOffers(request.extensions);
  const protocols = request === null ? (verdict.protocol === null ? [] : [verdict.protocol]) : request.protocols;
  const opened = openClient(protocols, offers, options, (key) =>
    encodeHead('HTTP/1.1 101 Switching Protocols', withAccept(headers, computeAcceptKey(key))),
  );
  if (opened.type === 'refused') return { ok: false, failure: opened.failure, reason: opened.reason };
  return { ok: true, agreed: verdict.extensions, endpoint: opened.endpoint };
}

/**
 * An open endpoint of the role that receives what `from` sends, with
 * `agreed` negotiated, or why there cannot be one.
 */
export function receivingEndpoint(
  from: Side,
  agreed: readonly ExtensionElement[],
  options: ReceivingEndpointOptions,
): ClientEndpoint | ServerEndpoint | string {
  const undecodable = cannotDecode(agreed);
  if (undecodable !== null) return undecodable;
  if (from === 'client') return openServer(agreed, options);
  const opened = openClient([], agreed.length > 0 ? [{}] : [], options, (key) => {
    const fields: Array<readonly [string, string]> = [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Accept', computeAcceptKey(key)],
    ];
    if (agreed.length > 0) fields.push(['Sec-WebSocket-Extensions', serializeExtensions(agreed)]);
    return encodeHead('HTTP/1.1 101 Switching Protocols', fields);
  });
  return opened.type === 'open' ? opened.endpoint : opened.reason;
}

/** The permessage-deflate response element stating `params` (absent windows are 15). */
export function deflateElement(params: Partial<PerMessageDeflateParams>): ExtensionElement {
  const out: ExtensionParam[] = [];
  if (params.serverNoContextTakeover === true) out.push({ name: 'server_no_context_takeover', value: null });
  if (params.clientNoContextTakeover === true) out.push({ name: 'client_no_context_takeover', value: null });
  if (params.serverMaxWindowBits !== undefined && params.serverMaxWindowBits < 15)
    out.push({ name: 'server_max_window_bits', value: String(params.serverMaxWindowBits) });
  if (params.clientMaxWindowBits !== undefined && params.clientMaxWindowBits < 15)
    out.push({ name: 'client_max_window_bits', value: String(params.clientMaxWindowBits) });
  return { name: PERMESSAGE_DEFLATE, params: out };
}

function cannotDecode(agreed: readonly ExtensionElement[]): string | null {
  const other = agreed.find((element) => element.name.toLowerCase() !== PERMESSAGE_DEFLATE);
  return other === undefined ? null : `extension "${other.name}" was agreed, and the codec cannot decode its frames`;
}

type Opened =
  | { readonly type: 'open'; readonly endpoint: ClientEndpoint }
  | { readonly type: 'refused'; readonly failure: HandshakeFailure | null; readonly reason: string };

/**
 * A client endpoint offering `protocols` and these permessage-deflate
 * offers, fed the response `respond` writes for its key: open, or its
 * verdict on that response.
 */
function openClient(
  protocols: readonly string[],
  offers: readonly DeflateOffer[],
  options: ReceivingEndpointOptions,
  respond: (key: string) => Uint8Array,
): Opened {
  let client: ClientEndpoint;
  let response: Uint8Array;
  try {
    client = new ClientEndpoint(ENDPOINT_URL, {
      protocols: [...new Set(protocols)],
      extensions: offers.length === 0 ? [] : [deflateExtension(offers)],
      autoPong: false,
      ...(options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize }),
    });
    response = respond(client.key);
  } catch (error) {
    // Options the endpoint refuses (no peer byte decides them): said, not thrown.
    return { type: 'refused', failure: null, reason: (error as Error).message };
  }
  client.takeOutgoing();
  client.receive(response);
  const ev = client.nextEvent();
  if (ev?.type === 'open') return { type: 'open', endpoint: client };
  if (ev?.type === 'protocol-error')
    return { type: 'refused', failure: ev.phase === 'handshake' ? ev.failure : null, reason: ev.reason };
  return {
    type: 'refused',
    failure: null,
    reason: `the client endpoint reported ${ev?.type ?? 'nothing'} for the 101`,
  };
}

/** A server endpoint that accepted a request offering exactly what was agreed. */
function openServer(agreed: readonly ExtensionElement[], options: ReceivingEndpointOptions): ServerEndpoint | string {
  const headers: Array<readonly [string, string]> = [
    ['Host', 'dissector.invalid'],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', UNSEEN_KEY],
    ['Sec-WebSocket-Version', '13'],
  ];
  try {
    if (agreed.length > 0) headers.push(['Sec-WebSocket-Extensions', serializeExtensions(agreed.map(asServerOffer))]);
    const server = ServerEndpoint.fromParsedRequest(
      { method: 'GET', target: '/', httpVersion: '1.1', headers },
      {
        extensions: agreed.length > 0 ? [permessageDeflate()] : [],
        autoPong: false,
        ...(options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize }),
      },
    );
    const request = server.nextEvent();
    if (request?.type !== 'request')
      return `the server endpoint reported ${request?.type ?? 'nothing'} for the request`;
    server.send({ type: 'accept' });
    server.takeOutgoing();
    server.nextEvent(); // open
    if (server.extensions.length !== agreed.length)
      return `the server endpoint did not agree ${serializeExtensions(agreed)}`;
    return server;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The head's fields with every `Sec-WebSocket-Accept` replaced by one carrying `accept`, where the first was. */
function withAccept(headers: HttpHeaders, accept: string): HttpHeaders {
  const fields: Array<readonly [string, string]> = [];
  let placed = false;
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'sec-websocket-accept') fields.push([name, value]);
    else if (!placed) {
      fields.push([name, accept]);
      placed = true;
    }
  }
  return new HttpHeaders(fields);
}

/** A head as bytes. Field values came from the codec's parser or from tokens, so they hold no CR or LF. */
function encodeHead(startLine: string, fields: Iterable<readonly [string, string]>): Uint8Array {
  let text = `${startLine}\r\n`;
  for (const [name, value] of fields) text += `${name}: ${value}\r\n`;
  text += '\r\n';
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/**
 * The permessage-deflate offers of a request, as a client endpoint's
 * options. Offers the codec cannot read are left out: a server declines them.
 */
function deflateOffers(elements: readonly ExtensionElement[]): DeflateOffer[] {
  const offers: DeflateOffer[] = [];
  for (const element of elements) {
    if (element.name.toLowerCase() !== PERMESSAGE_DEFLATE) continue;
    const parsed = parseDeflateParams(element.params, false);
    if (!parsed.ok) continue;
    const p = parsed.params;
    offers.push({
      serverNoContextTakeover: p.serverNoContextTakeover,
      clientNoContextTakeover: p.clientNoContextTakeover,
      ...(p.serverMaxWindowBits === undefined ? {} : { serverMaxWindowBits: p.serverMaxWindowBits }),
      // Present without a value: `true`; absent: `false`, so the endpoint does not add it.
      clientMaxWindowBits: p.clientMaxWindowBits === null ? true : (p.clientMaxWindowBits ?? false),
    });
  }
  return offers;
}

/**
 * permessage-deflate offering what a request offered. The first offer is
 * also read as a server's preferences, which allow no 8-bit windows; a
 * request whose first offer has one (the codec's client never sends it) is
 * judged as if the default offer had been made, which accepts whatever
 * parameters a response may state.
 */
function deflateExtension(offers: readonly DeflateOffer[]): Extension {
  const [first, ...rest] = offers;
  try {
    return permessageDeflate({ ...first, fallbackOffers: rest });
  } catch {
    return permessageDeflate();
  }
}

/**
 * An agreed element restated as the offer a server endpoint agrees to as it
 * is. The server's own window is raised to the 9 bits it can deflate with
 * (it declines 8): it shapes only the server's messages, never the client
 * frames this endpoint reads.
 */
function asServerOffer(element: ExtensionElement): ExtensionElement {
  return {
    name: element.name,
    params: element.params.map((p) =>
      p.name.toLowerCase() === 'server_max_window_bits' && p.value === '8' ? { name: p.name, value: '9' } : p,
    ),
  };
}
