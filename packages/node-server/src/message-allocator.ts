/**
 * The codec's `allocate` accelerator: the buffer a large message is
 * assembled in, taken without the zero-filling a `new Uint8Array` costs (the
 * codec writes every byte of it before handing the message out). Unpooled,
 * so a message's `.buffer` holds that message alone.
 */
import { Buffer } from 'node:buffer';

export function allocateMessage(size: number): Uint8Array {
  return Buffer.allocUnsafeSlow(size);
}
