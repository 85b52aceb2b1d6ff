// `rfc6455 decode` as a process: the RFC 6455 §5.7 examples, handshake heads,
// permessage-deflate, and input that is invalid in each way the help promises.
import { describe, expect, test } from 'vitest';
import { run } from './helpers.js';

describe('rfc6455 decode', () => {
  test('a masked text frame from a client (RFC 6455 §5.7)', async () => {
    const r = await run(['decode', '81 85 37 fa 21 3d 7f 9f 4d 51 58']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('11 bytes from the client (first frame is masked)');
    expect(r.stdout).toContain(
      'frame @0: TEXT opcode=0x1 FIN=1 RSV1=0 RSV2=0 RSV3=0 MASK=1 len=5 (7-bit) key=37 fa 21 3d',
    );
    expect(r.stdout).toContain('⇒ text message (5 bytes, 1 frame): "Hello"');
    expect(r.stdout).toContain('✓ all 11 bytes decoded');
    expect(r.stdout).not.toContain('\x1b['); // no colours when not a TTY
  });

  test('a fragmented message, a ping and 16-bit and 64-bit lengths from a server', async () => {
    const b256 = `82 7e 01 00 ${'aa '.repeat(256)}`;
    const b64k = `82 7f 00 00 00 00 00 01 00 00 ${'00 '.repeat(65536)}`;
    // Too long for a command line: hex text on stdin, as `xxd -p | rfc6455 decode -` gives it.
    const r = await run(['decode', '-'], { input: `01 03 48 65 6c 89 05 48 65 6c 6c 6f 80 02 6c 6f ${b256} ${b64k}` });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('from the server (first frame is unmasked)');
    expect(r.stdout).toContain('PING opcode=0x9 FIN=1');
    expect(r.stdout).toContain('⇒ text message (5 bytes, 2 frames): "Hello"');
    expect(r.stdout).toContain('len=256 (16-bit)');
    expect(r.stdout).toContain('len=65536 (64-bit)');
    expect(r.stdout).toContain('… (+65472 bytes)');
  });

  test('a close frame shows its code and meaning', async () => {
    const r = await run(['decode', '88 05 03 e9 62 79 65']);
    expect(r.stdout).toContain('close 1001 Going Away "bye"');
  });

  test('an upgrade request head then frames, from stdin as raw bytes', async () => {
    const head =
      'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const input = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from('818537fa213d7f9f4d5158', 'hex')]);
    const r = await run(['decode', '-'], { input });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('starts with an HTTP request');
    expect(r.stdout).toContain('Sec-WebSocket-Accept expected: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(r.stdout).toContain('frame @161: TEXT');
  });

  test('a response head turns on permessage-deflate for the frames after it (RFC 7692 §7.2.3.1)', async () => {
    const head =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n';
    const hex = `${Buffer.from(head, 'latin1').toString('hex')} c1 07 f2 48 cd c9 c9 07 00`;
    const r = await run(['decode', hex]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('permessage-deflate agreed');
    expect(r.stdout).toContain('compressed');
    expect(r.stdout).toContain('⇒ text message (5 bytes, inflated from 7, 1 frame): "Hello"');
  });

  test('a refused upgrade shows the status and body', async () => {
    const r = await run([
      'decode',
      Buffer.from('HTTP/1.1 403 Forbidden\r\nContent-Length: 12\r\n\r\nlog in first', 'latin1').toString('hex'),
    ]);
    expect(r.stdout).toContain('HTTP/1.1 403 Forbidden');
    expect(r.stdout).toContain('HTTP body (12 bytes)');
    expect(r.stdout).toContain('"log in first"');
  });

  test('--deflate inflates, and without it RSV1 is a protocol error with a hint', async () => {
    expect((await run(['decode', '--deflate', 'c1 07 f2 48 cd c9 c9 07 00'])).stdout).toContain('"Hello"');
    const r = await run(['decode', 'c1 07 f2 48 cd c9 c9 07 00']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ decoding stopped at byte 0: 1002 RSV1 set without a negotiated extension (pass --deflate',
    );
  });

  test('protocol errors stop decoding where the codec does, with its close code', async () => {
    // an unmasked frame said to come from a client
    let r = await run(['decode', '--from', 'client', '81 02 68 69']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/stopped at byte 0: 1002 .*mask/i);
    // invalid UTF-8 in a text message, after one good frame
    r = await run(['decode', '81 02 68 69 81 02 c3 28']);
    expect(r.stdout).toMatch(/stopped at byte 4: 1007/);
    // a reserved opcode
    r = await run(['decode', '83 00']);
    expect(r.stdout).toContain('stopped at byte 0: 1002 reserved opcode 0x3');
  });

  test('truncated input says how much of the frame was there', async () => {
    let r = await run(['decode', '81 85 37 fa']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('input ended inside a frame header: 4 of 6 header bytes');
    r = await run(['decode', '81 05 48 65']);
    expect(r.stdout).toContain('input ended inside a frame: 4 of 7 bytes (header 2, payload 5)');
  });

  test('bad input and bad usage exit 2 with a reason', async () => {
    let r = await run(['decode', '81 8']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid hex at character 4: odd number of hex digits');
    r = await run(['decode', '81 zz']);
    expect(r.stderr).toContain('"z" is not a hex digit');
    r = await run(['decode', '--from', 'proxy', '81 00']);
    expect(r.stderr).toContain('--from must be client or server');
    r = await run(['decode']);
    expect(r.code).toBe(2);
    r = await run(['decode', '--bogus', '00']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('see rfc6455 decode --help');
  });
});

describe('rfc6455 --help', () => {
  test('every command has help', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['connect', 'serve', 'decode', 'demo']) {
      expect(top.stdout).toContain(command);
      const r = await run([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: rfc6455 ${command}`);
    }
    expect((await run(['frobnicate'])).code).toBe(2);
  });
});
