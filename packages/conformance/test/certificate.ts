/**
 * A short-lived self-signed certificate for the TLS tests, its DER written
 * out here from RFC 5280 §4.1 with node:crypto's keys and signatures, so no
 * openssl binary is needed. Names: DNS `localhost`, IP 127.0.0.1.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** A DER element: tag, definite length (short or long form, X.690 §8.1.3), content. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const lengthBytes: number[] = [];
  if (n < 0x80) lengthBytes.push(n);
  else {
    const digits: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
    lengthBytes.push(0x80 | digits.length, ...digits);
  }
  return Buffer.concat([Buffer.from([tag, ...lengthBytes]), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;

/** An OBJECT IDENTIFIER: the first two arcs in one byte, the rest base 128 with continuation bits. */
function objectId(text: string): Buffer {
  const arcs = text.split('.').map(Number);
  const out = [(arcs[0] ?? 0) * 40 + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const septets = [arc % 128];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128))
      septets.unshift(0x80 | (rest % 128));
    out.push(...septets);
  }
  return der(0x06, Buffer.from(out));
}

/** UTCTime, YYMMDDHHMMSSZ: valid for the years 1950–2049 (RFC 5280 §4.1.2.5.1). */
function utcTime(at: Date): Buffer {
  const text = at
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .slice(2);
  return der(0x17, Buffer.from(text, 'ascii'));
}

export interface TestCertificate {
  /** PKCS #8 private key, PEM. */
  readonly key: string;
  /** The certificate, PEM: also the CA a client must trust. */
  readonly cert: string;
}

export function selfSignedCertificate(): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaWithSha256 = der(SEQUENCE, objectId('1.2.840.10045.4.3.2'));
  const commonName = der(SEQUENCE, der(SET, der(SEQUENCE, objectId('2.5.4.3'), der(0x0c, Buffer.from('localhost')))));
  // A positive serial: the top bit of its first byte clear.
  const serial = randomBytes(9);
  serial[0] = (serial[0] as number) & 0x7f;
  const now = Date.now();
  // subjectAltName: dNSName [2] and iPAddress [7], context-specific primitive tags.
  const altNames = der(SEQUENCE, der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1])));
  const toBeSigned = der(
    SEQUENCE,
    der(0xa0, der(0x02, Buffer.from([2]))), // [0] version: v3
    der(0x02, serial),
    ecdsaWithSha256,
    commonName, // issuer
    der(SEQUENCE, utcTime(new Date(now - 60 * 60_000)), utcTime(new Date(now + 24 * 60 * 60_000))),
    commonName, // subject
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, der(SEQUENCE, der(SEQUENCE, objectId('2.5.29.17'), der(0x04, altNames)))), // [3] extensions
  );
  const signature = sign('sha256', toBeSigned, privateKey);
  const certificate = der(SEQUENCE, toBeSigned, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  const base64 = certificate.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: `-----BEGIN CERTIFICATE-----\n${base64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
  };
}
