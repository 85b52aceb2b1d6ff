import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloseCode, closeCodeName, isValidWireCloseCode, Opcode, opcodeName } from '../src/index.js';

describe('close codes (RFC 6455 §7.4 and the IANA registry)', () => {
  it('allows exactly 1000–1003, 1007–1014 and 3000–4999 on the wire', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10, max: 70_000 }), (code) => {
        const expected =
          (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
        expect(isValidWireCloseCode(code)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('never allows the codes reserved for local reporting', () => {
    for (const code of [CloseCode.NoStatus, CloseCode.Abnormal, CloseCode.TlsHandshake, 1004])
      expect(isValidWireCloseCode(code)).toBe(false);
  });

  it('names every range for logs and tools', () => {
    expect(closeCodeName(1000)).toBe('Normal Closure');
    expect(closeCodeName(1006)).toBe('Abnormal Closure');
    expect(closeCodeName(1014)).toBe('Bad Gateway');
    expect(closeCodeName(3001)).toBe('Registered (3000–3999)');
    expect(closeCodeName(4321)).toBe('Private Use (4000–4999)');
    expect(closeCodeName(2000)).toBe('Reserved for the Protocol');
    expect(closeCodeName(999)).toBe('Invalid');
    expect(closeCodeName(5000)).toBe('Invalid');
  });
});

describe('opcodes', () => {
  it('names the six defined opcodes and marks the rest reserved', () => {
    expect(
      [Opcode.Continuation, Opcode.Text, Opcode.Binary, Opcode.Close, Opcode.Ping, Opcode.Pong].map(opcodeName),
    ).toEqual(['continuation', 'text', 'binary', 'close', 'ping', 'pong']);
    for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf])
      expect(opcodeName(op)).toBe(`reserved 0x${op.toString(16)}`);
  });
});
