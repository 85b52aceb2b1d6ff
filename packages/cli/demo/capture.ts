/**
 * The demo's capture panel: a pcap or pcapng file, picked or dropped, read
 * in the page as a stream (never loaded whole) and dissected by the same
 * code as `rfc6455 decode --pcap`, records rendered as they come.
 */
import { dissectCapture } from '../src/pcap/capture-dissector.js';
import type { CaptureRecord } from '../src/pcap/capture-records.js';
import { createStyle } from '../src/style.js';
import { formatCaptureRecord } from '../src/pcap/format-capture.js';
import { renderRecord } from './render.js';

/** Most records drawn; a bigger capture is still read to its end, and the summary says what it held. */
const MAX_SHOWN = 5000;
const plain = createStyle(false);

/** A browser File's bytes, chunk by chunk. */
async function* chunksOf(file: Blob): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function line(className: string, text: string): HTMLElement {
  return Object.assign(document.createElement('div'), { className, textContent: text });
}

function render(record: CaptureRecord): HTMLElement {
  if (record.type === 'websocket') return renderRecord(record.record, record.from, { conn: record.conn });
  const kind =
    record.type === 'error' || record.type === 'sync-lost' || (record.type === 'tcp' && record.event === 'gap')
      ? 'rec error'
      : record.type === 'socket-io' || record.type === 'engine-io' || record.type === 'engine-session'
        ? 'conn engine'
        : record.type === 'summary'
          ? record.violations + record.syncLost === 0
            ? 'conn ok'
            : 'rec error'
          : 'conn';
  const node = line(kind, formatCaptureRecord(record, { style: plain }).join('\n'));
  node.dataset.kind = record.type;
  if ('from' in record) node.dataset.from = record.from;
  return node;
}

/** Wires the file input and drop zone; `out` receives the records. */
export function setUpCapturePanel(input: HTMLInputElement, zone: HTMLElement, out: HTMLElement): void {
  let run = 0;
  const open = async (file: File) => {
    const mine = ++run;
    out.replaceChildren(line('conn', `${file.name}: ${file.size} bytes`));
    let shown = 0;
    for await (const record of dissectCapture(chunksOf(file))) {
      // A newer file replaced this one: stop reading it.
      if (mine !== run) return;
      if (shown < MAX_SHOWN || record.type === 'summary' || record.type === 'error') out.append(render(record));
      else if (shown === MAX_SHOWN) out.append(line('conn', `only the first ${MAX_SHOWN} records are shown`));
      shown++;
    }
  };
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file !== undefined) void open(file);
  });
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('dragging');
    const file = ev.dataTransfer?.files[0];
    if (file !== undefined) void open(file);
  });
}
