import { concat } from 'uint8arrays/concat';
import {
  ClientEndpoint,
  type ClientEndpointOptions,
  type Endpoint,
  type EndpointEvent,
  type Extension,
  type ExtensionElement,
  type FrameOptions,
  type NegotiatedExtension,
  type PerMessageDeflateAgreement,
  type PerMessageDeflateOptions,
  type PerMessageDeflateParams,
  permessageDeflate,
  type RandomSource,
  type Role,
  ServerEndpoint,
  type ServerEndpointOptions,
} from '../src/index.js';

/** A deterministic random source: xorshift32 from a seed, so a failing run replays. */
export function seededRandom(seed: number): RandomSource {
  let s = seed >>> 0 || 1;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      bytes[i] = s & 0xff;
    }
  };
}

/** A random source that always yields the same 4-byte key. */
export function fixedKey(key: readonly number[]): RandomSource {
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = key[i & 3] as number;
  };
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-f]/gi, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Cuts `bytes` at the given sorted positions (positions outside the range are ignored). */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    if (p > at) out.push(bytes.slice(at, p));
    at = Math.max(at, p);
  }
  if (at < bytes.length) out.push(bytes.slice(at));
  return out;
}

/** A plain, comparable copy of an event (byte views become arrays of numbers). */
export type PlainEvent = Record<string, unknown>;
export function plain(ev: EndpointEvent): PlainEvent {
  const out: PlainEvent = { ...ev };
  if ('data' in ev && ev.data instanceof Uint8Array) out.data = Array.from(ev.data);
  return out;
}

/** Feeds every chunk (copied, as a socket hands out fresh buffers) and collects plain events after each. */
export function feed(
  endpoint: Pick<Endpoint, 'receive' | 'receiveEof' | 'nextEvent'>,
  chunks: readonly Uint8Array[],
  eof = false,
): PlainEvent[] {
  const events: PlainEvent[] = [];
  for (const chunk of chunks) {
    endpoint.receive(chunk.slice());
    for (let ev = endpoint.nextEvent(); ev !== undefined; ev = endpoint.nextEvent()) events.push(plain(ev));
  }
  if (eof) {
    endpoint.receiveEof();
    for (let ev = endpoint.nextEvent(); ev !== undefined; ev = endpoint.nextEvent()) events.push(plain(ev));
  }
  return events;
}

export function outgoingBytes(endpoint: Pick<Endpoint, 'takeOutgoing'>): Uint8Array {
  return concat(endpoint.takeOutgoing());
}

export interface PairOptions {
  readonly server?: ServerEndpointOptions;
  /** The client's options; its `random` defaults to a seeded source, so a run replays. */
  readonly client?: ClientEndpointOptions;
  readonly url?: string;
}

/**
 * A server and a client endpoint that went through a real opening handshake
 * against each other in memory (extensions negotiated from both sides'
 * options), both open, with nothing queued and no event pending.
 */
export function openPair(options: PairOptions = {}): { server: ServerEndpoint; client: ClientEndpoint } {
  const server = new ServerEndpoint(options.server);
  const client = new ClientEndpoint(options.url ?? 'ws://localhost/', { random: seededRandom(7), ...options.client });
  for (const bytes of client.takeOutgoing()) server.receive(bytes);
  expectEvent(server, 'request');
  server.send({ type: 'accept' });
  expectEvent(server, 'open');
  for (const bytes of server.takeOutgoing()) client.receive(bytes);
  expectEvent(client, 'open');
  return { server, client };
}

function expectEvent(endpoint: Endpoint, type: EndpointEvent['type']): void {
  const ev = endpoint.nextEvent();
  if (ev?.type !== type) throw new Error(`${endpoint.role} endpoint: expected ${type}, got ${JSON.stringify(ev)}`);
}

/** How a side compresses: nothing here changes what is negotiated. */
export type DeflateTuning = Pick<PerMessageDeflateOptions, 'threshold' | 'level' | 'memLevel' | 'backend'>;

/**
 * An open pair that negotiated permessage-deflate with `params` (absent ones
 * default as RFC 7692 says): both sides are configured with the same
 * preferences, so the client offers them and the server agrees to exactly
 * them. Window sizes must be 9–15, since neither side of this codec agrees
 * to deflate with 8.
 */
export function openDeflatePair(
  params: Partial<PerMessageDeflateParams>,
  options: { readonly tuning?: DeflateTuning; readonly server?: FrameOptions; readonly client?: FrameOptions } = {},
): { server: ServerEndpoint; client: ClientEndpoint } {
  const extension = () => permessageDeflate({ ...params, ...options.tuning });
  return openPair({
    server: { ...options.server, extensions: [extension()] },
    client: { ...options.client, extensions: [extension()] },
  });
}

/** The permessage-deflate parameters an open endpoint agreed on, or undefined when it agreed none. */
export function deflateParams(endpoint: Endpoint): PerMessageDeflateParams | undefined {
  const agreed = endpoint.extensions.find((ext) => ext.name === 'permessage-deflate') as
    | PerMessageDeflateAgreement
    | undefined;
  return agreed?.params;
}

/** `params` with RFC 7692's defaults for the ones left out. */
export function fullDeflateParams(params: Partial<PerMessageDeflateParams>): PerMessageDeflateParams {
  return {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    ...params,
  };
}

/** An open pair seen from one side: `sender` plays `role`, `receiver` the other role. */
export function senderAndReceiver(
  role: Role,
  sender: FrameOptions = {},
  receiver: FrameOptions = {},
): { sender: Endpoint; receiver: Endpoint } {
  if (role === 'server') {
    const pair = openPair({ server: sender, client: receiver });
    return { sender: pair.server, receiver: pair.client };
  }
  const pair = openPair({ server: receiver, client: sender });
  return { sender: pair.client, receiver: pair.server };
}

/** An open endpoint of `role` (the other side of its handshake is dropped). */
export function openEndpoint(role: Role, options: FrameOptions = {}): Endpoint {
  return role === 'server' ? server(options) : client(options);
}

/** An open server endpoint. */
export function server(options: ServerEndpointOptions = {}): ServerEndpoint {
  return openPair({ server: options }).server;
}

/** An open client endpoint (seeded masking keys unless `random` is given). */
export function client(options: ClientEndpointOptions = {}): ClientEndpoint {
  return openPair({ client: options }).client;
}

/** Builds a raw frame, for input the codec's own encoder would never produce. */
export function rawFrame(opts: {
  fin?: boolean;
  rsv?: number;
  opcode: number;
  payload?: Uint8Array;
  mask?: readonly number[] | null;
  lengthBytes?: 0 | 2 | 8;
  declaredLength?: number;
}): Uint8Array {
  const payload = opts.payload ?? new Uint8Array(0);
  const n = opts.declaredLength ?? payload.length;
  const lengthBytes = opts.lengthBytes ?? (n < 126 ? 0 : n < 65536 ? 2 : 8);
  const mask = opts.mask === undefined ? [1, 2, 3, 4] : opts.mask;
  const header: number[] = [((opts.fin ?? true) ? 0x80 : 0) | (opts.rsv ?? 0) | opts.opcode];
  const maskBit = mask ? 0x80 : 0;
  if (lengthBytes === 0) header.push(maskBit | n);
  else if (lengthBytes === 2) header.push(maskBit | 126, n >>> 8, n & 0xff);
  else {
    header.push(maskBit | 127);
    const high = Math.floor(n / 2 ** 32);
    const low = n >>> 0;
    header.push((high >>> 24) & 0xff, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff);
    header.push((low >>> 24) & 0xff, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
  }
  const body = payload.slice();
  if (mask) {
    header.push(...mask);
    for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i & 3] as number);
  }
  return concat([new Uint8Array(header), body]);
}

/**
 * An extension that transforms nothing, for tests of negotiation: a client
 * offers `offer`; a server accepts the first offer of its name, answering
 * with that offer as it came; a client accepts any answer. It claims the RSV
 * bits `rsv` (default none).
 */
export function passThroughExtension(offer: ExtensionElement, rsv = 0): Extension {
  const name = offer.name.toLowerCase();
  const agreed = (response: ExtensionElement): NegotiatedExtension => ({
    name,
    rsv,
    response,
    createSession: () => ({ rsv, decoderFor: () => undefined, encoderFor: () => undefined }),
  });
  return {
    name,
    rsv,
    offers: () => [offer],
    negotiate: (offers) => (offers[0] === undefined ? undefined : agreed(offers[0])),
    validateResponse: (response) => ({ ok: true, negotiated: agreed(response) }),
  };
}
