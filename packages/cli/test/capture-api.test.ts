// The capture reader as a library (the package's public exports), on the
// example capture the repository ships: a Socket.IO client and server that
// met over long-polling and upgraded to a WebSocket, made by
// scripts/make-example-capture.mjs.
import { createReadStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CaptureRecord, dissectCapture, StreamDissector } from '../src/index.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/captures/socketio-upgrade.pcapng', import.meta.url));

describe('dissectCapture from the package entry', () => {
  it('streams the example capture into records: the upgrade, the Socket.IO events and a clean summary', async () => {
    const records: CaptureRecord[] = [];
    for await (const record of dissectCapture(createReadStream(EXAMPLE, { highWaterMark: 4096 }))) records.push(record);
    expect(records[0]).toMatchObject({ type: 'capture', format: 'pcapng' });
    const events = records.flatMap((r) =>
      r.type === 'socket-io' && r.transport === 'websocket' && r.socket.type === 'event' ? [r.socket.data] : [],
    );
    expect(events).toContainEqual(['greet', 'capture']);
    const summary = records.at(-1);
    expect(summary).toMatchObject({ type: 'summary', websocketConnections: 1, violations: 0 });
  });
});

describe('bytes in Node Buffers', () => {
  it('dissect as the same bytes in plain Uint8Arrays do, and are left as they were', async () => {
    const file = readFileSync(EXAMPLE);
    const original = Uint8Array.from(file);
    const fromBuffers: CaptureRecord[] = [];
    for await (const r of dissectCapture([file])) fromBuffers.push(r);
    const fromPlain: CaptureRecord[] = [];
    for await (const r of dissectCapture([Uint8Array.from(file)])) fromPlain.push(r);
    expect(fromBuffers).toEqual(fromPlain);
    expect(Uint8Array.from(file)).toEqual(original);
  });

  it('a masked client frame in a Buffer is read once: the message is the text that was sent', () => {
    const dissector = new StreamDissector({ from: 'client' });
    // RFC 6455 §5.7: a single-frame masked text message, "Hello".
    const frame = Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    const records = dissector.push(frame);
    expect(records.filter((r) => r.kind === 'message')).toMatchObject([{ type: 'text', data: 'Hello' }]);
    expect([...frame]).toEqual([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  });
});
