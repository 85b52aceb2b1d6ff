/**
 * Text a peer chose, made safe to print on a terminal. A terminal obeys
 * control characters in what it is given: ESC sequences (`ESC ] 0 ; … BEL`
 * sets the window title, `ESC [ 2 J` clears the screen, others move the
 * cursor, recolour, or on some terminals write files or answer back into
 * the input), their single-character C1 forms (U+009B is CSI), and
 * carriage returns and backspaces that overwrite what was printed. So every
 * control character is written as a visible escape instead:
 *
 * - C0 (U+0000–U+001F) except TAB, including ESC (`\x1b`), BEL (`\x07`),
 *   CR (`\r`) and LF (`\n`): a message prints as one line, so a peer
 *   cannot make text look like a line of the tool's own;
 * - DEL (U+007F) and C1 (U+0080–U+009F);
 * - the bidirectional formatting characters (U+202A–U+202E,
 *   U+2066–U+2069), which reorder how the rest of a line reads.
 *
 * TAB is kept: it only moves to the next tab stop. Backslashes are not
 * doubled, so the escapes are for reading, not for decoding back.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are escaped before reaching a terminal.
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = {
  '\n': '\\n',
  '\r': '\\r',
};

export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
