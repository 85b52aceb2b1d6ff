/**
 * The TLS tests' certificate: a throwaway self-signed one (P-256 key,
 * ECDSA with SHA-256, valid from an hour ago for a day, CN and
 * subjectAltName `localhost` and 127.0.0.1), made with node:crypto alone.
 * Its DER is written here from RFC 5280 §4.1 so no test depends on a
 * command-line certificate tool the project never installs: a test that
 * skips where such a tool is missing proves nothing.
 *
 * Being self-signed it is also its own CA: a client given `cert` as its
 * trust anchor verifies it, one without fails with
 * DEPTH_ZERO_SELF_SIGNED_CERT, which the conformance tests rely on.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** A DER element: tag, definite length (short or long form, X.690 §8.1.3), content. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const length: number[] = [];
  for (let rest = body.length; rest > 0; rest = Math.floor(rest / 256)) length.unshift(rest % 256);
  const header = body.length < 0x80 ? [tag, body.length] : [tag, 0x80 | length.length, ...length];
  return Buffer.concat([Buffer.from(header), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;

/** An OBJECT IDENTIFIER: the first two arcs in one byte, the rest base 128 with continuation bits. */
function objectId(text: string): Buffer {
  const [first = 0, second = 0, ...rest] = text.split('.').map(Number);
  const out = [first * 40 + second];
  for (const arc of rest) {
    const septets = [arc % 128];
    for (let high = Math.floor(arc / 128); high > 0; high = Math.floor(high / 128))
      septets.unshift(0x80 | (high % 128));
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

/** `key`: PKCS #8, PEM; `cert`: the certificate, PEM, also the CA a client must trust. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaWithSha256 = der(SEQUENCE, objectId('1.2.840.10045.4.3.2'));
  const name = der(SEQUENCE, der(SET, der(SEQUENCE, objectId('2.5.4.3'), der(0x0c, Buffer.from('localhost')))));
  // A positive serial in minimal DER whatever the random bytes: a leading
  // 0x01 keeps the sign bit clear and is never padding, which OpenSSL
  // rejects ("illegal padding") when a random first byte happens to be 0.
  const serial = Buffer.concat([Buffer.from([0x01]), randomBytes(8)]);
  const now = Date.now();
  // subjectAltName: dNSName [2] and iPAddress [7], context-specific primitive tags.
  const altNames = der(SEQUENCE, der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1])));
  const toBeSigned = der(
    SEQUENCE,
    der(0xa0, der(0x02, Buffer.from([2]))), // [0] version: v3
    der(0x02, serial),
    ecdsaWithSha256,
    name, // issuer
    der(SEQUENCE, utcTime(new Date(now - 60 * 60_000)), utcTime(new Date(now + 24 * 60 * 60_000))),
    name, // subject
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, der(SEQUENCE, der(SEQUENCE, objectId('2.5.29.17'), der(0x04, altNames)))), // [3] extensions
  );
  const signature = sign('sha256', toBeSigned, privateKey); // ECDSA-Sig-Value, DER
  const certificate = der(SEQUENCE, toBeSigned, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  const lines = certificate.toString('base64').match(/.{1,64}/g) ?? [];
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`,
  };
}
