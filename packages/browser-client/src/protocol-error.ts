/** The server broke the protocol after the handshake; the client sent a close frame with `code` and closed. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: number;
  constructor(code: number, reason: string) {
    super(`WebSocket protocol error ${code}: ${reason}`);
    this.code = code;
  }
}
