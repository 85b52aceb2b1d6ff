/**
 * Node sockets (and other duplexes, such as an HTTP/2 stream) as web byte
 * streams, with backpressure in both directions: the socket is paused while
 * the readable's queue is full, and a write resolves once the socket
 * accepted the bytes without exceeding its buffer (or after 'drain').
 * Closing the writable ends the socket (FIN; END_STREAM on HTTP/2), aborting
 * it destroys the socket (RST; RST_STREAM).
 */
import type { Duplex } from 'node:stream';
import type { ByteStream } from './transport.js';

/** Bytes queued in the readable before the socket is paused. */
const READ_HIGH_WATER_MARK = 64 * 1024;

export function socketToByteStream(socket: Duplex): ByteStream {
  let readDone = false;
  let writeError: Error | undefined;
  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        socket.on('data', (chunk: Buffer) => {
          if (readDone) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 1) <= 0) socket.pause();
        });
        socket.on('end', () => {
          if (readDone) return;
          readDone = true;
          controller.close();
        });
        socket.on('error', (error) => {
          writeError = error;
          if (readDone) return;
          readDone = true;
          controller.error(error);
        });
        socket.on('close', () => {
          if (readDone) return;
          readDone = true;
          controller.close();
        });
      },
      pull() {
        socket.resume();
      },
      cancel() {
        readDone = true;
        socket.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: READ_HIGH_WATER_MARK }),
  );
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (writeError !== undefined) throw writeError;
      if (socket.destroyed) throw new Error('the socket is closed');
      if (socket.write(chunk)) return;
      return new Promise<void>((resolve, reject) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          if (socket.destroyed && writeError !== undefined) reject(writeError);
          else resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        if (socket.destroyed || socket.writableEnded) resolve();
        else socket.end(() => resolve());
      });
    },
    abort() {
      socket.destroy();
    },
  });
  return { readable, writable };
}
