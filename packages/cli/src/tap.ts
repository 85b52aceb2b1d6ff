/**
 * Wraps a byte stream so every chunk that crosses it is reported, in order,
 * before the client sees it or after the client wrote it: how `connect
 * --trace` sees the exact bytes on the wire without touching the client.
 */
import type { ByteStream } from '@rfc6455/browser-client';
import type { Side } from './records.js';

export type TapListener = (from: Side, bytes: Uint8Array) => void;

export function tapByteStream(stream: ByteStream, listener: TapListener): ByteStream {
  // Copies: the client's codec owns what it reads and may reuse what it wrote.
  const readable = stream.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        listener('server', chunk.slice());
        controller.enqueue(chunk);
      },
    }),
  );
  const writer = stream.writable.getWriter();
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      listener('client', chunk.slice());
      await writer.write(chunk);
    },
    close: () => writer.close(),
    abort: (reason) => writer.abort(reason),
  });
  return { readable, writable };
}
