/**
 * The demo page: an echo client on the browser's own WebSocket, the live
 * inspector fed by the server's wire tap, and a hex dissector. All decoding
 * happens here, with the codec bundled for the browser.
 */
import { detectSide } from '../src/detect-side.js';
import { SessionDissector, StreamDissector } from '../src/dissector.js';
import { primeForExtendedConnect } from '../src/h2-heads.js';
import { parseHex, toHex } from '../src/hex.js';
import type { Side } from '../src/records.js';
import type { TapMessage } from '../src/tap-message.js';
import { setUpCapturePanel } from './capture.js';
import { renderRecord } from './render.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`#${id} is missing from the page`);
  return node as T;
};

const inspector = $('inspector');
const messages = $('messages');
const status = $('status');
const wsBase = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;

// ---- live inspector: one session dissector per tapped connection ----
const sessions = new Map<number, SessionDissector>();
// Connections whose byte stream this page does not have whole (begun before
// the records the server keeps, or cut by it): no longer dissected, since
// the rest would be decoded from the wrong place.
const incomplete = new Set<number>();

function appendRecord(node: HTMLElement): void {
  const atBottom =
    inspector.parentElement !== null &&
    inspector.parentElement.scrollHeight - inspector.parentElement.scrollTop - inspector.parentElement.clientHeight <
      40;
  inspector.append(node);
  if (atBottom) node.scrollIntoView({ block: 'end' });
}

function note(text: string): void {
  appendRecord(Object.assign(document.createElement('div'), { className: 'conn', textContent: text }));
}

function stopDissecting(conn: number, why: string): void {
  sessions.delete(conn);
  incomplete.add(conn);
  note(`connection #${conn}: ${why}; its further bytes are not dissected`);
}

function onTap(message: TapMessage): void {
  switch (message.type) {
    case 'open': {
      const session = new SessionDissector();
      sessions.set(message.conn, session);
      incomplete.delete(message.conn);
      const h2 = message.http2;
      if (h2 === undefined) {
        note(`connection #${message.conn} opened (TCP from ${message.remote})`);
        return;
      }
      // RFC 8441: the heads were HEADERS frames, not bytes; the frames that follow are dissected as after a 101.
      note(`connection #${message.conn} opened over HTTP/2, stream ${h2.streamId} (from ${message.remote})`);
      note(`client → server: HEADERS ${h2.request.map(([name, value]) => `${name}: ${value}`).join(' · ')}`);
      note(`server → client: HEADERS :status: ${h2.status}${h2.response.map(([n, v]) => ` · ${n}: ${v}`).join('')}`);
      primeForExtendedConnect(session, h2.request, h2.response);
      return;
    }
    case 'end':
      note(`connection #${message.conn}: the ${message.from} ended TCP`);
      return;
    case 'gap':
      note(`${message.records} records were dropped by the server before this page read them`);
      for (const conn of [...sessions.keys()]) stopDissecting(conn, 'records missing');
      return;
    case 'bytes':
      break;
  }
  if (incomplete.has(message.conn)) return;
  const session = sessions.get(message.conn);
  if (session === undefined) {
    stopDissecting(message.conn, 'it began before the records the server still keeps');
    return;
  }
  const bytes = Uint8Array.from(atob(message.base64), (c) => c.charCodeAt(0));
  if (message.length !== undefined) {
    const from = message.from === 'client' ? 'client → server' : 'server → client';
    note(
      `${from} #${message.conn}: ${message.length} bytes, of which the server kept the first ${bytes.length}: ${toHex(bytes, 48)}`,
    );
    stopDissecting(message.conn, 'a chunk was cut to size');
    return;
  }
  for (const record of session.push(message.from, bytes))
    appendRecord(renderRecord(record, message.from, { time: message.t, conn: message.conn }));
}

function openInspector(): Promise<void> {
  return new Promise((resolve) => {
    const feed = new WebSocket(`${wsBase}/inspect`);
    feed.onmessage = (ev) => onTap(JSON.parse(String(ev.data)) as TapMessage);
    feed.onopen = () => resolve();
    feed.onclose = () => {
      resolve();
      log('info', 'the inspector feed closed (server stopped?)');
    };
  });
}

// ---- echo client ----
let echo: WebSocket | null = null;

function setStatus(state: 'connecting' | 'open' | 'closed', text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

function log(kind: 'sent' | 'received' | 'info', text: string): void {
  const item = document.createElement('li');
  item.className = kind;
  item.textContent = text;
  messages.append(item);
  item.scrollIntoView({ block: 'nearest' });
}

function describe(data: string | ArrayBuffer | Uint8Array): string {
  if (typeof data === 'string') return data.length > 120 ? `${data.slice(0, 120)}… (${data.length} chars)` : data;
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  return `[binary ${bytes.length} B] ${toHex(bytes, 24)}`;
}

function connectEcho(): void {
  if (echo !== null && echo.readyState <= WebSocket.OPEN) echo.close(1000, 'reconnecting');
  const deflate = $<HTMLInputElement>('deflate').checked;
  const ws = new WebSocket(`${wsBase}/echo${deflate ? '' : '?deflate=off'}`);
  ws.binaryType = 'arraybuffer';
  echo = ws;
  setStatus('connecting', 'connecting…');
  ws.onopen = () => setStatus('open', `open${ws.extensions ? ` · ${ws.extensions}` : ' · no compression'}`);
  ws.onmessage = (ev) => log('received', describe(ev.data as string | ArrayBuffer));
  ws.onclose = (ev) => {
    if (echo === ws) setStatus('closed', `closed ${ev.code}${ev.reason ? ` "${ev.reason}"` : ''}`);
    log('info', `closed: ${ev.code} ${ev.reason}`);
  };
}

function send(data: string | Uint8Array): void {
  if (echo === null || echo.readyState !== WebSocket.OPEN) {
    log('info', 'not connected: press Reconnect');
    return;
  }
  echo.send(data);
  log('sent', describe(data));
}

$('text-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  send($<HTMLInputElement>('text').value);
});
$('binary-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const parsed = parseHex($<HTMLInputElement>('binary').value);
  if (parsed.ok) send(parsed.bytes);
  else log('info', `invalid hex at character ${parsed.position + 1}: ${parsed.reason}`);
});
$('send-200').addEventListener('click', () => send('x'.repeat(200)));
$('send-70k').addEventListener('click', () =>
  send('The quick brown fox jumps over the lazy dog. '.repeat(1600).slice(0, 70_000)),
);
$('close-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  try {
    echo?.close(Number($<HTMLInputElement>('close-code').value), $<HTMLInputElement>('close-reason').value);
  } catch (error) {
    // A browser only lets a page send 1000 or 3000–4999.
    log('info', (error as Error).message);
  }
});
$('reconnect').addEventListener('click', connectEcho);
$('deflate').addEventListener('change', connectEcho);
$('clear').addEventListener('click', () => inspector.replaceChildren());

// ---- hex dissection in the page ----
$('hex-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const out = $('dissection');
  out.replaceChildren();
  const parsed = parseHex($<HTMLTextAreaElement>('hex').value);
  if (!parsed.ok) {
    out.append(
      Object.assign(document.createElement('div'), {
        className: 'rec error',
        textContent: `invalid hex at character ${parsed.position + 1}: ${parsed.reason}`,
      }),
    );
    return;
  }
  const choice = $<HTMLSelectElement>('hex-from').value;
  const guess =
    choice === 'client' || choice === 'server' ? { side: choice as Side, why: 'chosen' } : detectSide(parsed.bytes);
  out.append(
    Object.assign(document.createElement('div'), {
      className: 'conn',
      textContent: `${parsed.bytes.length} bytes from the ${guess.side} (${guess.why})`,
    }),
  );
  const dissector = new StreamDissector({
    from: guess.side,
    deflate: $<HTMLInputElement>('hex-deflate').checked ? {} : null,
  });
  const records = [...dissector.push(parsed.bytes), ...dissector.end()];
  for (const record of records) out.append(renderRecord(record, guess.side));
  if (!records.some((r) => r.kind === 'error'))
    out.append(
      Object.assign(document.createElement('div'), {
        className: 'conn ok',
        textContent: `✓ all ${parsed.bytes.length} bytes decoded`,
      }),
    );
});

setUpCapturePanel($<HTMLInputElement>('capture-file'), $('capture-zone'), $('capture'));

void openInspector().then(connectEcho);
