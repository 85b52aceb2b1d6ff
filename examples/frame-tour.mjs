// A whole WebSocket session between a client endpoint and a server endpoint
// that share nothing but bytes: the opening handshake, messages both ways, a
// ping and the closing handshake. The endpoints are sans-I/O, so the "wire"
// is this script: it takes what one endpoint queued, prints every byte (heads
// as text, frames field by field with their bytes in hex) and hands the bytes
// to the other.
// Run with `pnpm run frame-tour` (it builds the codec first).
import { ClientEndpoint, ServerEndpoint, closeCodeName } from '@rfc6455/codec';
import { opcodeName, parseFrameHeader } from '@rfc6455/codec/frames';
import { createRequestHeadParser, createResponseHeadParser } from '@rfc6455/codec/http';

const tty = process.stdout.isTTY;
const dim = (s) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Prints an HTTP head as its lines, read with the codec's head parser; returns the bytes after it. */
function printHead(bytes) {
  const start = new TextDecoder('latin1').decode(bytes.subarray(0, 5));
  const parser =
    start === 'HTTP/' ? createResponseHeadParser() : start.startsWith('GET ') ? createRequestHeadParser() : null;
  if (parser === null) return bytes;
  const head = parser.push(bytes);
  if (head.type !== 'complete') throw new Error(`not a whole head: ${head.type}`);
  const line = head.startLine;
  console.log(
    `    ${'method' in line ? `${line.method} ${line.target} HTTP/${line.httpVersion}` : `HTTP/${line.httpVersion} ${line.status} ${line.reason}`}`,
  );
  for (const [name, value] of head.headers) console.log(dim(`    ${name}: ${value}`));
  return head.trailing;
}

/** Prints every frame in `bytes`: its header fields as the codec's frame layer reads them, then all its bytes. */
function printFrames(bytes) {
  for (let at = 0; at < bytes.length; ) {
    const parsed = parseFrameHeader(bytes, at);
    if (parsed.type !== 'header') throw new Error(`no whole frame header at byte ${at}: ${parsed.type}`);
    const h = parsed.header;
    const end = at + h.headerLength + h.payloadLength;
    const fields = `FIN=${h.fin ? 1 : 0} RSV1-3=${(h.rsv >> 4).toString(2).padStart(3, '0')} MASK=${h.masked ? 1 : 0}${h.maskKey ? ` key=${hex(h.maskKey)}` : ''} len=${h.payloadLength} (${h.lengthEncoding}-bit)`;
    console.log(`    ${bold(opcodeName(h.opcode).padEnd(6))} ${fields}`);
    console.log(
      dim(`      ${hex(bytes.subarray(at, at + h.headerLength))} | ${hex(bytes.subarray(at + h.headerLength, end))}`),
    );
    at = end;
  }
}

function describe(ev) {
  switch (ev.type) {
    case 'request':
      return `request for ${ev.target}, offered protocols ${ev.protocols.join(', ')}`;
    case 'open':
      return `open, protocol ${ev.protocol}`;
    case 'text':
      return `text ${JSON.stringify(ev.data)}`;
    case 'binary':
    case 'ping':
    case 'pong':
      return `${ev.type} [${hex(ev.data)}]`;
    case 'close':
      return `close ${ev.code} ${closeCodeName(ev.code)} ${JSON.stringify(ev.reason)}`;
    default:
      return JSON.stringify(ev);
  }
}

const client = new ClientEndpoint('ws://example.test/chat', { protocols: ['chat.v2', 'chat.v1'] });
const server = new ServerEndpoint();
const names = new Map([
  [client, 'client'],
  [server, 'server'],
]);

/** Moves everything `from` queued to `to`, printing the bytes, then what `to` makes of them. */
function deliver(from, to) {
  const bytes = concat(from.takeOutgoing());
  if (bytes.length === 0) return;
  console.log(`${names.get(from)} → ${names.get(to)}  ${bytes.length} bytes`);
  printFrames(printHead(bytes));
  // The endpoint takes ownership of what it receives (it unmasks in place).
  to.receive(bytes);
  // One event at a time: a decision taken on one (accept) brings the next (open).
  for (let ev = to.nextEvent(); ev !== undefined; ev = to.nextEvent()) {
    console.log(`  ${names.get(to)} event: ${describe(ev)}`);
    // The application's decisions: accept the first subprotocol offered, answer text in capitals.
    if (ev.type === 'request') server.send({ type: 'accept', protocol: ev.protocols[0] });
    if (ev.type === 'text' && to === server) server.send({ type: 'text', data: ev.data.toUpperCase() });
  }
}

// 1. The opening handshake (RFC 6455 §4): the client queued its request when it was made.
deliver(client, server);
deliver(server, client);

// 2. Messages both ways; the server answers the ping by itself (§5.5.2).
client.send({ type: 'text', data: 'hello, server' });
client.send({ type: 'binary', data: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) });
client.send({ type: 'ping', data: 'are you there?' });
deliver(client, server);
deliver(server, client);

// 3. The closing handshake (§7): the client starts it, the server echoes it and closes the transport.
client.send({ type: 'close', code: 1000, reason: 'bye' });
deliver(client, server);
deliver(server, client);
console.log(
  `\nserver closes the TCP connection: ${server.shouldCloseTransport}; client waits for it: ${!client.shouldCloseTransport}`,
);
client.receiveEof();
server.receiveEof();
console.log(`client's final event: ${JSON.stringify(client.nextEvent())}`);
console.log(`server's final event: ${JSON.stringify(server.nextEvent())}`);
