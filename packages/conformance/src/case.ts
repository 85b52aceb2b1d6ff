/**
 * What one generated case is: the bytes to send and what the peer must do
 * about them. Shared by the server suite (we are the client) and the fuzzing
 * server (we are the server).
 */
import type { DeflateOffer, PerMessageDeflateParams } from '@rfc6455/codec';

export const Family = {
  Handshake: 'handshake',
  Framing: 'framing',
  PingPong: 'ping-pong',
  Reserved: 'reserved',
  Fragmentation: 'fragmentation',
  Utf8: 'utf8',
  Limits: 'limits',
  Close: 'close',
  Deflate: 'deflate',
} as const;
export type Family = (typeof Family)[keyof typeof Family];
export const FAMILIES: readonly Family[] = Object.values(Family);

/** Something the peer must send back: an echoed message or a pong. */
export type Reply =
  | { readonly type: 'text'; readonly data: string }
  | { readonly type: 'binary'; readonly data: Uint8Array }
  | { readonly type: 'pong'; readonly data: Uint8Array };

export type Expectation =
  /**
   * A valid stream that ends with our close frame: every reply in order, then
   * a close frame back whose code is in `closeCodes` (`null` = an empty body);
   * strict mode wants `strictCode`, the code we sent (RFC 6455 §5.5.1 "typically echoes").
   */
  | {
      readonly kind: 'echo';
      readonly replies: readonly Reply[];
      readonly closeCodes: readonly (number | null)[];
      readonly strictCode: number | null;
    }
  /** An invalid stream: replies to the valid prefix, then failing with `code` (§7.1.7). */
  | { readonly kind: 'fail'; readonly before: readonly Reply[]; readonly code: 1002 | 1007 | 1009 }
  /**
   * Where the RFC leaves the choice to the receiver (close codes 1012–1014,
   * non-minimal lengths): either behaviour passes, and the report says which one.
   */
  | {
      readonly kind: 'policy';
      readonly accept: Expectation & { readonly kind: 'echo' };
      readonly reject: Expectation & { readonly kind: 'fail' };
    };

/** What the handshake agreed, for cases whose bytes depend on it (permessage-deflate). */
export interface BuildContext {
  readonly deflate: PerMessageDeflateParams | undefined;
}

/** The bytes of a case: `send` goes out; `heldBack` (fail-fast cases) is never sent. */
export interface Wire {
  readonly send: Uint8Array;
  readonly heldBack?: Uint8Array;
}

export interface Case {
  readonly family: Family;
  /** A stable sub-kind, e.g. `utf8/fail-fast`, that `skip` options refer to. */
  readonly variant: string;
  readonly description: string;
  /**
   * permessage-deflate must be agreed, and the case is not applicable when it is not. For a
   * server `offer` is what the suite offers; for a client (the fuzzing server) it holds the
   * server's preferences (`permessageDeflate()` options) applied to the client's offer.
   */
  readonly deflate?: { readonly offer: DeflateOffer };
  readonly build: (ctx: BuildContext) => Wire;
  readonly expect: Expectation;
}
