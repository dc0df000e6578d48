/**
 * A throwaway certificate authority for the Graph simulator's HTTPS, made with node:crypto alone (no openssl binary, no
 * npm package): keys from generateKeyPairSync, certificates DER-encoded here after RFC 5280 and signed with crypto.sign.
 * The CA and the server certificate use P-256 keys (fast to make at every start); client certificates for app
 * registrations use RSA, because client assertions are RS256/PS256.
 */
import { X509Certificate, createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

// ---- DER -------------------------------------------------------------------------------------------------------------

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 + n, inner);
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bits = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const NULL = Buffer.from([0x05, 0x00]);

function integer(b: Buffer): Buffer {
  let v = b;
  while (v.length > 1 && v[0] === 0 && v[1] < 0x80) v = v.subarray(1);
  if (v[0] >= 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  const year = new Date(ms).getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  rsaSha256: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

function name(commonName: string, organization: string): Buffer {
  return seq(set(seq(oid(OID.organization), utf8(organization))), set(seq(oid(OID.commonName), utf8(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** keyUsage bits: digitalSignature(0), keyEncipherment(2), keyCertSign(5), cRLSign(6). */
function keyUsage(usages: number[]): Buffer {
  let v = 0;
  for (const u of usages) v |= 0x80 >> u;
  return tlv(0x03, Buffer.from([0x01, v])); // one unused bit is enough for bits 0..6
}

function sanEntries(hosts: string[]): Buffer {
  const entries = hosts.map((h) => {
    if (isIP(h) === 4) return tlv(0x87, Buffer.from(h.split('.').map(Number)));
    if (isIP(h) === 6) return tlv(0x87, ipv6Bytes(h));
    return tlv(0x82, Buffer.from(h, 'ascii'));
  });
  return seq(...entries);
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

// ---- certificates ----------------------------------------------------------------------------------------------------

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-1 and SHA-256 of the DER certificate, hex upper-case (as the Entra portal shows them). */
  thumbprintSha1: string;
  thumbprintSha256: string;
}

interface Signer {
  key: KeyObject;
  subject: Buffer;
  keyId: Buffer;
}

function algorithmFor(key: KeyObject): Buffer {
  return key.asymmetricKeyType === 'rsa' ? seq(oid(OID.rsaSha256), NULL) : seq(oid(OID.ecdsaSha256));
}

interface CertSpec {
  commonName: string;
  organization: string;
  publicKey: KeyObject;
  days: number;
  ca: boolean;
  hosts?: string[];
  extKeyUsage?: string[];
  issuer?: Signer;
  /** Self-signed: the private key of publicKey. */
  selfKey?: KeyObject;
}

function makeCertificate(spec: CertSpec): { der: Buffer; subject: Buffer; keyId: Buffer } {
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  const keyId = createHash('sha1').update(spki).digest();
  const subject = name(spec.commonName, spec.organization);
  const signer: Signer = spec.issuer ?? { key: spec.selfKey!, subject, keyId };
  const now = Date.now();
  const exts = [
    extension(OID.basicConstraints, true, spec.ca ? seq(bool(true)) : seq()),
    extension(OID.keyUsage, true, keyUsage(spec.ca ? [0, 5, 6] : [0, 2])),
    extension(OID.subjectKeyId, false, octets(keyId)),
    extension(OID.authorityKeyId, false, seq(tlv(0x80, signer.keyId))),
  ];
  if (spec.hosts?.length) exts.push(extension(OID.subjectAltName, false, sanEntries(spec.hosts)));
  if (spec.extKeyUsage?.length) exts.push(extension(OID.extKeyUsage, false, seq(...spec.extKeyUsage.map(oid))));
  const alg = algorithmFor(signer.key);
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(Buffer.concat([Buffer.from([0x10]), randomBytes(15)])),
    alg,
    signer.subject,
    seq(time(now - 3600_000), time(now + spec.days * 86_400_000)),
    subject,
    spki,
    explicit(3, seq(...exts)),
  );
  const signature = sign('sha256', tbs, signer.key);
  return { der: seq(tbs, alg, bits(signature)), subject, keyId };
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

function issued(der: Buffer, key: KeyObject): IssuedCertificate {
  return {
    certPem: pem(der),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

export interface TestCa {
  certPem: string;
  /** Issues a TLS server certificate for these host names / IP addresses. */
  issueServerCertificate(hosts: string[], days?: number): IssuedCertificate;
}

/** A fresh CA (P-256), valid for `days` (default 30). Nothing is written to disk. */
export function createTestCa(commonName = 'Graph Simulator Test CA (throwaway)', days = 30): TestCa {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ca = makeCertificate({ commonName, organization: 'Severa Calendar Sync tests', publicKey, selfKey: privateKey, days, ca: true });
  const signer: Signer = { key: privateKey, subject: ca.subject, keyId: ca.keyId };
  return {
    certPem: pem(ca.der),
    issueServerCertificate(hosts, serverDays = days) {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const cert = makeCertificate({
        commonName: hosts[0] ?? 'localhost',
        organization: 'Severa Calendar Sync tests',
        publicKey: pair.publicKey,
        days: serverDays,
        ca: false,
        hosts,
        extKeyUsage: [OID.serverAuth],
        issuer: signer,
      });
      return issued(cert.der, pair.privateKey);
    },
  };
}

/**
 * A self-signed RSA certificate such as an app registration's "Certificates & secrets" holds: the app signs client
 * assertions with keyPem, the tenant knows certPem (and so its thumbprints).
 */
export function createClientCertificate(commonName = 'severa-calendar-sync test app', days = 30, modulusLength = 2048): IssuedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const cert = makeCertificate({ commonName, organization: 'Severa Calendar Sync tests', publicKey, selfKey: privateKey, days, ca: false, extKeyUsage: [OID.clientAuth] });
  return issued(cert.der, privateKey);
}

/** Thumbprints and public key of a PEM certificate (for registering one given only as PEM). */
export function describeCertificate(certPem: string): { thumbprintSha1: string; thumbprintSha256: string; publicKey: KeyObject; notAfterMs: number } {
  const x = new X509Certificate(certPem);
  return {
    thumbprintSha1: createHash('sha1').update(x.raw).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(x.raw).digest('hex').toUpperCase(),
    publicKey: x.publicKey,
    notAfterMs: Date.parse(x.validTo),
  };
}
