/**
 * Which close codes may be on the wire, written out for the judge from RFC
 * 6455 §7.4 and the IANA "WebSocket Close Code Number Registry" rather than
 * taken from the codec: the suite judges implementations, the codec included,
 * so a policy bug in the codec must not be able to pass against itself.
 * test/close-code-table.test.ts compares this table with the codec's
 * `isValidWireCloseCode` on every code 0–65535 and lists where they differ.
 */

export type CloseCodeStatus =
  /** Defined by RFC 6455 §7.4.1, or the ranges §7.4.2 opens to registration and private use. */
  | 'valid'
  /** Registered with IANA after RFC 6455 (1012–1014): accepted, as real servers send them. */
  | 'registered-later'
  /** Never in a close frame: unused, reserved, or only reported locally. */
  | 'invalid';

export interface CloseCodeRange {
  readonly from: number;
  readonly to: number;
  readonly status: CloseCodeStatus;
  /** Where the rule comes from. */
  readonly source: string;
}

/** Every code 0–65535, in order, each in exactly one range. */
export const CLOSE_CODE_TABLE: readonly CloseCodeRange[] = [
  { from: 0, to: 999, status: 'invalid', source: 'RFC 6455 §7.4.2: 0–999 are not used' },
  {
    from: 1000,
    to: 1003,
    status: 'valid',
    source: 'RFC 6455 §7.4.1: normal closure, going away, protocol error, unsupported data',
  },
  { from: 1004, to: 1004, status: 'invalid', source: 'RFC 6455 §7.4.1: reserved, meaning may be defined later' },
  {
    from: 1005,
    to: 1006,
    status: 'invalid',
    source: 'RFC 6455 §7.4.1: no status / abnormal closure, MUST NOT be set in a close frame',
  },
  {
    from: 1007,
    to: 1011,
    status: 'valid',
    source: 'RFC 6455 §7.4.1: invalid payload, policy violation, too big, mandatory extension, internal error',
  },
  {
    from: 1012,
    to: 1014,
    status: 'registered-later',
    source: 'IANA registry: service restart, try again later, bad gateway',
  },
  {
    from: 1015,
    to: 1015,
    status: 'invalid',
    source: 'RFC 6455 §7.4.1: TLS handshake failure, MUST NOT be set in a close frame',
  },
  {
    from: 1016,
    to: 2999,
    status: 'invalid',
    source: 'RFC 6455 §7.4.2: reserved for this protocol, unassigned in the IANA registry',
  },
  {
    from: 3000,
    to: 3999,
    status: 'valid',
    source: 'RFC 6455 §7.4.2: registered by libraries, frameworks and applications',
  },
  { from: 4000, to: 4999, status: 'valid', source: 'RFC 6455 §7.4.2: private use' },
  { from: 5000, to: 0xffff, status: 'invalid', source: 'outside the ranges RFC 6455 §7.4.2 defines' },
];

export function closeCodeRange(code: number): CloseCodeRange | undefined {
  return CLOSE_CODE_TABLE.find((r) => code >= r.from && code <= r.to);
}

/** Whether a peer may put `code` in a close frame (1012–1014 included). */
export function mayBeOnTheWire(code: number): boolean {
  const status = closeCodeRange(code)?.status;
  return status === 'valid' || status === 'registered-later';
}
