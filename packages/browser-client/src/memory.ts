/**
 * Two connected in-memory byte streams: what one side writes, the other
 * reads. For tests, workers and in-process servers; no sockets involved.
 * Writes resolve once the peer's readable has room (highWaterMark chunks).
 */
import type { ByteStream } from './transport.js';

export function createByteStreamPair(highWaterMark = 16): [ByteStream, ByteStream] {
  const a = new TransformStream<Uint8Array, Uint8Array>(
    undefined,
    undefined,
    new CountQueuingStrategy({ highWaterMark }),
  );
  const b = new TransformStream<Uint8Array, Uint8Array>(
    undefined,
    undefined,
    new CountQueuingStrategy({ highWaterMark }),
  );
  return [
    { readable: a.readable, writable: b.writable },
    { readable: b.readable, writable: a.writable },
  ];
}
