/**
 * The extension framework (RFC 6455 §9): how an extension takes part in the
 * opening handshake, which RSV bits it owns once negotiated, and how it
 * transforms messages on a connection.
 *
 * Three layers, each a plain object:
 *   Extension            — what the application configures: it produces the
 *                          client's offers, picks the first offer a server can
 *                          serve, and validates a server's response.
 *   NegotiatedExtension  — the agreement for one connection (its parameters);
 *                          an endpoint makes it by negotiation (server) or
 *                          by validating the response (client).
 *   ExtensionSession     — per connection: message decoders and encoders.
 *
 * A connection applies at most one transform to a given message: the first
 * session that claims it. Two extensions claiming the same RSV bit are never
 * both accepted (§9: their meanings would collide).
 */
import type { Role } from './role.js';
import type { ExtensionElement } from './header-grammar.js';

/** A reason to fail the connection, raised while transforming a message. */
export interface ExtensionFailure {
  readonly type: 'failure';
  /** A close code: 1007 for data the extension cannot decode, 1009 for too much of it. */
  readonly code: number;
  readonly reason: string;
}

/**
 * Decodes one inbound message. The connection writes each payload piece
 * (already unmasked) and then reads output until `null`, before writing the
 * next piece; output views are valid until the next `read()`.
 */
export interface MessageDecoder {
  write(piece: Uint8Array, last: boolean): void;
  read(): Uint8Array | null | ExtensionFailure;
}

/** Encodes one outbound message, chunk by chunk (more than one when streamed with `fin: false`). */
export interface MessageEncoder {
  /** RSV bits to set on the message's first frame. */
  readonly rsv: number;
  /** Encoded bytes for `chunk`; `last` on the final chunk. The result belongs to the caller. */
  encode(chunk: Uint8Array, last: boolean): Uint8Array;
  /**
   * Present on an encoder whose work completes later (off the calling
   * thread): used instead of `encode`, it calls `done` with the encoded bytes
   * (the caller's) or an Error, in call order and never before it returns.
   * Only sessions made with `deferredEncoding` hand out such encoders.
   */
  encodeLater?(chunk: Uint8Array, last: boolean, done: (result: Uint8Array | Error) => void): void;
}

/** Limits a session must respect when decoding. */
export interface SessionLimits {
  /** Largest decoded message, in bytes. */
  readonly maxMessageSize: number;
  /**
   * The connection can send output that is ready later (its endpoint has an
   * `onOutgoing` callback), so encoders with `encodeLater` may be used.
   */
  readonly deferredEncoding?: boolean;
}

/** The per-connection side of a negotiated extension. */
export interface ExtensionSession {
  /** RSV bits (as in header byte 0) this extension defines. */
  readonly rsv: number;
  /**
   * A decoder for an inbound data message whose first frame carried `rsv`
   * (only this session's bits), or undefined when the message is not this
   * extension's to transform.
   */
  decoderFor(rsv: number): MessageDecoder | undefined;
  /**
   * An encoder for an outbound data message, or undefined to send it as is.
   * `size` is the first chunk's byte length and `streamed` says more chunks follow.
   */
  encoderFor(size: number, streamed: boolean): MessageEncoder | undefined;
}

/** The outcome of negotiation for one connection. */
export interface NegotiatedExtension {
  readonly name: string;
  /** RSV bits this extension defines. */
  readonly rsv: number;
  /** The agreed parameters, as the server's response element carries them. */
  readonly response: ExtensionElement;
  /**
   * Present when a server's encoding of a message depends on nothing but the
   * agreement (no per-connection history): a key naming that encoding, so a
   * broadcast is encoded once for every connection with the same key.
   */
  readonly sharedEncoding?: string;
  createSession(role: Role, limits: SessionLimits): ExtensionSession;
}

/** The result of a validation: the agreement, or why there is none. */
export type NegotiationResult =
  | { readonly ok: true; readonly negotiated: NegotiatedExtension }
  | { readonly ok: false; readonly reason: string };

/** An extension as configured by the application, before negotiation. */
export interface Extension {
  /** The extension token, lower case (compared case-insensitively). */
  readonly name: string;
  readonly rsv: number;
  /** Client: the offers to send, in order of preference. */
  offers(): ExtensionElement[];
  /**
   * Server: the first of `offers` (elements with this extension's name, in
   * the client's order) that this side can serve, as the response element
   * and the agreement; undefined when every offer is declined.
   */
  negotiate(offers: readonly ExtensionElement[]): NegotiatedExtension | undefined;
  /** Client: validates the server's response element against the offers sent. */
  validateResponse(response: ExtensionElement): NegotiationResult;
}

/** Client: the `Sec-WebSocket-Extensions` offer a client endpoint sends for its configured extensions. */
export function offerExtensions(extensions: readonly Extension[]): ExtensionElement[] {
  return extensions.flatMap((ext) => ext.offers());
}

/** Server: the response elements a 101 carries, and the agreements the frame phase runs with. */
export interface ServerNegotiation {
  readonly response: ExtensionElement[];
  readonly negotiated: NegotiatedExtension[];
}

/**
 * Server: negotiates every supported extension against the request's offers
 * (in the request's order of extensions). An extension whose RSV bits are
 * already taken by an accepted one is skipped. Never throws on peer input.
 */
export function negotiateExtensions(
  offers: readonly ExtensionElement[],
  supported: readonly Extension[],
): ServerNegotiation {
  const response: ExtensionElement[] = [];
  const negotiated: NegotiatedExtension[] = [];
  let taken = 0;
  const done = new Set<string>();
  for (const offer of offers) {
    const name = offer.name.toLowerCase();
    if (done.has(name)) continue;
    done.add(name);
    const ext = supported.find((e) => e.name === name);
    if (ext === undefined || (ext.rsv & taken) !== 0) continue;
    const agreed = ext.negotiate(offers.filter((o) => o.name.toLowerCase() === name));
    if (agreed === undefined) continue;
    taken |= agreed.rsv;
    response.push(agreed.response);
    negotiated.push(agreed);
  }
  return { response, negotiated };
}

/** Client: the agreement for the connection, or why the connection must fail. */
export type ClientNegotiation =
  | { readonly ok: true; readonly negotiated: NegotiatedExtension[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Client: validates the extensions a server accepted (the `open` event's
 * `extensions`) against the extensions offered. Fails on an extension not
 * configured, on one accepted twice, on RSV bits claimed twice, and on
 * whatever the extension itself rejects (RFC 6455 §9.1, RFC 7692 §7).
 */
export function acceptExtensions(
  accepted: readonly ExtensionElement[],
  offered: readonly Extension[],
): ClientNegotiation {
  const negotiated: NegotiatedExtension[] = [];
  let taken = 0;
  for (const element of accepted) {
    const name = element.name.toLowerCase();
    const ext = offered.find((e) => e.name === name);
    if (ext === undefined)
      return { ok: false, reason: `the server accepted extension "${element.name}", which was not offered` };
    if (negotiated.some((n) => n.name === name)) {
      return { ok: false, reason: `the server accepted extension "${name}" more than once` };
    }
    const result = ext.validateResponse(element);
    if (!result.ok) return result;
    if ((result.negotiated.rsv & taken) !== 0) {
      return { ok: false, reason: `extension "${name}" claims an RSV bit another accepted extension owns` };
    }
    taken |= result.negotiated.rsv;
    negotiated.push(result.negotiated);
  }
  return { ok: true, negotiated };
}
