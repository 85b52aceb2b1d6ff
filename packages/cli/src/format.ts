/**
 * Renders dissector records as terminal text: one headline per frame with
 * every header field, then indented detail lines. Used by `decode` and by
 * `connect --trace`.
 */
import type { DissectRecord, FrameRecord, Side } from './records.js';
import { toHex } from './hex.js';
import type { Style } from './style.js';

export interface FormatOptions {
  readonly style: Style;
  /** Longest payload shown in hex, in bytes. */
  readonly maxBytes?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function arrow(from: Side): string {
  return from === 'client' ? 'client → server' : 'server → client';
}

export function formatRecord(record: DissectRecord, options: FormatOptions): string[] {
  return formatPeerRecord(record, options, same);
}

/**
 * `formatRecord` with every string the peer chose (start lines, headers,
 * problems quoting them, text payloads, close reasons) passed through
 * `peer` before it is styled, e.g. to escape control characters for a
 * terminal. Not part of the package's API: `connect` uses it.
 */
export function formatPeerRecord(
  record: DissectRecord,
  options: FormatOptions,
  peer: (text: string) => string,
): string[] {
  const { style } = options;
  const max = options.maxBytes ?? 64;
  switch (record.kind) {
    case 'http-request': {
      const lines = [style.bold(`HTTP request (${record.length} bytes)`), `  ${peer(record.startLine)}`];
      for (const [name, value] of record.headers) lines.push(`  ${style.cyan(peer(name))}: ${peer(value)}`);
      if (record.expectedAccept !== null)
        lines.push(
          style.dim(
            `  Sec-WebSocket-Accept expected: ${peer(record.expectedAccept)} (base64 SHA-1 of the key + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11)`,
          ),
        );
      if (record.problem !== null) lines.push(style.red(`  not a valid upgrade: ${peer(record.problem)}`));
      return lines;
    }
    case 'http-response': {
      const startLine = peer(record.startLine);
      const lines = [
        style.bold(`HTTP response (${record.length} bytes)`),
        `  ${record.status === 101 ? style.green(startLine) : style.red(startLine)}`,
      ];
      for (const [name, value] of record.headers) lines.push(`  ${style.cyan(peer(name))}: ${peer(value)}`);
      if (record.acceptMatches !== null)
        lines.push(
          record.acceptMatches
            ? style.green('  Sec-WebSocket-Accept matches the key')
            : style.red('  Sec-WebSocket-Accept does NOT match the key'),
        );
      if (record.deflate !== null) lines.push(style.dim(`  permessage-deflate agreed: ${peer(record.deflate)}`));
      if (record.problem !== null) lines.push(style.red(`  ${peer(record.problem)}`));
      return lines;
    }
    case 'http-body':
      return [
        style.bold(`HTTP body (${record.bytes.length} bytes)`),
        `  ${peer(JSON.stringify(new TextDecoder().decode(record.bytes)))}`,
      ];
    case 'frame':
      return formatFrame(record, style, max, peer);
    case 'message': {
      const how = `${record.length} bytes${record.compressed ? `, inflated from ${record.wireLength}` : ''}, ${record.frames} frame${record.frames === 1 ? '' : 's'}`;
      const data =
        typeof record.data === 'string' ? peer(JSON.stringify(clip(record.data, max * 2))) : toHex(record.data, max);
      return [`  ${style.green('⇒')} ${record.type} message (${how}): ${data}`];
    }
    case 'error':
      return [
        style.red(
          `✗ decoding stopped at byte ${record.offset}: ${record.code === null ? '' : `${record.code} `}${peer(record.reason)}`,
        ),
      ];
  }
}

const same = (text: string): string => text;

function formatFrame(f: FrameRecord, style: Style, max: number, peer: (text: string) => string): string[] {
  const bit = (on: boolean) => (on ? '1' : '0');
  const head = [
    style.bold(f.opcodeName.toUpperCase()),
    `opcode=0x${f.opcode.toString(16)}`,
    `FIN=${bit(f.fin)}`,
    `RSV1=${bit(f.rsv1)} RSV2=${bit(f.rsv2)} RSV3=${bit(f.rsv3)}`,
    `MASK=${bit(f.masked)}`,
    `len=${f.payloadLength} (${f.lengthEncoding})`,
  ];
  if (f.maskKey !== null) head.push(`key=${toHex(f.maskKey)}`);
  if (f.compressed) head.push(style.magenta('compressed'));
  const lines = [`frame @${f.offset}: ${head.join(' ')}`, style.dim(`  header ${toHex(f.header)}`)];
  if (f.payload.length < f.payloadLength) return lines; // header only: decoding stopped at it
  if (f.close !== null)
    lines.push(
      `  close ${f.close.code} ${f.close.codeName}${f.close.reason === '' ? '' : ` ${peer(JSON.stringify(f.close.reason))}`}`,
    );
  else if (f.opcode === 0x8) lines.push('  close without a code (reported as 1005 No Status Received)');
  if (f.payload.length > 0) {
    const text = !f.compressed && f.opcode !== 0x2 ? asText(f.payload) : null;
    if (text !== null && f.opcode !== 0x8) lines.push(`  text ${peer(JSON.stringify(clip(text, max * 2)))}`);
    lines.push(`  ${f.masked ? 'payload (unmasked)' : 'payload'} ${toHex(f.payload, max)}`);
  }
  return lines;
}

function asText(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null; // a fragment may end inside a code point; hex shows it anyway
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
