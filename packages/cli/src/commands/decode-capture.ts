/**
 * `rfc6455 decode --pcap FILE`: a capture file read as a stream (never
 * loaded whole), every WebSocket connection in it dissected, text or JSON
 * lines out as the records come.
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { CliUsageError, Exit } from '../command.js';
import { dissectCapture } from '../pcap/capture-dissector.js';
import { captureRecordJson, formatCaptureRecord } from '../pcap/format-capture.js';
import { styleFor } from '../style.js';
import { escapeControls } from '../terminal-text.js';

export interface DecodeCaptureOptions {
  readonly file: string;
  readonly json: boolean;
  readonly port?: number;
  readonly deflate: boolean;
  readonly maxBytes: number;
  readonly maxMessageSize?: number;
}

/** Read size: memory use is about one chunk, one capture record and each connection's partial frame. */
const CHUNK = 1024 * 1024;

export async function decodeCapture(options: DecodeCaptureOptions): Promise<number> {
  const stream = createReadStream(options.file, { highWaterMark: CHUNK });
  // An unreadable file is a usage mistake, said before anything is printed.
  await new Promise<void>((resolve, reject) => {
    stream.once('readable', resolve);
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CliUsageError(`cannot read ${options.file}: ${error.code ?? ''} ${error.message}`)),
    );
  });
  const style = styleFor(process.stdout);
  const peer = process.stdout.isTTY === true ? escapeControls : (text: string) => text;
  let failed = false;
  // `rfc6455 decode --pcap big.pcapng | head`: a closed pipe ends the output, quietly.
  let closed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  let lines: string[] = [];
  const flush = async () => {
    if (lines.length === 0 || closed) return;
    const ok = process.stdout.write(`${lines.join('\n')}\n`);
    lines = [];
    // Backpressure: a slow reader of stdout slows the dissection, not memory.
    if (!ok) await once(process.stdout, 'drain').catch(() => (closed = true));
  };
  const records = dissectCapture(plainBytes(stream as AsyncIterable<Buffer>), {
    port: options.port,
    deflate: options.deflate ? {} : null,
    maxMessageSize: options.maxMessageSize,
  });
  for await (const record of records) {
    if (closed) break;
    if (record.type === 'error' || record.type === 'sync-lost') failed = true;
    if (record.type === 'summary' && record.violations + record.syncLost > 0) failed = true;
    if (options.json) lines.push(captureRecordJson(record));
    else lines.push(...formatCaptureRecord(record, { style, maxBytes: options.maxBytes, peer }));
    if (lines.length >= 256) await flush();
  }
  await flush();
  stream.destroy();
  return failed ? Exit.Failure : Exit.Ok;
}

/**
 * A file stream's chunks as plain Uint8Arrays: Buffer's `slice` is a view,
 * not the copy the runtime-neutral core expects of `Uint8Array#slice`.
 */
async function* plainBytes(chunks: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
}
