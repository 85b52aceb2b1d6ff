/** Frame opcodes (RFC 6455 §5.2). 0x3–0x7 and 0xB–0xF are reserved. */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Name of an opcode, for tools and error reasons ("reserved 0x3" for the rest). */
export function opcodeName(opcode: number): string {
  switch (opcode) {
    case 0x0:
      return 'continuation';
    case 0x1:
      return 'text';
    case 0x2:
      return 'binary';
    case 0x8:
      return 'close';
    case 0x9:
      return 'ping';
    case 0xa:
      return 'pong';
    default:
      return `reserved 0x${opcode.toString(16)}`;
  }
}

/** The largest control-frame payload (§5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
