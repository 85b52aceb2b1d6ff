/**
 * Turns dissector records into DOM elements for the inspector and the hex
 * dissection. Every value is set as text (never HTML): the payloads come
 * from the network.
 */
import { toHex } from '../src/hex.js';
import type { DissectRecord, FrameRecord, Side } from '../src/records.js';

export interface RecordMeta {
  /** Milliseconds since the demo server started, for live records. */
  readonly time?: number;
  readonly conn?: number;
}

const MAX_HEX = 96;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function el(tag: string, className?: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  if (className !== undefined) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function titleRow(from: Side, meta: RecordMeta, ...parts: HTMLElement[]): HTMLElement {
  const row = el('div', 'title');
  row.append(el('span', 'dir', from === 'client' ? 'client → server' : 'server → client'), ...parts);
  const info = [
    meta.conn === undefined ? '' : `#${meta.conn}`,
    meta.time === undefined ? '' : `+${(meta.time / 1000).toFixed(3)} s`,
  ]
    .filter(Boolean)
    .join('  ');
  if (info) row.append(el('span', 'meta', info));
  return row;
}

export function renderRecord(record: DissectRecord, from: Side, meta: RecordMeta = {}): HTMLElement {
  const box = el('div', `rec ${record.kind}`);
  box.dataset.from = from;
  box.dataset.kind = record.kind;
  switch (record.kind) {
    case 'frame':
      renderFrame(box, record, from, meta);
      break;
    case 'message': {
      box.dataset.type = record.type;
      const how = `${record.length} bytes${record.compressed ? `, inflated from ${record.wireLength}` : ''}, ${record.frames} frame${record.frames === 1 ? '' : 's'}`;
      box.append(
        titleRow(from, meta, el('span', 'arrow', `⇒ ${record.type} message`), el('span', 'bytes', `(${how})`)),
      );
      const data =
        typeof record.data === 'string' ? JSON.stringify(clip(record.data, 300)) : toHex(record.data, MAX_HEX);
      box.append(el('div', 'payload', data));
      break;
    }
    case 'http-request': {
      box.append(titleRow(from, meta, el('span', 'op', 'HTTP request'), el('span', 'bytes', `${record.length} bytes`)));
      box.append(el('div', '', record.startLine), headerTable(record.headers));
      if (record.expectedAccept !== null) {
        box.append(
          el(
            'div',
            'ok',
            `computed Sec-WebSocket-Accept = base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) = ${record.expectedAccept}`,
          ),
        );
      }
      if (record.problem !== null) box.append(el('div', 'bad', `not a valid upgrade: ${record.problem}`));
      break;
    }
    case 'http-response': {
      box.append(
        titleRow(from, meta, el('span', 'op', 'HTTP response'), el('span', 'bytes', `${record.length} bytes`)),
      );
      box.append(el('div', record.status === 101 ? 'ok' : 'bad', record.startLine), headerTable(record.headers));
      if (record.acceptMatches !== null) {
        box.append(
          el(
            'div',
            record.acceptMatches ? 'ok' : 'bad',
            record.acceptMatches
              ? '✓ Sec-WebSocket-Accept matches the computed value'
              : '✗ Sec-WebSocket-Accept does not match the key',
          ),
        );
      }
      if (record.deflate !== null) box.append(el('div', '', `permessage-deflate agreed: ${record.deflate}`));
      if (record.problem !== null) box.append(el('div', 'bad', record.problem));
      break;
    }
    case 'http-body':
      box.append(
        titleRow(from, meta, el('span', 'op', 'HTTP body')),
        el('div', 'payload', JSON.stringify(new TextDecoder().decode(record.bytes))),
      );
      break;
    case 'error':
      box.append(
        el(
          'div',
          '',
          `✗ decoding stopped at byte ${record.offset}: ${record.code === null ? '' : `${record.code} `}${record.reason}`,
        ),
      );
      break;
  }
  return box;
}

function renderFrame(box: HTMLElement, f: FrameRecord, from: Side, meta: RecordMeta): void {
  box.dataset.opcode = f.opcodeName;
  box.dataset.masked = String(f.masked);
  box.dataset.lengthEncoding = f.lengthEncoding;
  box.dataset.payloadLength = String(f.payloadLength);
  const badges: HTMLElement[] = [
    el('span', `op ${f.opcodeName.split(' ')[0] ?? ''}`, `${f.opcodeName.toUpperCase()} 0x${f.opcode.toString(16)}`),
  ];
  if (f.compressed) badges.push(el('span', 'badge', 'compressed'));
  if (!f.fin) badges.push(el('span', 'badge', 'fragment'));
  box.append(titleRow(from, meta, ...badges));

  const fields = el('div', 'fields');
  const field = (name: string, value: string) => {
    const cell = el('div');
    cell.append(el('span', '', `${name} `), document.createTextNode(value));
    fields.append(cell);
  };
  field('FIN', f.fin ? '1' : '0');
  field('RSV1', f.rsv1 ? '1' : '0');
  field('RSV2', f.rsv2 ? '1' : '0');
  field('RSV3', f.rsv3 ? '1' : '0');
  field('opcode', `0x${f.opcode.toString(16)} ${f.opcodeName}`);
  field('MASK', f.masked ? '1' : '0');
  field('length', `${f.payloadLength} (${f.lengthEncoding})`);
  field('key', f.maskKey === null ? '—' : toHex(f.maskKey));
  box.append(fields);

  const header = el('div', 'bytes', 'header ');
  header.append(el('b', '', toHex(f.header)));
  box.append(header);
  if (f.close !== null)
    box.append(
      el(
        'div',
        'close-info',
        `close code ${f.close.code}: ${f.close.codeName}${f.close.reason ? ` — reason ${JSON.stringify(f.close.reason)}` : ''}`,
      ),
    );
  else if (f.opcode === 0x8)
    box.append(el('div', 'close-info', 'close frame without a code (reported as 1005 No Status Received)'));
  if (f.payload.length > 0) {
    const text = f.compressed || f.opcode === 0x2 || f.opcode === 0x8 ? null : asText(f.payload);
    if (text !== null) box.append(el('div', 'payload', `text ${JSON.stringify(clip(text, 300))}`));
    const hex = el(
      'div',
      'bytes',
      f.compressed ? 'payload (deflated) ' : f.masked ? 'payload (unmasked) ' : 'payload ',
    );
    hex.append(el('b', '', toHex(f.payload, MAX_HEX)));
    box.append(hex);
  }
}

function headerTable(headers: ReadonlyArray<readonly [string, string]>): HTMLElement {
  const table = el('table', 'headers');
  for (const [name, value] of headers) {
    const row = el('tr');
    row.append(el('td', '', name), el('td', '', value));
    table.append(row);
  }
  return table;
}

function asText(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}
