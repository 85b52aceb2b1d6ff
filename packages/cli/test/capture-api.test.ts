// The capture reader as a library (the package's public exports), on the
// example capture the repository ships: a Socket.IO client and server that
// met over long-polling and upgraded to a WebSocket, made by
// scripts/make-example-capture.mjs.
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CaptureRecord, dissectCapture } from '../src/index.js';

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
