/**
 * HTTP heads are written one byte per character (RFC 9110 §5.5), checked
 * against Node's own Latin-1 encoding as an oracle.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serializeMessage } from '../src/http-write.js';
import { encodeLatin1 } from '../src/latin1.js';

const RUNS = Number(process.env.FC_RUNS ?? 500);

const latin1Text = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)) });

describe('encodeLatin1', () => {
  it('writes each character up to U+00FF as the byte of its code', () => {
    fc.assert(
      fc.property(latin1Text, (text) => {
        expect(encodeLatin1(text)).toEqual(new Uint8Array(Buffer.from(text, 'latin1')));
      }),
      { numRuns: RUNS, examples: [[''], ['\u0000\u007f\u0080\u00ff'], ['caf\u00e9']] },
    );
  });
});

describe('serializeMessage', () => {
  it('writes an obs-text field value byte for byte, then the body', () => {
    const bytes = serializeMessage('HTTP/1.1 403 Forbidden', [['X-Note', 'caf\u00e9']], Uint8Array.of(1, 2));
    const head = 'HTTP/1.1 403 Forbidden\r\nX-Note: caf\u00e9\r\n\r\n';
    expect(bytes).toEqual(new Uint8Array([...Buffer.from(head, 'latin1'), 1, 2]));
  });
});
