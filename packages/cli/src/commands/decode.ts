/**
 * `rfc6455 decode`: dissects raw bytes (hex on the command line or stdin)
 * into an HTTP head, if one leads, and WebSocket frames, and says where and
 * why decoding stopped. With `--pcap` it reads a capture file instead
 * (decode-capture.ts).
 */
import { StreamDissector } from '../dissector.js';
import { formatPeerRecord } from '../format.js';
import { parseHex } from '../hex.js';
import { detectSide, type SideGuess } from '../detect-side.js';
import { styleFor } from '../style.js';
import { escapeControls } from '../terminal-text.js';
import { CliUsageError, defineCommand, Exit, parsePort } from '../command.js';
import { decodeCapture } from './decode-capture.js';

export const decodeCommand = defineCommand({
  name: 'decode',
  summary: 'dissect raw bytes, or a pcap/pcapng capture, into frames',
  help: `Usage: rfc6455 decode <hex...|-> [options]
       rfc6455 decode --pcap <file> [--json] [--port <n>] [options]

Dissects the bytes one side of a WebSocket connection sent: an HTTP upgrade
request or response head if the bytes start with one, then every frame (FIN,
RSV1-3, opcode, MASK, payload length and its encoding, masking key, payload
as text and hex), and the messages the codec assembles. Decoding stops where
the receiving endpoint would: at a head it refuses (with the HTTP status a
server answers, or why a client fails the handshake) or at the first frame
that breaks RFC 6455 (with the close code it sends).

  <hex...>        bytes in hex; spaces, newlines, colons and 0x prefixes are ignored
  -               read stdin: hex text, or raw bytes if it is not hex

Options:
  --from <side>   client or server: who sent the bytes (default: auto, from an
                  HTTP head or the first frame's mask bit: masked = client)
  --deflate       permessage-deflate was negotiated (window 15): inflate RSV1
                  messages (on by itself when a 101 response in the input agrees it)
  --max-bytes <n> longest payload shown in hex (default 64)
  -h, --help      show this help

Captures (--pcap):
  --pcap <file>   read a pcap or pcapng capture (Ethernet, Linux cooked SLL/SLL2,
                  BSD/OpenBSD loopback, raw IP; IPv4 and IPv6), streamed, never
                  loaded whole. TCP is reassembled; retransmissions, out-of-order
                  segments and holes are reported, and a direction with a hole
                  stops being dissected there ("sync lost"). Every connection
                  with an HTTP/1.1 upgrade to WebSocket is dissected, both
                  directions in capture order: handshake and accept-key check,
                  frames, messages (permessage-deflate inflated), close codes,
                  and every violation with the close code a strict endpoint
                  sends. Engine.IO (v3, v4) and Socket.IO inside are decoded,
                  long-polling requests included.
  --port <n>      also dissect connections on this TCP port whose handshake the
                  capture lacks (a capture begun mid-connection; add --deflate
                  if the connection negotiated permessage-deflate)
  --json          one JSON record per line instead of text
  --max-message-size <n>
                  largest message, after inflation, before the violation 1009
                  (default 16 MiB): bounds what a deflate bomb costs

Exit status: 0 when every byte was decoded, 1 when decoding stopped (a
violation, lost sync, a damaged capture), 2 for bad input.

Examples:
  rfc6455 decode 81 85 37 fa 21 3d 7f 9f 4d 51 58
  rfc6455 decode 88 02 03 e8
  xxd -p capture.bin | rfc6455 decode -
  rfc6455 decode --pcap examples/captures/socketio-upgrade.pcapng`,
  options: {
    from: { type: 'string' },
    deflate: { type: 'boolean' },
    'max-bytes': { type: 'string' },
    pcap: { type: 'string' },
    port: { type: 'string' },
    json: { type: 'boolean' },
    'max-message-size': { type: 'string' },
  },
  async run(values, positionals) {
    if (values.pcap !== undefined) return decodePcap(values, positionals);
    for (const name of ['port', 'json', 'max-message-size'] as const)
      if (values[name] !== undefined) throw new CliUsageError(`--${name} goes with --pcap`);
    const bytes = await readInput(positionals);
    const from = values.from === undefined ? detectSide(bytes) : checkSide(values.from);
    const maxBytes = values['max-bytes'] === undefined ? 64 : Number(values['max-bytes']);
    if (!Number.isInteger(maxBytes) || maxBytes < 0)
      throw new CliUsageError(`--max-bytes must be a whole number, got "${values['max-bytes']}"`);
    const style = styleFor(process.stdout);
    const dissector = new StreamDissector({ from: from.side, deflate: values.deflate === true ? {} : null });
    const records = [...dissector.push(bytes), ...dissector.end()];
    const out: string[] = [style.dim(`${bytes.length} bytes from the ${from.side} (${from.why})`)];
    // On a terminal the decoded strings (heads, close reasons, text) are escaped: they are whoever sent the bytes'.
    const peer = process.stdout.isTTY === true ? escapeControls : (text: string) => text;
    for (const record of records) out.push(...formatPeerRecord(record, { style, maxBytes }, peer));
    const failed = records.some((r) => r.kind === 'error');
    if (!failed) out.push(style.green(`✓ all ${bytes.length} bytes decoded`));
    process.stdout.write(`${out.join('\n')}\n`);
    return failed ? Exit.Failure : Exit.Ok;
  },
});

async function decodePcap(
  values: {
    pcap?: string;
    port?: string;
    json?: boolean;
    deflate?: boolean;
    from?: string;
    'max-bytes'?: string;
    'max-message-size'?: string;
  },
  positionals: string[],
): Promise<number> {
  if (positionals.length > 0) throw new CliUsageError('--pcap reads the file it names; give no hex with it');
  if (values.from !== undefined)
    throw new CliUsageError('--from does not apply to captures: each side is known from the connection');
  const maxBytes = wholeNumber(values['max-bytes'], '--max-bytes') ?? 64;
  const maxMessageSize = wholeNumber(values['max-message-size'], '--max-message-size');
  return decodeCapture({
    file: values.pcap as string,
    json: values.json === true,
    port: values.port === undefined ? undefined : parsePort(values.port, 0),
    deflate: values.deflate === true,
    maxBytes,
    maxMessageSize,
  });
}

function wholeNumber(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n))
    throw new CliUsageError(`${name} must be a whole number, got "${text}"`);
  return n;
}

async function readInput(positionals: string[]): Promise<Uint8Array> {
  if (positionals.length === 0) throw new CliUsageError('give the bytes in hex, or - to read stdin');
  if (positionals.length === 1 && positionals[0] === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const text = raw.toString('latin1');
    // Hex text (xxd -p, a paste) is the common case; anything else is taken as the bytes themselves.
    if (/^[\s0-9a-fA-FxX,:;]*$/.test(text)) return hexOrThrow(text);
    return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  }
  return hexOrThrow(positionals.join(' '));
}

function hexOrThrow(text: string): Uint8Array {
  const parsed = parseHex(text);
  if (!parsed.ok) throw new CliUsageError(`invalid hex at character ${parsed.position + 1}: ${parsed.reason}`);
  if (parsed.bytes.length === 0) throw new CliUsageError('no bytes to decode');
  return parsed.bytes;
}

function checkSide(text: string): SideGuess {
  if (text !== 'client' && text !== 'server') throw new CliUsageError(`--from must be client or server, got "${text}"`);
  return { side: text, why: '--from' };
}
