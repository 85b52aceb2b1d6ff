/**
 * Close status codes (RFC 6455 §7.4 and the IANA "WebSocket Close Code Number"
 * registry).
 */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Never on the wire: reported locally when a close frame had no code. */
  NoStatus: 1005,
  /** Never on the wire: reported locally when the transport ended without a close frame. */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** Never on the wire: reported locally when the TLS handshake failed. */
  TlsHandshake: 1015,
} as const;

/**
 * Whether `code` may appear in a close frame on the wire.
 *
 * Policy: 1000–1003, 1007–1014 and 3000–4999. 1012–1014 are not in RFC 6455
 * but are registered with IANA and sent by real servers (restart, try again
 * later, bad gateway); `ws` and undici accept them too. 1004, 1005, 1006, 1015,
 * 1016–2999 and everything outside 1000–4999 is rejected.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (code >= 3000) return code <= 4999;
  if (code < 1000 || code > 1014) return false;
  return code !== 1004 && code !== 1005 && code !== 1006;
}

const names: Record<number, string> = {
  1000: 'Normal Closure',
  1001: 'Going Away',
  1002: 'Protocol Error',
  1003: 'Unsupported Data',
  1004: 'Reserved',
  1005: 'No Status Received',
  1006: 'Abnormal Closure',
  1007: 'Invalid Frame Payload Data',
  1008: 'Policy Violation',
  1009: 'Message Too Big',
  1010: 'Mandatory Extension',
  1011: 'Internal Error',
  1012: 'Service Restart',
  1013: 'Try Again Later',
  1014: 'Bad Gateway',
  1015: 'TLS Handshake',
};

/** A human-readable name for a close code, for logs and tools. */
export function closeCodeName(code: number): string {
  const name = names[code];
  if (name !== undefined) return name;
  if (code >= 3000 && code <= 3999) return 'Registered (3000–3999)';
  if (code >= 4000 && code <= 4999) return 'Private Use (4000–4999)';
  if (code >= 1016 && code <= 2999) return 'Reserved for the Protocol';
  return 'Invalid';
}
