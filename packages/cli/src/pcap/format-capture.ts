/**
 * Capture records as terminal text (one headline per record, WebSocket
 * records in the same layout as `rfc6455 decode`) or as JSON lines.
 */
import type { EnginePacket } from '../engine-io.js';
import { formatPeerRecord } from '../format.js';
import { toHex } from '../hex.js';
import type { SocketIoPacket } from '../socket-io.js';
import type { Style } from '../style.js';
import type { CaptureRecord } from './capture-records.js';

export interface CaptureFormatOptions {
  readonly style: Style;
  readonly maxBytes?: number;
  /** Applied to every string the capture's peers chose (escaping control characters on a terminal). */
  readonly peer?: (text: string) => string;
}

const same = (text: string): string => text;

export function formatCaptureRecord(record: CaptureRecord, options: CaptureFormatOptions): string[] {
  const { style } = options;
  const peer = options.peer ?? same;
  const where = (r: { packet: number; time: number }) => style.dim(`[#${r.packet} +${r.time.toFixed(6)}s]`);
  const dir = (from: 'client' | 'server') => (from === 'client' ? 'C→S' : 'S→C');
  switch (record.type) {
    case 'capture':
      return [style.dim(record.detail)];
    case 'connection': {
      const engine =
        record.engine === null
          ? ''
          : ` · Engine.IO v${record.engine.versionText} ${record.engine.transport ?? ''}${record.engine.sid === null ? '' : ` sid=${peer(record.engine.sid)}`}`;
      return [
        `${where(record)} ${style.bold(`connection #${record.conn}`)} ${record.client} → ${record.server} ${record.protocol === 'websocket' ? style.green('WebSocket') : 'HTTP'}${record.seen === 'mid-connection' ? style.yellow(' (capture starts mid-connection)') : ''}${engine}`,
      ];
    }
    case 'websocket': {
      const lines = formatPeerRecord(record.record, { style, maxBytes: options.maxBytes }, peer);
      const [first = '', ...rest] = lines;
      return [`${where(record)} #${record.conn} ${dir(record.from)} ${first.trimStart()}`, ...rest];
    }
    case 'http':
      return [
        `${where(record)} #${record.conn} ${dir(record.from)} HTTP ${peer(record.startLine)} (${record.bodyLength} body bytes${record.complete ? '' : ', incomplete'})${record.engine?.transport === 'polling' ? style.magenta(' Engine.IO polling') : ''}`,
      ];
    case 'tcp': {
      const text = `${where(record)} #${record.conn} ${dir(record.from)} TCP ${record.event} at stream byte ${record.offset} (${record.length} bytes)${record.reason === null ? '' : `: ${record.reason}`}`;
      return [record.event === 'gap' ? style.red(text) : style.yellow(text)];
    }
    case 'sync-lost':
      return [
        style.red(
          `${where(record)} #${record.conn} ${dir(record.from)} ✗ sync lost at stream byte ${record.offset}: ${record.reason}; this direction is not dissected further`,
        ),
      ];
    case 'engine-io':
      return [
        `${where(record)} #${record.conn} ${dir(record.from)} ${style.magenta('Engine.IO')} ${record.transport} ${describeEngine(record.engine, peer)}`,
      ];
    case 'socket-io':
      return [
        `${where(record)} #${record.conn} ${dir(record.from)} ${style.magenta('Socket.IO')} ${record.transport} ${describeSocket(record.socket, peer)}${record.recoveryOffset === null ? '' : style.dim(` (recovery offset ${peer(record.recoveryOffset)})`)}`,
      ];
    case 'engine-session':
      return [
        style.cyan(
          record.event === 'opened'
            ? `${where(record)} Engine.IO session ${peer(record.sid ?? '?')} opened on ${record.transport} (connection #${record.conn})`
            : `${where(record)} Engine.IO session ${peer(record.sid ?? '?')} upgraded to WebSocket on connection #${record.conn}; it started on polling (connection #${record.previous?.conn}, packet #${record.previous?.packet})`,
        ),
      ];
    case 'notice':
      return [style.yellow(`${where(record)} ${record.reason}`)];
    case 'error':
      return [style.red(`✗ the capture cannot be read further (file offset ${record.fileOffset}): ${record.reason}`)];
    case 'summary': {
      const text = `${record.packets} packets, ${record.connections} connections followed, ${record.websocketConnections} WebSocket, ${record.frames} frames, ${record.messages} messages, ${record.violations} protocol violations, ${record.syncLost} places where sync was lost`;
      return [record.violations + record.syncLost === 0 ? style.green(`✓ ${text}`) : style.red(`✗ ${text}`)];
    }
  }
}

function describeEngine(p: EnginePacket, peer: (text: string) => string): string {
  switch (p.type) {
    case 'open':
      return `open ${peer(p.text)}`;
    case 'ping':
    case 'pong':
      return p.probe
        ? `${p.type} probe (upgrade check)`
        : `${p.type}${p.text === '' ? '' : ` ${peer(JSON.stringify(p.text))}`}`;
    case 'message':
      return `message ${typeof p.data === 'string' ? peer(JSON.stringify(p.data)) : `<${p.data.length} bytes> ${toHex(p.data, 32)}`}`;
    case 'upgrade':
      return 'upgrade (the session moves to this WebSocket)';
    case 'invalid':
      return `invalid: ${peer(p.reason)}`;
    default:
      return p.type;
  }
}

function describeSocket(p: SocketIoPacket, peer: (text: string) => string): string {
  const parts = [p.type.toUpperCase(), `nsp=${peer(p.namespace)}`];
  if (p.id !== null) parts.push(`ack=${p.id}`);
  if (p.attachments > 0) parts.push(`attachments=${p.attachments}`);
  if (p.data !== undefined) parts.push(peer(JSON.stringify(p.data, jsonBytes)));
  return parts.join(' ');
}

/** JSON for records: bytes become `{ "hex": "..." }` (a Uint8Array would print as an object of indices). */
export function captureRecordJson(record: CaptureRecord): string {
  return JSON.stringify(record, jsonBytes);
}

function jsonBytes(this: unknown, key: string, value: unknown): unknown {
  // A Buffer's toJSON has run before a replacer sees it: look at the value itself.
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) value = original;
  if (value instanceof Uint8Array) return { hex: Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('') };
  return value;
}
