/**
 * Loopback captures for the capture-reader tests, and tshark's reading of
 * them, the oracle our dissection is compared with field by field.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { run } from './helpers.js';

const execFileP = promisify(execFile);

const DUMPCAP = '/usr/bin/dumpcap';
const TSHARK = '/usr/bin/tshark';

export interface LoopbackCapture {
  /** Stops capturing once every packet sent so far is in the file. */
  stop(): Promise<void>;
}

/**
 * Whether this machine can capture on `lo`: a reason to skip when it cannot.
 * On CI the tests never skip: there a missing capture ability is a failure.
 */
async function captureUnavailable(): Promise<string | null> {
  if (!existsSync(DUMPCAP) || !existsSync(TSHARK))
    return `${DUMPCAP} or ${TSHARK} is missing (node scripts/ensure-debian-packages.mjs tshark installs them)`;
  const probe = await execFileP(DUMPCAP, ['-D'], { timeout: 10_000 }).then(
    (r) => r.stdout,
    (error: { stderr?: string; message: string }) => `ERROR ${error.stderr ?? error.message}`,
  );
  if (!/\blo\b/.test(probe)) return `dumpcap cannot list the loopback interface here: ${probe.trim().slice(0, 300)}`;
  return null;
}

/** Fails on CI, where capturing must work; elsewhere returns the reason to skip. */
export async function skipReason(): Promise<string | null> {
  const reason = await captureUnavailable();
  if (reason !== null && process.env.CI) throw new Error(`capturing on lo must work on CI: ${reason}`);
  return reason;
}

/** dumpcap stopped before capturing: no permission to capture on lo, typically. */
class CaptureRefused extends Error {
  override readonly name = 'CaptureRefused';
}

/**
 * Starts a capture, or returns why this machine cannot capture (never on
 * CI: there the refusal is thrown, and the test fails).
 */
export async function captureOrSkip(port: number, file: string): Promise<LoopbackCapture | string> {
  try {
    return await startCapture(port, file);
  } catch (error) {
    if (error instanceof CaptureRefused && !process.env.CI) return error.message;
    throw error;
  }
}

/**
 * Captures `tcp port <port>` on lo into `file`. dumpcap says "Capturing on"
 * before its filter is live, so the capture counts as started only once a
 * marker connection to a second port (also in the filter, ignored by the
 * tests) shows up in its packet count.
 */
async function startCapture(port: number, file: string): Promise<LoopbackCapture> {
  const marker = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => marker.listen(0, '127.0.0.1', resolve));
  const markerPort = (marker.address() as net.AddressInfo).port;
  const child = spawn(DUMPCAP, ['-i', 'lo', '-f', `tcp port ${port} or tcp port ${markerPort}`, '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let exited = false;
  const counts: number[] = [];
  const waiters: (() => void)[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const m of d.toString().matchAll(/Packets: (\d+)/g)) counts.push(Number(m[1]));
    for (const w of waiters.splice(0)) w();
  });
  child.on('exit', () => {
    exited = true;
    for (const w of waiters.splice(0)) w();
  });
  const next = () => new Promise<void>((resolve) => waiters.push(resolve));
  const poke = () =>
    new Promise<void>((resolve) => {
      const socket = net.connect(markerPort, '127.0.0.1');
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
  while (!/Capturing on/.test(stderr)) {
    if (exited) {
      marker.close();
      throw new CaptureRefused(`dumpcap could not capture on lo: ${firstLines(stderr)}`);
    }
    await next();
  }
  // Marker connections until dumpcap reports packets: from then on, the filter is live.
  const seen = () => (counts.length === 0 ? 0 : (counts[counts.length - 1] as number));
  while (seen() === 0) {
    // Without the right to capture, dumpcap says "Capturing on" and then gives up.
    if (exited) {
      marker.close();
      throw new CaptureRefused(`dumpcap could not capture on lo: ${firstLines(stderr)}`);
    }
    await poke();
    await Promise.race([next(), new Promise((r) => setTimeout(r, 100))]);
  }
  return {
    async stop() {
      // A marker after the traffic: once the count passes it, the traffic before it is written.
      const before = seen();
      await poke();
      while (seen() <= before && !exited) await next();
      await stopProcess(child);
      marker.close();
    },
  };
}

/** The gist of dumpcap's complaint (it goes on for a page about permissions). */
function firstLines(text: string): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^Capturing on/.test(line))
    .slice(0, 2)
    .join(' ');
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** One WebSocket frame as tshark's `websocket` dissector reads it. */
export interface OracleFrame {
  readonly packet: number;
  readonly srcPort: number;
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payloadLength: number;
  readonly maskKey: string | null;
  /** Unmasked payload in hex (tshark's `websocket.payload` bytes: still compressed for a compressed frame). */
  readonly payload: string | null;
  /** The text tshark inflated from a compressed text frame; null otherwise. */
  readonly inflatedText?: string | null;
}

type Layer = Record<string, unknown>;

/** Every WebSocket frame tshark finds, with HTTP decoded on `port` so it sees the upgrade (and its extensions). */
export async function tsharkFrames(file: string, port: number): Promise<OracleFrame[]> {
  const { stdout } = await execFileP(
    TSHARK,
    [
      '-r',
      file,
      '-d',
      `tcp.port==${port},http`,
      '-Y',
      'websocket',
      '-T',
      'json',
      '--no-duplicate-keys',
      '-x',
      '-J',
      'websocket tcp frame',
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const packets = JSON.parse(stdout) as { _source: { layers: Layer } }[];
  const frames: OracleFrame[] = [];
  for (const p of packets) {
    const layers = p._source.layers;
    const number = Number((layers.frame as Layer)['frame.number']);
    const srcPort = Number((layers.tcp as Layer)['tcp.srcport']);
    const ws = layers.websocket;
    for (const w of (Array.isArray(ws) ? ws : [ws]) as Layer[]) {
      const base = Number(w['websocket.payload_length']);
      const length =
        base === 126
          ? Number(w['websocket.payload_length_ext_16'])
          : base === 127
            ? Number(w['websocket.payload_length_ext_64'])
            : base;
      const raw = w['websocket.payload_raw'] as unknown[] | undefined;
      frames.push({
        packet: number,
        srcPort,
        fin: w['websocket.fin'] === '1',
        rsv: Number(w['websocket.rsv']),
        opcode: Number(w['websocket.opcode']),
        masked: w['websocket.mask'] === '1',
        payloadLength: length,
        maskKey:
          typeof w['websocket.masking_key'] === 'string'
            ? (w['websocket.masking_key'] as string).replaceAll(':', '')
            : null,
        // An empty payload has no bytes for tshark to show.
        payload: raw === undefined ? (length === 0 ? '' : null) : String(raw[0]),
        inflatedText:
          Number(w['websocket.rsv']) & 4 && w['websocket.opcode'] === '1'
            ? (((w['websocket.payload'] as Layer | undefined)?.['websocket.payload.text'] as string | undefined) ??
              null)
            : null,
      });
    }
  }
  return frames;
}

export interface JsonRecord {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** `rfc6455 decode --pcap FILE --json`, parsed. */
export async function decodeJson(
  file: string,
  ...args: string[]
): Promise<{ code: number | null; records: JsonRecord[]; stderr: string }> {
  const result = await run(['decode', '--pcap', file, '--json', ...args], { timeout: 60_000 });
  const records = result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as JsonRecord);
  return { code: result.code, records, stderr: result.stderr };
}

/** Our frames in the oracle's shape: client frames carry the client's port. */
export function ourFrames(records: readonly JsonRecord[]): OracleFrame[] {
  const ports = new Map<number, { client: number; server: number }>();
  const frames: OracleFrame[] = [];
  for (const r of records) {
    if (r.type === 'connection') {
      const port = (text: unknown) => Number(String(text).slice(String(text).lastIndexOf(':') + 1));
      ports.set(r.conn as number, { client: port(r.client), server: port(r.server) });
    }
    if (r.type !== 'websocket') continue;
    const f = r.record as Layer;
    if (f.kind !== 'frame') continue;
    const conn = ports.get(r.conn as number) as { client: number; server: number };
    frames.push({
      packet: r.packet as number,
      srcPort: r.from === 'client' ? conn.client : conn.server,
      fin: f.fin as boolean,
      rsv: (f.rsv1 ? 4 : 0) | (f.rsv2 ? 2 : 0) | (f.rsv3 ? 1 : 0),
      opcode: f.opcode as number,
      masked: f.masked as boolean,
      payloadLength: f.payloadLength as number,
      maskKey: f.maskKey === null ? null : (f.maskKey as { hex: string }).hex,
      payload: (f.payload as { hex: string }).hex,
    });
  }
  return frames;
}

/** One line per frame, the payload as its length and SHA-256, so a difference reads in a diff. */
export function frameLine(f: OracleFrame): string {
  const payload =
    f.payload === null
      ? 'payload not compared'
      : `sha256 ${createHash('sha256').update(f.payload, 'hex').digest('hex').slice(0, 16)}`;
  return `#${f.packet} from port ${f.srcPort} FIN=${f.fin ? 1 : 0} RSV=${f.rsv} opcode=${f.opcode} MASK=${f.masked ? 1 : 0} len=${f.payloadLength} key=${f.maskKey ?? '-'} ${payload}`;
}
