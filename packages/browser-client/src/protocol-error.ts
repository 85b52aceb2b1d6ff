/**
 * The server broke the protocol after the handshake (RFC 6455 §7.1.7): the
 * client sent a close frame with `closeCode` and closed the connection.
 * Named as node-server's WebSocketProtocolError and WebSocketError name it:
 * `code` is kept for machine-readable string codes, as the codec's
 * UsageError has.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** The close code the client sent, e.g. 1002 (protocol error) or 1007 (invalid UTF-8). */
  readonly closeCode: number;
  constructor(closeCode: number, reason: string) {
    super(`WebSocket protocol error ${closeCode}: ${reason}`);
    this.closeCode = closeCode;
  }
}
