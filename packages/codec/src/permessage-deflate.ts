/**
 * permessage-deflate (RFC 7692): negotiation of its four parameters in both
 * roles, and per-message compression and decompression on RSV1.
 *
 * Policies where the RFC leaves room:
 * - 8-bit windows: zlib (and pako, its port) cannot produce a raw stream with
 *   an 8-bit window, and zlib-based peers asked for 8 really use 9. So this
 *   side never compresses with 8: a server declines an offer whose
 *   `server_max_window_bits` is 8, a client fails on a response asking it for
 *   `client_max_window_bits=8`, and options ask for at least 9 for our own
 *   deflater. 8 is accepted for the peer's window; our inflater then uses 9,
 *   so a zlib peer that rounded 8 up to 9 is still understood.
 * - A window parameter absent from the agreement means 15 (RFC 7692 §7.1.2).
 * - A server echoes `client_no_context_takeover` when the client offered it
 *   (allowed regardless of the offer, §7.1.1.2) so both sides rely on it.
 * - A server states `server_max_window_bits` only when the offer carried it
 *   (accepting it requires that, even at 15: §7.1.2.1) or when its own
 *   window is under 15; `client_max_window_bits` only when offered and under 15.
 * - A client takes a response as accepting an offer only if it states every
 *   parameter whose acceptance the RFC ties to stating it
 *   (`server_no_context_takeover`, `server_max_window_bits`), and tries each
 *   offer in turn. A `client_max_window_bits` above the value the client
 *   offered is valid (the offer already bounds the client, §7.1.2.2): the
 *   client keeps to its own value.
 * - Messages smaller than `threshold` bytes are sent uncompressed; a message
 *   streamed with `fin: false` is always compressed (its size is unknown).
 * - The decompressed size counts against `maxMessageSize` as output is
 *   produced, in steps of at most 32 KiB, so a bomb fails with 1009 after at
 *   most one step past the limit.
 * - A backend with `createAsyncDeflater` compresses off the calling thread
 *   for an endpoint that takes deferred output (`onOutgoing`); decompression
 *   stays synchronous, because the step-by-step size check above needs it
 *   and it costs a fraction of compression.
 */
import { CloseCode } from './close-codes.js';
import type { Role } from './role.js';
import {
  type AsyncDeflater,
  type CompressionBackend,
  type Deflater,
  type Inflater,
  InflateStatus,
  pakoBackend,
} from './deflate-backend.js';
import { UsageError } from './errors.js';
import type {
  Extension,
  ExtensionFailure,
  ExtensionSession,
  MessageDecoder,
  MessageEncoder,
  NegotiatedExtension,
} from './extension.js';
import type { ExtensionElement, ExtensionParam } from './header-grammar.js';
import { copyOf } from './byte-copy.js';

export const PERMESSAGE_DEFLATE = 'permessage-deflate';
const RSV1 = 0x40;

/** The parameters of one offer (client) or the preferences of a server. */
export interface DeflateOffer {
  /** Client: ask the server not to keep context. Server: always agree to it. */
  readonly serverNoContextTakeover?: boolean;
  /** Client: promise not to keep context. Server: require the client not to. */
  readonly clientNoContextTakeover?: boolean;
  /**
   * Client: largest window the server may use (8–15 in `fallbackOffers`; the
   * top-level options are also checked as a server's, so 9–15 there).
   * Server: largest window (9–15) it will use.
   */
  readonly serverMaxWindowBits?: number;
  /**
   * Client: `true` offers the parameter without a value ("I can use a smaller
   * window"); a number (9–15) also caps the client's own window. Server: the
   * largest window (9–15) to ask of a client that offered the parameter.
   */
  readonly clientMaxWindowBits?: number | boolean;
}

export interface PerMessageDeflateOptions extends DeflateOffer {
  /** Client: further offers after the one the fields above describe, in order of preference. */
  readonly fallbackOffers?: readonly DeflateOffer[];
  /** Messages under this many bytes are sent uncompressed. Default 1024. */
  readonly threshold?: number;
  /** Compression level 0–9. Default 6 (zlib's default). */
  readonly level?: number;
  /** zlib memLevel 1–9: the deflater's memory for its match finder. Default 8. */
  readonly memLevel?: number;
  /** The DEFLATE engine. Default: pako (pure JavaScript). */
  readonly backend?: CompressionBackend;
}

/** What both sides agreed on. Window sizes are 8–15; absent parameters are 15. */
export interface PerMessageDeflateParams {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number;
  readonly clientMaxWindowBits: number;
}

/** Parameters as read from one element: `null` for a window parameter present without a value. */
interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | null | undefined;
}

type Parsed = { readonly ok: true; readonly params: ParsedParams } | { readonly ok: false; readonly reason: string };

/**
 * Reads an element's parameters strictly (RFC 7692 §7): only the four
 * defined names, each at most once, the takeover ones without a value, window
 * sizes 8–15 in decimal without leading zeros. In a response every window
 * parameter needs a value.
 */
export function parseDeflateParams(params: readonly ExtensionParam[], inResponse: boolean): Parsed {
  const out: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const { name: raw, value } of params) {
    const name = raw.toLowerCase();
    if (seen.has(name)) return { ok: false, reason: `duplicate parameter ${name}` };
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== null) return { ok: false, reason: `${name} takes no value` };
        if (name === 'server_no_context_takeover') out.serverNoContextTakeover = true;
        else out.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
      case 'client_max_window_bits': {
        const valueless = value === null && name === 'client_max_window_bits' && !inResponse;
        const bits = value === null ? undefined : windowBits(value);
        if (!valueless && bits === undefined) {
          return { ok: false, reason: `${name} needs a value from 8 to 15${value === null ? '' : `, got "${value}"`}` };
        }
        if (name === 'server_max_window_bits') out.serverMaxWindowBits = bits;
        else out.clientMaxWindowBits = bits ?? null;
        break;
      }
      default:
        return { ok: false, reason: `unknown parameter ${raw}` };
    }
  }
  return { ok: true, params: out };
}

function windowBits(value: string): number | undefined {
  // 1*DIGIT without leading zeros, 8–15 (§7.1.2.1).
  if (value.length === 1) return value === '8' || value === '9' ? Number(value) : undefined;
  if (value.length === 2 && value[0] === '1' && value[1]! >= '0' && value[1]! <= '5') return Number(value);
  return undefined;
}

/** Client: one offer as an extension element. */
export function deflateOfferElement(offer: DeflateOffer = { clientMaxWindowBits: true }): ExtensionElement {
  const params: ExtensionParam[] = [];
  if (offer.serverNoContextTakeover) params.push({ name: 'server_no_context_takeover', value: null });
  if (offer.clientNoContextTakeover) params.push({ name: 'client_no_context_takeover', value: null });
  if (offer.serverMaxWindowBits !== undefined) {
    params.push({
      name: 'server_max_window_bits',
      value: String(checkBits(offer.serverMaxWindowBits, 8, 'serverMaxWindowBits')),
    });
  }
  const c = offer.clientMaxWindowBits;
  if (c === true) params.push({ name: 'client_max_window_bits', value: null });
  else if (typeof c === 'number')
    params.push({ name: 'client_max_window_bits', value: String(checkBits(c, 9, 'clientMaxWindowBits')) });
  return { name: PERMESSAGE_DEFLATE, params };
}

function checkBits(bits: number, min: number, what: string): number {
  if (!Number.isInteger(bits) || bits < min || bits > 15) {
    throw new UsageError('ERR_INVALID_ARGUMENT', `${what} must be an integer from ${min} to 15, got ${bits}`);
  }
  return bits;
}

function checkRange(value: number | undefined, fallback: number, min: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError('ERR_INVALID_ARGUMENT', `${what} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

interface Tuning {
  readonly threshold: number;
  readonly level: number;
  readonly memLevel: number;
  readonly backend: CompressionBackend;
}

/**
 * permessage-deflate as an {@link Extension}: the same object serves a client
 * (offers, response validation) and a server (choosing among offers).
 */
export function permessageDeflate(options: PerMessageDeflateOptions = {}): Extension {
  const tuning: Tuning = {
    threshold: options.threshold === undefined ? 1024 : Math.max(0, options.threshold),
    level: checkRange(options.level, 6, 0, 9, 'level'),
    memLevel: checkRange(options.memLevel, 8, 1, 9, 'memLevel'),
    backend: options.backend ?? pakoBackend,
  };
  const first: DeflateOffer = {
    ...options,
    clientMaxWindowBits: options.clientMaxWindowBits ?? true,
  };
  const offers = [first, ...(options.fallbackOffers ?? [])];
  const elements = offers.map((o) => deflateOfferElement(o));
  // Server preferences: validated here so a bad configuration throws at setup, not per request.
  const serverBits =
    options.serverMaxWindowBits === undefined ? 15 : checkBits(options.serverMaxWindowBits, 9, 'serverMaxWindowBits');
  const askClientBits =
    typeof options.clientMaxWindowBits === 'number'
      ? checkBits(options.clientMaxWindowBits, 8, 'clientMaxWindowBits')
      : undefined;
  return {
    name: PERMESSAGE_DEFLATE,
    rsv: RSV1,
    offers: () => elements.map((e) => ({ name: e.name, params: [...e.params] })),
    negotiate(candidates) {
      for (const candidate of candidates) {
        const parsed = parseDeflateParams(candidate.params, false);
        if (!parsed.ok) continue; // declined: try the next offer (§5)
        const agreed = serverAgreement(parsed.params, options, serverBits, askClientBits);
        if (agreed !== undefined) return agreement(agreed, tuning, responseElement(agreed, parsed.params));
      }
      return undefined;
    },
    validateResponse(response) {
      const parsed = parseDeflateParams(response.params, true);
      if (!parsed.ok) return { ok: false, reason: `invalid permessage-deflate response: ${parsed.reason}` };
      let firstReason = '';
      for (const offer of offers) {
        const checked = checkResponse(parsed.params, offer);
        if (typeof checked !== 'string') return { ok: true, negotiated: agreement(checked, tuning) };
        if (firstReason === '') firstReason = checked;
      }
      return { ok: false, reason: `invalid permessage-deflate response: ${firstReason}` };
    },
  };
}

/** Server: the agreement for an offer, or undefined to decline it. */
function serverAgreement(
  offer: ParsedParams,
  prefs: DeflateOffer,
  serverBits: number,
  askClientBits: number | undefined,
): PerMessageDeflateParams | undefined {
  let ours = serverBits;
  if (offer.serverMaxWindowBits !== undefined) {
    // The client caps our window; 8 is a window we cannot deflate with.
    if (offer.serverMaxWindowBits < 9) return undefined;
    ours = Math.min(ours, offer.serverMaxWindowBits);
  }
  let theirs = 15;
  if (offer.clientMaxWindowBits !== undefined) {
    // Only a client that offered the parameter may be told its window (§7.1.2.2).
    const hint = offer.clientMaxWindowBits ?? 15;
    theirs = askClientBits === undefined ? hint : Math.min(hint, askClientBits);
  }
  return {
    serverNoContextTakeover: offer.serverNoContextTakeover || prefs.serverNoContextTakeover === true,
    clientNoContextTakeover: offer.clientNoContextTakeover || prefs.clientNoContextTakeover === true,
    serverMaxWindowBits: ours,
    clientMaxWindowBits: theirs,
  };
}

/** Client: the agreement a response makes with one offer, or why it does not accept that offer. */
function checkResponse(response: ParsedParams, offer: DeflateOffer): PerMessageDeflateParams | string {
  // §7.1.1.1: a server accepts server_no_context_takeover only by stating it.
  if (offer.serverNoContextTakeover && !response.serverNoContextTakeover) {
    return 'server_no_context_takeover was offered but not echoed';
  }
  // §7.1.2.1: a server accepts server_max_window_bits only by stating it, with
  // the offered value or less; it may state it unasked, with any value.
  let serverBits = 15;
  if (response.serverMaxWindowBits !== undefined) {
    if (offer.serverMaxWindowBits !== undefined && response.serverMaxWindowBits > offer.serverMaxWindowBits) {
      return `server_max_window_bits=${response.serverMaxWindowBits} exceeds the offered ${offer.serverMaxWindowBits}`;
    }
    serverBits = response.serverMaxWindowBits;
  } else if (offer.serverMaxWindowBits !== undefined) {
    return `server_max_window_bits=${offer.serverMaxWindowBits} was offered but not echoed`;
  }
  // §7.1.2.2: only an offer with client_max_window_bits may be answered with
  // it. A value in the offer binds the client whatever the response says.
  const offeredClient = offer.clientMaxWindowBits;
  let clientBits = typeof offeredClient === 'number' ? offeredClient : 15;
  if (response.clientMaxWindowBits != null) {
    if (offeredClient === undefined || offeredClient === false) return 'client_max_window_bits was not offered';
    if (response.clientMaxWindowBits < 9)
      return 'client_max_window_bits=8 is not supported (zlib cannot deflate with an 8-bit window)';
    clientBits = Math.min(clientBits, response.clientMaxWindowBits);
  }
  return {
    serverNoContextTakeover: response.serverNoContextTakeover,
    // §7.1.1.2: offering it is a promise kept whether or not the server echoes it.
    clientNoContextTakeover: response.clientNoContextTakeover || offer.clientNoContextTakeover === true,
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: clientBits,
  };
}

/** The response element that states `params` (windows of 15 are the default and left out). */
export function deflateResponseElement(params: PerMessageDeflateParams): ExtensionElement {
  return responseElement(params, undefined);
}

/**
 * Server: the response that accepts `offer` with `params`. A window of 15 is
 * the default and normally left out, but accepting an offered
 * `server_max_window_bits` requires stating it, whatever its value (§7.1.2.1).
 */
function responseElement(params: PerMessageDeflateParams, offer: ParsedParams | undefined): ExtensionElement {
  const out: ExtensionParam[] = [];
  if (params.serverNoContextTakeover) out.push({ name: 'server_no_context_takeover', value: null });
  if (params.clientNoContextTakeover) out.push({ name: 'client_no_context_takeover', value: null });
  if (params.serverMaxWindowBits < 15 || offer?.serverMaxWindowBits !== undefined) {
    out.push({ name: 'server_max_window_bits', value: String(params.serverMaxWindowBits) });
  }
  if (params.clientMaxWindowBits < 15)
    out.push({ name: 'client_max_window_bits', value: String(params.clientMaxWindowBits) });
  return { name: PERMESSAGE_DEFLATE, params: out };
}

/** A negotiated permessage-deflate, with its parameters readable by the application. */
export interface PerMessageDeflateAgreement extends NegotiatedExtension {
  readonly params: PerMessageDeflateParams;
}

function agreement(
  params: PerMessageDeflateParams,
  tuning: Tuning,
  response = deflateResponseElement(params),
): PerMessageDeflateAgreement {
  return {
    name: PERMESSAGE_DEFLATE,
    rsv: RSV1,
    params,
    response,
    // Without server context takeover a server's compressed message depends on
    // no history, so one encoding serves every connection with this window.
    ...(params.serverNoContextTakeover && {
      sharedEncoding: `${PERMESSAGE_DEFLATE}; server_max_window_bits=${params.serverMaxWindowBits}`,
    }),
    // The size limit is the connection's: it counts the decoded bytes this session hands over.
    createSession: (role, limits) => new DeflateSession(role, params, tuning, limits.deferredEncoding === true),
  };
}

/**
 * Builds an agreement directly from parameters, for a connection whose
 * handshake happened elsewhere (e.g. another HTTP stack negotiated it).
 */
export function perMessageDeflateAgreement(
  params: Partial<PerMessageDeflateParams> = {},
  options: Pick<PerMessageDeflateOptions, 'threshold' | 'level' | 'memLevel' | 'backend'> = {},
): PerMessageDeflateAgreement {
  return agreement(
    {
      serverNoContextTakeover: params.serverNoContextTakeover ?? false,
      clientNoContextTakeover: params.clientNoContextTakeover ?? false,
      serverMaxWindowBits: checkBits(params.serverMaxWindowBits ?? 15, 8, 'serverMaxWindowBits'),
      clientMaxWindowBits: checkBits(params.clientMaxWindowBits ?? 15, 8, 'clientMaxWindowBits'),
    },
    {
      threshold: options.threshold === undefined ? 1024 : Math.max(0, options.threshold),
      level: checkRange(options.level, 6, 0, 9, 'level'),
      memLevel: checkRange(options.memLevel, 8, 1, 9, 'memLevel'),
      backend: options.backend ?? pakoBackend,
    },
  );
}

// --- per connection ---------------------------------------------------------

// What RFC 7692 §7.2.2 has the receiver append to every message.
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const EMPTY = new Uint8Array(0);
// Decompressed output per step. Shared by every connection (decoding is
// synchronous and each step's output is consumed before the next).
const STEP = 32 * 1024;
const scratch = new Uint8Array(STEP);

/**
 * Engines of sides that keep no context are idle between messages, so they
 * are lent from a pool instead of held by every connection.
 */
const POOL_LIMIT = 8;
const inflaterPools = new WeakMap<CompressionBackend, Map<number, Inflater[]>>();
const deflaterPools = new WeakMap<CompressionBackend, Map<string, Deflater[]>>();

function pool<K, T>(pools: WeakMap<CompressionBackend, Map<K, T[]>>, backend: CompressionBackend, key: K): T[] {
  let byKey = pools.get(backend);
  if (byKey === undefined) pools.set(backend, (byKey = new Map()));
  let list = byKey.get(key);
  if (list === undefined) byKey.set(key, (list = []));
  return list;
}

class DeflateSession implements ExtensionSession {
  readonly rsv = RSV1;
  private readonly decoder: DeflateMessageDecoder;
  private readonly encoder: MessageEncoder;
  private readonly threshold: number;

  constructor(role: Role, params: PerMessageDeflateParams, tuning: Tuning, deferred: boolean) {
    const server = role === 'server';
    // Our inflater follows the peer's window, floored at 9 (see the 8-bit policy above).
    const peerBits = Math.max(9, server ? params.clientMaxWindowBits : params.serverMaxWindowBits);
    const peerResets = server ? params.clientNoContextTakeover : params.serverNoContextTakeover;
    this.decoder = new DeflateMessageDecoder(tuning.backend, peerBits, peerResets);
    const ourBits = server ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    const weReset = server ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    const bits = Math.max(9, ourBits);
    this.encoder =
      deferred && tuning.backend.createAsyncDeflater !== undefined
        ? new DeferredDeflateMessageEncoder(tuning, bits, weReset)
        : new DeflateMessageEncoder(tuning, bits, weReset);
    this.threshold = tuning.threshold;
  }

  decoderFor(rsv: number): MessageDecoder | undefined {
    return (rsv & RSV1) !== 0 ? this.decoder : undefined;
  }

  encoderFor(size: number, streamed: boolean): MessageEncoder | undefined {
    return streamed || size >= this.threshold ? this.encoder : undefined;
  }
}

class DeflateMessageDecoder implements MessageDecoder {
  private inflater: Inflater | undefined;
  private last = false;
  private tailGiven = false;
  /** The peer's stream ended with a BFINAL block and no data followed: the message needs no tail. */
  private streamEnded = false;
  private stalls = 0;

  constructor(
    private readonly backend: CompressionBackend,
    private readonly bits: number,
    private readonly reusable: boolean,
  ) {}

  write(piece: Uint8Array, last: boolean): void {
    let inf = this.inflater;
    if (inf === undefined) {
      const idle = this.reusable ? pool(inflaterPools, this.backend, this.bits).pop() : undefined;
      inf = idle ?? this.backend.createInflater(this.bits);
      this.inflater = inf;
    }
    inf.setInput(piece);
    this.last = last;
    this.tailGiven = false;
    if (piece.length > 0) this.streamEnded = false;
    this.stalls = 0;
  }

  read(): Uint8Array | null | ExtensionFailure {
    const inf = this.inflater;
    if (inf === undefined) return null;
    for (;;) {
      const status = inf.inflate(scratch, 0, STEP);
      const n = inf.produced;
      if (status === InflateStatus.Error) {
        const reason = `invalid compressed data: ${inf.error}`;
        // A failed stream is never reused.
        this.inflater = undefined;
        return { type: 'failure', code: CloseCode.InvalidPayload, reason };
      }
      // The peer ended its stream with BFINAL (§7.2.3.4): what follows starts a
      // new one, and the fresh inflater must not read our 00 00 ff ff as data.
      if (status === InflateStatus.StreamEnd) {
        inf.reset();
        this.streamEnded = inf.pendingInput === 0;
      }
      if (n > 0) {
        this.stalls = 0;
        return scratch.subarray(0, n);
      }
      if (status === InflateStatus.NeedInput || inf.pendingInput === 0) {
        if (!this.last) return null;
        if (!this.tailGiven && !this.streamEnded) {
          this.tailGiven = true;
          inf.setInput(TAIL);
          continue;
        }
        this.endMessage(inf);
        return null;
      }
      // No output and input left: a stream of empty blocks; bounded by the input, but guard anyway.
      if (++this.stalls > 1 << 20)
        return { type: 'failure', code: CloseCode.InvalidPayload, reason: 'invalid compressed data: no progress' };
    }
  }

  private endMessage(inf: Inflater): void {
    this.streamEnded = false;
    // Drop the reference to the last input chunk so it is not kept alive between messages.
    inf.setInput(EMPTY);
    if (!this.reusable) return;
    inf.reset();
    this.inflater = undefined;
    const idle = pool(inflaterPools, this.backend, this.bits);
    if (idle.length < POOL_LIMIT) idle.push(inf);
  }
}

class DeflateMessageEncoder implements MessageEncoder {
  readonly rsv = RSV1;
  private deflater: Deflater | undefined;
  private readonly key: string;

  constructor(
    private readonly tuning: Tuning,
    private readonly bits: number,
    private readonly reusable: boolean,
  ) {
    this.key = `${bits}/${tuning.level}/${tuning.memLevel}`;
  }

  encode(chunk: Uint8Array, last: boolean): Uint8Array {
    let d = this.deflater;
    if (d === undefined) {
      const idle = this.reusable ? pool(deflaterPools, this.tuning.backend, this.key).pop() : undefined;
      d =
        idle ??
        this.tuning.backend.createDeflater({
          windowBits: this.bits,
          level: this.tuning.level,
          memLevel: this.tuning.memLevel,
        });
      this.deflater = d;
    }
    const bytes = messageBytes(d.compress(chunk), last, true);
    if (last && this.reusable) {
      d.reset();
      this.deflater = undefined;
      const idle = pool(deflaterPools, this.tuning.backend, this.key);
      if (idle.length < POOL_LIMIT) idle.push(d);
    }
    return bytes;
  }
}

/**
 * A deflater's output as a message's payload (a copy when `copy`, for
 * output that lives in the backend's scratch memory): §7.2.1, the message
 * ends without the sync flush's empty stored block marker; §7.2.3.6, an
 * empty message is the single byte 0x00 (a deflater that just flushed emits
 * nothing for empty input).
 */
function messageBytes(out: Uint8Array, last: boolean, copy: boolean): Uint8Array {
  let n = out.length;
  if (last && n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff && out[n - 1] === 0xff) n -= 4;
  if (last && n === 0) return new Uint8Array(1);
  return copy ? copyOf(out, 0, n) : out.subarray(0, n);
}

/**
 * Compression off the calling thread, through the backend's async deflater:
 * one per connection for its life (calls queue in it, so it is never lent to
 * another connection mid-message), reset after each message when this side
 * keeps no context.
 */
class DeferredDeflateMessageEncoder implements MessageEncoder {
  readonly rsv = RSV1;
  private deflater: AsyncDeflater | undefined;

  constructor(
    private readonly tuning: Tuning,
    private readonly bits: number,
    private readonly resets: boolean,
  ) {}

  encode(): Uint8Array {
    // The session hands this encoder out only to a connection that takes deferred output.
    throw new UsageError('ERR_INVALID_STATE', 'this encoder only encodes later');
  }

  encodeLater(chunk: Uint8Array, last: boolean, done: (result: Uint8Array | Error) => void): void {
    const d = (this.deflater ??= (this.tuning.backend.createAsyncDeflater as CreateAsync)({
      windowBits: this.bits,
      level: this.tuning.level,
      memLevel: this.tuning.memLevel,
    }));
    d.compress(chunk, (out) => done(out instanceof Error ? out : messageBytes(out, last, false)));
    if (last && this.resets) d.reset();
  }
}

type CreateAsync = NonNullable<CompressionBackend['createAsyncDeflater']>;
