// `rfc6455 connect` prints what a server chose — messages, close reasons,
// headers, error bodies. On a terminal, control characters in them would be
// obeyed: a server could retitle the window, clear the screen, recolour the
// output or forge lines. There they are printed as visible escapes.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { escapeControls } from '../src/terminal-text.js';
import { CLI, run } from './helpers.js';

// C0 except TAB (LF included: a message is one line), DEL, C1, and the bidi formatting characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are escaped before reaching a terminal.
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// The same for a whole output, whose lines the tool itself separates with LF.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are escaped before reaching a terminal.
const UNSAFE_IN_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

// What a hostile server sent in the report: set the title, clear the screen, turn the text red.
const ATTACK = '\x1b]0;pwned\x07\x1b[2J\x1b[31m';
const MESSAGE = `${ATTACK}red\u009b1mbold\u202eevil\r\nfake line\x7f\tend`;
const MESSAGE_SHOWN = '\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred\\x9b1mbold\\u202eevil\\r\\nfake line\\x7f\tend';

const controlHeavy = fc.string({
  unit: fc.oneof(
    fc.constantFrom(...'\x00\x07\x08\t\n\r\x1b\x7f\u0080\u009b\u009c\u202a\u202e\u2066\u2069[]0;m'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
});

describe('escapeControls', () => {
  test('leaves no control character but TAB, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), controlHeavy), (text) => {
        expect(escapeControls(text)).not.toMatch(UNSAFE);
      }),
      { examples: [[ATTACK], [MESSAGE], ['\u009b2J'], ['\r\n\t'], ['\ud800\u001b']] },
    );
  });

  test('changes nothing in text without control characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        fc.pre(!UNSAFE.test(text));
        expect(escapeControls(text)).toBe(text);
      }),
      { examples: [['tab\there, emoji 🎉, accents é, backslash \\x1b as typed']] },
    );
  });

  test('keeps every character that is not a control, in order', () => {
    fc.assert(
      fc.property(controlHeavy, (text) => {
        const kept = [...text].filter((c) => !UNSAFE.test(c)).join('');
        const escaped = escapeControls(text);
        // Each control became a backslash escape of ASCII letters and digits; dropping those leaves the rest.
        expect(escaped.replace(/\\(x[0-9a-f]{2}|u[0-9a-f]{4}|n|r)/g, '')).toBe(
          kept.replace(/\\(x[0-9a-f]{2}|u[0-9a-f]{4}|n|r)/g, ''),
        );
      }),
    );
  });

  test('shows the escapes a reader can recognise', () => {
    expect(escapeControls(MESSAGE)).toBe(MESSAGE_SHOWN);
  });
});

describe('rfc6455 connect against a server sending escape sequences', () => {
  let wss: WebSocketServer;
  let url: string;

  beforeAll(async () => {
    wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      verifyClient: (info, done) => {
        if (info.req.url === '/refuse') done(false, 403, `${ATTACK}go away`);
        else done(true);
      },
    });
    // A header value with a C1 CSI and a bidi override (both allowed bytes in an HTTP field value).
    wss.on('headers', (headers) => headers.push('X-Evil: \u009b2J\u202eevil'));
    wss.on('connection', (ws) => {
      ws.send(MESSAGE);
      ws.close(4000, `${ATTACK}bye`);
    });
    await new Promise((r) => wss.on('listening', r));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => wss.close(() => r())));

  test('--escape (as on a terminal): nothing the server sent reaches the terminal as a control character', async () => {
    const r = await run(['connect', url, '--escape', '--trace']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(UNSAFE_IN_LINES);
    expect(r.stdout).toContain(`< ${MESSAGE_SHOWN}`);
    expect(r.stdout).toContain('disconnected: 4000 "\\u001b]0;pwned\\u0007\\u001b[2J\\u001b[31mbye"');
    // The trace: the header, the frame's text and the close reason.
    expect(r.stdout).toMatch(/X-Evil: .*\\x9b2J/);
    expect(r.stdout).toContain('text "\\u001b]0;pwned\\u0007\\u001b[2J\\u001b[31mred\\x9b1mbold\\u202eevil');
  });

  test('--escape: a refusal body is escaped too, its lines kept', async () => {
    const r = await run(['connect', `${url}refuse`, '--escape']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(UNSAFE_IN_LINES);
    expect(r.stderr).toContain(
      'the server refused the upgrade: 403 Forbidden\n\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mgo away',
    );
  });

  test('--raw, and output piped without either switch, pass the bytes on as sent', async () => {
    for (const args of [['--raw'], []]) {
      const r = await run(['connect', url, ...args]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`< ${MESSAGE}`);
    }
    expect((await run(['connect', url, '--raw', '--escape'])).code).toBe(2);
  });

  const script = (() => {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  // util-linux's script(1) runs the command on a real pseudo-terminal, as a person would.
  test.skipIf(!script)('on a real terminal, without switches, the output is escaped', async () => {
    const command = `'${process.execPath}' '${CLI}' connect '${url}' < /dev/null`;
    // Asynchronously: the server runs in this process.
    const { stdout: output } = await promisify(execFile)('script', ['-q', '-e', '-c', command, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 20_000,
    });
    // The terminal turns each LF into CR LF.
    const lines = output.replaceAll('\r\n', '\n');
    expect(lines).toContain(`< ${MESSAGE_SHOWN}`);
    expect(lines).not.toMatch(UNSAFE_IN_LINES);
  });
});
