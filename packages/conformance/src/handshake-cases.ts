/**
 * The opening handshake against a server (RFC 6455 §4.2): valid upgrade
 * requests in many spellings must get a 101 that is right in every field;
 * defective ones the status §4.2.1–§4.2.2 names (400, or 426 with
 * `Sec-WebSocket-Version: 13`); oversized heads must be refused.
 *
 * What passes:
 * - valid: `101`, `Upgrade: websocket`, a `Connection` with the `upgrade`
 *   token, the right `Sec-WebSocket-Accept`, no extension (none was offered),
 *   `Sec-WebSocket-Protocol` absent or exactly one of the offered ones; then
 *   our close 1000 is answered with a close frame.
 * - invalid: a response with the expected status (426 must carry
 *   `Sec-WebSocket-Version` listing 13); closing TCP without a response fails
 *   (§4.2.1: the server "MUST ... return an HTTP response").
 * - oversized (a head over 64 KiB: one header of 65–128 KiB, or 3000–5000
 *   header lines): 431 or 400, or TCP closed without a response; a 101 or any
 *   other status fails. Smaller big heads are left to the server's policy
 *   (Node's HTTP parser takes 16 KiB; it keeps only the first 2000 header lines
 *   and ignores the rest, so a count alone is not a test).
 */
import { createHash } from 'node:crypto';
import { invalidUpgradeRequest, upgradeRequest } from '@rfc6455/codec/testing';
import fc from 'fast-check';
import { dial } from './dial.js';
import type { Verdict } from './judge.js';
import type { Target } from './session.js';
import { closeCodeOf, FrameReader, Op } from './wire.js';

export type HandshakeExpectation =
  | { readonly kind: 'accept'; readonly key: string; readonly protocols: readonly string[] }
  | { readonly kind: 'reject'; readonly status: 400 | 426 }
  | { readonly kind: 'too-large' };

export interface HandshakeCase {
  /** `handshake/valid`, `handshake/subprotocols`, `handshake/trailing-htab`, `handshake/oversized`, or `handshake/invalid/<defect>`. */
  readonly variant: string;
  readonly description: string;
  /** The request head for a target (its Host line is the target's). */
  readonly request: (target: Target) => Uint8Array;
  readonly expect: HandshakeExpectation;
}

const latin1 = new TextDecoder('latin1');
const encoder = new TextEncoder();
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

type Casing = 'as-is' | 'lower' | 'upper' | 'mixed';
function cased(name: string, casing: Casing): string {
  if (casing === 'lower') return name.toLowerCase();
  if (casing === 'upper') return name.toUpperCase();
  if (casing === 'mixed')
    return Array.from(name, (ch, i) => (i % 2 === 0 ? ch.toLowerCase() : ch.toUpperCase())).join('');
  return name;
}

function hostOf(t: Target): string {
  return `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/** Header lines of a generated request, the Host line pointed at the target. */
function linesOf(bytes: Uint8Array, target: Target): string[] {
  return latin1
    .decode(bytes)
    .split('\r\n')
    .slice(0, -2)
    .map((l) => (l.startsWith('Host:') ? `Host: ${hostOf(target)}` : l));
}

function head(lines: readonly string[]): Uint8Array {
  return encoder.encode(`${lines.join('\r\n')}\r\n\r\n`);
}

/** Valid requests: the codec's arbitrary, re-spelled (header-name casing, Connection token lists, whitespace, order, extra headers). */
function valid(): fc.Arbitrary<HandshakeCase> {
  return fc
    .record({
      req: upgradeRequest(),
      casing: fc.constantFrom<Casing>('as-is', 'lower', 'upper', 'mixed'),
      connection: fc.constantFrom(
        'Upgrade',
        'upgrade',
        'UPGRADE',
        'keep-alive, Upgrade',
        'Upgrade, keep-alive',
        'keep-alive,upgrade',
        'keep-alive ,  Upgrade',
      ),
      spaceBefore: fc.constantFrom('', ' ', '  ', '\t'),
      spaceAfter: fc.constantFrom('', ' '),
      // A trailing HTAB is OWS too (RFC 7230 §3.2); its own variant, as some HTTP parsers miss it.
      htab: fc.boolean(),
      reversed: fc.boolean(),
      extra: fc.subarray([
        'Origin: http://example.com',
        'User-Agent: rfc6455-conformance',
        'Cache-Control: no-cache',
        'Pragma: no-cache',
        'Accept-Encoding: gzip, deflate',
      ]),
    })
    .map(({ req, casing, connection, spaceBefore, spaceAfter: after, htab, reversed, extra }): HandshakeCase => {
      const spaceAfter = htab ? '\t' : after;
      const description = `path ${req.path}, header names ${casing}, Connection "${connection}", OWS "${JSON.stringify(spaceBefore)}"/"${JSON.stringify(spaceAfter)}"${reversed ? ', headers in reverse order' : ''}${extra.length > 0 ? `, +${extra.length} other header(s)` : ''}${req.protocols.length > 0 ? `, subprotocols ${req.protocols.join(', ')}` : ''}`;
      return {
        variant: htab
          ? 'handshake/trailing-htab'
          : req.protocols.length > 0
            ? 'handshake/subprotocols'
            : 'handshake/valid',
        description,
        request: (target) => {
          const [requestLine, ...headers] = linesOf(req.bytes, target);
          const respelled = [...headers, ...extra].map((l) => {
            const colon = l.indexOf(':');
            const name = l.slice(0, colon);
            const value = name === 'Connection' ? connection : l.slice(colon + 1).trim();
            return `${cased(name, casing)}:${spaceBefore}${value}${spaceAfter}`;
          });
          return head([requestLine as string, ...(reversed ? respelled.reverse() : respelled)]);
        },
        expect: { kind: 'accept', key: req.key, protocols: req.protocols },
      };
    });
}

/** `a 15-byte key` → `a-15-byte-key`. */
export function defectSlug(description: string): string {
  return description
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function invalid(): fc.Arbitrary<HandshakeCase> {
  return invalidUpgradeRequest().map((r) => ({
    variant: `handshake/invalid/${defectSlug(r.description)}`,
    description: r.description,
    request: (target) => head(linesOf(r.bytes, target)),
    expect: { kind: 'reject', status: r.expectedStatus },
  }));
}

function oversized(): fc.Arbitrary<HandshakeCase> {
  return fc
    .tuple(
      upgradeRequest(),
      fc.oneof(
        fc.integer({ min: 65 * 1024, max: 128 * 1024 }).map((n) => ({ big: n })),
        fc.integer({ min: 3000, max: 5000 }).map((n) => ({ lines: n })),
      ),
    )
    .map(
      ([req, size]): HandshakeCase => ({
        variant: 'handshake/oversized',
        description: 'big' in size ? `one ${size.big}-byte header value` : `${size.lines} extra header lines`,
        request: (target) => {
          const lines = linesOf(req.bytes, target);
          const extra =
            'big' in size
              ? [`X-Padding: ${'a'.repeat(size.big)}`]
              : Array.from({ length: size.lines }, (_, i) => `X-Header-${i}: ${'v'.repeat(16)}`);
          return head([...lines, ...extra]);
        },
        expect: { kind: 'too-large' },
      }),
    );
}

/** Every variant, e.g. to run one alone by skipping the others. */
const HANDSHAKE_DEFECTS: readonly string[] = fc
  .sample(invalidUpgradeRequest(), { numRuns: 400, seed: 1 })
  .reduce<string[]>((all, r) => {
    const slug = defectSlug(r.description);
    if (!all.includes(slug)) all.push(slug);
    return all;
  }, [])
  .sort();
export const HANDSHAKE_VARIANTS: readonly string[] = [
  'handshake/valid',
  'handshake/subprotocols',
  'handshake/trailing-htab',
  'handshake/oversized',
  ...HANDSHAKE_DEFECTS.map((d) => `handshake/invalid/${d}`),
];

export function handshakeCases(): fc.Arbitrary<HandshakeCase> {
  return fc.oneof(
    { weight: 3, arbitrary: valid() },
    { weight: 3, arbitrary: invalid() },
    { weight: 1, arbitrary: oversized() },
  );
}

/** A response head as read off the wire: status and headers (names lower-cased, repeated ones joined with ", "). */
export interface ResponseHead {
  readonly status: number;
  readonly statusLine: string;
  readonly headers: Readonly<Record<string, string>>;
}

function parseHead(text: string): ResponseHead | string {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (!m) return `a malformed status line ${JSON.stringify(statusLine.slice(0, 80))}`;
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const colon = l.indexOf(':');
    if (colon <= 0) return `a malformed header line ${JSON.stringify(l.slice(0, 80))}`;
    const name = l.slice(0, colon).trim().toLowerCase();
    const value = l.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(m[1]), statusLine, headers };
}

const tokens = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');

/** Runs one handshake case on a connection of its own (TCP, or TLS for a wss:// target) and judges it; never rejects. */
export async function runHandshakeCase(
  target: Target,
  c: HandshakeCase,
  split: (b: Uint8Array) => Uint8Array[],
  timeout: number,
  strict = false,
): Promise<Verdict> {
  const dialed = await dial(target, timeout, 'http/1.1');
  if (dialed.type === 'failed') return { status: 'fail', reason: dialed.reason };
  const socket = dialed.socket;
  let buffered = new Uint8Array(0);
  let response: ResponseHead | string | undefined;
  let after = new Uint8Array(0);
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  socket.on('data', (chunk: Buffer) => {
    const joined = new Uint8Array(buffered.length + chunk.length);
    joined.set(buffered);
    joined.set(chunk, buffered.length);
    if (response === undefined) {
      const text = latin1.decode(joined);
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        buffered = joined;
        if (joined.length > 64 * 1024) response = 'a response head over 64 KiB';
      } else {
        response = parseHead(text.slice(0, end));
        after = joined.subarray(end + 4);
        buffered = new Uint8Array(0);
      }
    } else after = joined.length > 0 ? new Uint8Array([...after, ...new Uint8Array(chunk)]) : after;
    notify();
  });
  const gone = () => {
    closed = true;
    notify();
  };
  socket.on('end', gone);
  socket.on('close', gone);
  // A server that refuses a big head may reset while we still write: that is closing, not a crash.
  socket.on('error', gone);
  const waitFor = async (cond: () => boolean, ms: number) => {
    const until = Date.now() + ms;
    while (!cond() && Date.now() < until) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.max(1, until - Date.now()));
      });
      clearTimeout(timer);
    }
    return cond();
  };
  try {
    const bytes = c.request(target);
    const chunks = split(bytes);
    for (const [i, chunk] of (chunks.length > 64 ? [bytes] : chunks).entries()) {
      if (closed) break;
      socket.write(chunk);
      if (i === 0) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => response !== undefined || closed, timeout);
    if (typeof response === 'string') return { status: 'fail', reason: `the server sent ${response}` };
    const e = c.expect;
    if (e.kind === 'too-large') {
      if (response === undefined)
        return closed
          ? { status: 'pass', note: 'closed without a response' }
          : { status: 'fail', reason: `no response and no close within ${timeout} ms` };
      if (response.status === 431 || response.status === 400) return { status: 'pass', note: String(response.status) };
      return {
        status: 'fail',
        reason: `answered ${response.statusLine}, expected 431 or 400 (or closing the connection)`,
      };
    }
    if (response === undefined)
      return {
        status: 'fail',
        reason: closed ? 'closed TCP without an HTTP response' : `no response within ${timeout} ms`,
      };
    if (e.kind === 'reject') {
      const wanted = `${e.status}${e.status === 426 ? ' with Sec-WebSocket-Version: 13' : ''}`;
      if (response.status === 101)
        return { status: 'fail', reason: `accepted (101) a request that must be refused with ${wanted}` };
      const versionHeader = response.headers['sec-websocket-version'];
      if (e.status === 426 && !tokens(versionHeader).includes('13'))
        return {
          status: 'fail',
          reason: `answered ${response.status} without Sec-WebSocket-Version: 13 (got ${versionHeader ?? 'none'}), expected ${wanted}`,
        };
      if (response.status === e.status) return { status: 'pass' };
      if (strict || response.status < 400 || response.status > 499)
        return { status: 'fail', reason: `${strict ? 'strict: ' : ''}answered ${response.status}, expected ${wanted}` };
      return {
        status: 'pass',
        note: `${response.status}${versionHeader === undefined ? '' : ` (Sec-WebSocket-Version: ${versionHeader})`} instead of ${e.status}`,
      };
    }
    if (response.status !== 101)
      return { status: 'fail', reason: `answered ${response.statusLine} to a valid upgrade request` };
    const h = response.headers;
    if (h.upgrade?.toLowerCase() !== 'websocket')
      return { status: 'fail', reason: `101 with Upgrade: ${h.upgrade ?? '(none)'}` };
    if (!tokens(h.connection).includes('upgrade'))
      return { status: 'fail', reason: `101 with Connection: ${h.connection ?? '(none)'}` };
    const accept = createHash('sha1')
      .update(e.key + GUID)
      .digest('base64');
    if (h['sec-websocket-accept'] !== accept)
      return {
        status: 'fail',
        reason: `Sec-WebSocket-Accept ${h['sec-websocket-accept'] ?? '(none)'}, expected ${accept}`,
      };
    if (h['sec-websocket-extensions'] !== undefined)
      return {
        status: 'fail',
        reason: `Sec-WebSocket-Extensions: ${h['sec-websocket-extensions']} when none was offered`,
      };
    const chosen = h['sec-websocket-protocol'];
    if (chosen !== undefined && !e.protocols.includes(chosen))
      return {
        status: 'fail',
        reason: `Sec-WebSocket-Protocol: ${chosen}, not one of those offered (${e.protocols.join(', ') || 'none'})`,
      };
    // The connection works: our close 1000 is answered with a close frame.
    socket.write(Uint8Array.of(0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8));
    const reader = new FrameReader();
    let closeCode: number | undefined | null = null;
    await waitFor(() => {
      for (const f of reader.push(after)) if (f.opcode === Op.Close) closeCode = closeCodeOf(f.payload);
      after = new Uint8Array(0);
      return closeCode !== null || closed;
    }, timeout);
    if (closeCode === null)
      return { status: 'fail', reason: 'the connection opened but our close 1000 got no close frame back' };
    return {
      status: 'pass',
      note:
        chosen === undefined ? (e.protocols.length > 0 ? 'no subprotocol chosen' : undefined) : 'a subprotocol chosen',
    };
  } finally {
    socket.destroy();
  }
}
