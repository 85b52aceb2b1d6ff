// A whole WebSocket session between a client and a server that share nothing
// but bytes: the opening handshake, messages both ways, a ping and the closing
// handshake, with every byte that crosses the "wire" printed and dissected.
// Run with `pnpm start` (it builds first).
import { ClientHandshake, Connection, ServerHandshake, closeCodeName, opcodeName } from '@rfc6455/codec';

const tty = process.stdout.isTTY;
const dim = (s) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const hex = (bytes, max = 24) =>
  Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ') + (bytes.length > max ? ' …' : '');

/** Describes the frames in a buffer produced by one side (header fields only). */
function dissect(bytes) {
  const lines = [];
  for (let p = 0; p + 2 <= bytes.length; ) {
    const fin = bytes[p] >> 7, op = bytes[p] & 15, masked = bytes[p + 1] >> 7;
    let len = bytes[p + 1] & 127, h = 2;
    if (len === 126) { len = (bytes[p + 2] << 8) | bytes[p + 3]; h = 4; }
    else if (len === 127) { len = Number(new DataView(bytes.buffer, bytes.byteOffset + p + 2, 8).getBigUint64(0)); h = 10; }
    const key = masked ? bytes.subarray(p + h, p + h + 4) : undefined;
    lines.push(`    ${bold(opcodeName(op).padEnd(12))} FIN=${fin} MASK=${masked}${key ? ` key=${hex(key)}` : ''} len=${len}  ${dim(hex(bytes.subarray(p, p + h + (masked ? 4 : 0) + len)))}`);
    p += h + (masked ? 4 : 0) + len;
  }
  return lines.join('\n');
}

function wire(from, to, chunks, { frames = true } = {}) {
  for (const chunk of chunks) {
    console.log(`${from} → ${to}  ${chunk.length} bytes`);
    console.log(frames ? dissect(chunk) : dim(new TextDecoder().decode(chunk).replace(/\r/g, '').trimEnd().replace(/^/gm, '    ')));
  }
}

// 1. The opening handshake (RFC 6455 §4).
const clientHs = new ClientHandshake('ws://example.test/chat', { protocols: ['chat.v2', 'chat.v1'] });
const serverHs = new ServerHandshake();
wire('client', 'server', [clientHs.request], { frames: false });
serverHs.receive(clientHs.request);
const request = serverHs.nextEvent();
console.log(dim(`    server sees: ${request.type} for ${request.target}, offered protocols ${request.protocols.join(', ')}`));
const accepted = serverHs.accept({ protocol: request.protocols[0] });
wire('server', 'client', [accepted.response], { frames: false });
clientHs.receive(accepted.response);
const opened = clientHs.nextEvent();
console.log(dim(`    client sees: ${opened.type}, protocol ${opened.protocol}\n`));

// 2. Two connections, fed whatever bytes followed the handshake heads.
const client = new Connection({ role: 'client' });
const server = new Connection({ role: 'server' });
client.receive(opened.trailing);
server.receive(accepted.trailing);

function deliver(from, to, fromName, toName) {
  const chunks = from.takeOutgoing();
  wire(fromName, toName, chunks);
  for (const chunk of chunks) to.receive(chunk.slice());
  for (const ev of to.events()) {
    const detail = 'data' in ev ? (typeof ev.data === 'string' ? JSON.stringify(ev.data) : `[${hex(ev.data, 8)}]`) : `${ev.code} ${closeCodeName(ev.code)} ${JSON.stringify(ev.reason)}`;
    console.log(dim(`    ${toName} event: ${ev.type} ${detail}`));
    if (ev.type === 'text' && toName === 'server') to.send({ type: 'text', data: ev.data.toUpperCase() });
  }
}

client.send({ type: 'text', data: 'hello, server' });
client.send({ type: 'binary', data: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) });
client.send({ type: 'ping', data: 'are you there?' });
deliver(client, server, 'client', 'server');
deliver(server, client, 'server', 'client');

// 3. The closing handshake (§7): the client starts it, the server echoes and closes the transport.
client.send({ type: 'close', code: 1000, reason: 'bye' });
deliver(client, server, 'client', 'server');
deliver(server, client, 'server', 'client');
console.log(`\nserver closes the TCP connection: ${server.shouldCloseTransport}; client waits for it: ${!client.shouldCloseTransport}`);
client.receiveEof();
console.log(`client's final event: ${JSON.stringify(client.nextEvent())}`);
