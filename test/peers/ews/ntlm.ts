/**
 * The server side of NTLM (MS-NLMP) as IIS runs it for Exchange: Type 1 (negotiate) -> Type 2 (challenge with
 * target info) -> Type 3 (authenticate) verified with NTLMv2. Node's crypto has no MD4 (OpenSSL 3 legacy), hence js-md4.
 *
 * NTLMv1 and NTLM2-session responses need DES, which Node 24's OpenSSL no longer offers either; both clients used here
 * (python ntlm_auth at its default level 3, @ewsjs/ntlm-client once the challenge carries extended session security)
 * answer with NTLMv2, so a v1 answer is refused with a clear reason instead of being half-checked.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';

// js-md4 ships no typings; a local require keeps its one used function typed without an ambient module declaration.
const md4 = createRequire(import.meta.url)('js-md4') as { arrayBuffer(data: Uint8Array): ArrayBuffer };

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

export const NTLM_FLAGS = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  N128: 0x20000000,
  KEY_EXCH: 0x40000000,
  N56: 0x80000000,
} as const;

export interface NtlmServerIdentity {
  netbiosDomain: string;
  dnsDomain: string;
  netbiosComputer: string;
}

export interface NtlmChallengeState {
  serverChallenge: Buffer;
  flags: number;
}

export interface NtlmType3 {
  flags: number;
  domain: string;
  user: string;
  workstation: string;
  lmResponse: Buffer;
  ntResponse: Buffer;
}

export class NtlmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NtlmError';
  }
}

/** Message type of a decoded token (1, 2 or 3), or throws when it is not NTLMSSP at all (e.g. a Kerberos token). */
export function ntlmMessageType(token: Buffer): number {
  if (token.length < 12 || !token.subarray(0, 8).equals(SIGNATURE)) throw new NtlmError('not an NTLMSSP token');
  return token.readUInt32LE(8);
}

export function parseType1(token: Buffer): { flags: number } {
  if (ntlmMessageType(token) !== 1) throw new NtlmError('expected an NTLM negotiate (type 1) message');
  if (token.length < 16) throw new NtlmError('truncated NTLM negotiate message');
  return { flags: token.readUInt32LE(12) };
}

function avPair(id: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
}

/** FILETIME (100 ns since 1601) of now, little-endian. */
function fileTimeNow(): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n);
  return b;
}

/** Builds the challenge for a client's Type 1; keep the returned state on the connection. */
export function buildType2(clientFlags: number, id: NtlmServerIdentity): { token: Buffer; state: NtlmChallengeState } {
  const F = NTLM_FLAGS;
  const unicode = (clientFlags & F.UNICODE) !== 0 || (clientFlags & F.OEM) === 0;
  let flags = (unicode ? F.UNICODE : F.OEM) | F.REQUEST_TARGET | F.NTLM | F.ALWAYS_SIGN | F.TARGET_TYPE_DOMAIN | F.TARGET_INFO | F.VERSION;
  // Echo what the client asked for and a Windows server grants.
  for (const f of [F.EXTENDED_SESSIONSECURITY, F.N128, F.N56, F.KEY_EXCH, F.SIGN, F.SEAL]) if (clientFlags & f) flags |= f;
  flags >>>= 0;
  const enc = (s: string): Buffer => Buffer.from(s, unicode ? 'utf16le' : 'latin1');
  const u16 = (s: string): Buffer => Buffer.from(s, 'utf16le');
  const targetName = enc(id.netbiosDomain);
  const fqdn = `${id.netbiosComputer.toLowerCase()}.${id.dnsDomain}`;
  const targetInfo = Buffer.concat([
    avPair(2, u16(id.netbiosDomain)),
    avPair(1, u16(id.netbiosComputer)),
    avPair(4, u16(id.dnsDomain)),
    avPair(3, u16(fqdn)),
    avPair(5, u16(id.dnsDomain)),
    avPair(7, fileTimeNow()),
    avPair(0, Buffer.alloc(0)),
  ]);
  const serverChallenge = randomBytes(8);
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt16LE(targetName.length, 12);
  header.writeUInt16LE(targetName.length, 14);
  header.writeUInt32LE(56, 16);
  header.writeUInt32LE(flags, 20);
  serverChallenge.copy(header, 24);
  header.writeUInt16LE(targetInfo.length, 40);
  header.writeUInt16LE(targetInfo.length, 42);
  header.writeUInt32LE(56 + targetName.length, 44);
  // Version: Windows Server 2016 (10.0 build 14393), NTLM revision 15.
  header.writeUInt8(10, 48);
  header.writeUInt8(0, 49);
  header.writeUInt16LE(14393, 50);
  header.writeUInt8(15, 55);
  return { token: Buffer.concat([header, targetName, targetInfo]), state: { serverChallenge, flags } };
}

function securityBuffer(token: Buffer, at: number, what: string): Buffer {
  if (token.length < at + 8) throw new NtlmError(`truncated NTLM authenticate message (${what})`);
  const length = token.readUInt16LE(at);
  const offset = token.readUInt32LE(at + 4);
  if (length === 0) return Buffer.alloc(0);
  if (offset + length > token.length) throw new NtlmError(`NTLM ${what} field points outside the message`);
  return token.subarray(offset, offset + length);
}

export function parseType3(token: Buffer): NtlmType3 {
  if (ntlmMessageType(token) !== 3) throw new NtlmError('expected an NTLM authenticate (type 3) message');
  if (token.length < 52) throw new NtlmError('truncated NTLM authenticate message');
  const lmResponse = securityBuffer(token, 12, 'LM response');
  const ntResponse = securityBuffer(token, 20, 'NT response');
  const domainRaw = securityBuffer(token, 28, 'domain');
  const userRaw = securityBuffer(token, 36, 'user');
  const wsRaw = securityBuffer(token, 44, 'workstation');
  // Flags are optional in very old clients; without them the strings are Unicode.
  const flags = token.length >= 64 && token.readUInt32LE(32) >= 64 ? token.readUInt32LE(60) : NTLM_FLAGS.UNICODE;
  const decode = (b: Buffer): string => b.toString(flags & NTLM_FLAGS.UNICODE ? 'utf16le' : 'latin1');
  return { flags, domain: decode(domainRaw), user: decode(userRaw), workstation: decode(wsRaw), lmResponse, ntResponse };
}

export function ntHash(password: string): Buffer {
  return Buffer.from(md4.arrayBuffer(Buffer.from(password, 'utf16le')));
}

/**
 * Checks an NTLMv2 response against the password. `user` and `domain` are as the client wrote them in the Type 3
 * message: they are part of the hashed value.
 */
export function verifyNtlmV2(type3: NtlmType3, state: NtlmChallengeState, password: string): boolean {
  const nt = type3.ntResponse;
  if (nt.length <= 24) {
    throw new NtlmError('NTLMv1 / NTLM2-session responses are not accepted (the simulator requires NTLMv2, like a hardened IIS)');
  }
  const proof = nt.subarray(0, 16);
  const blob = nt.subarray(16);
  const ntowf2 = createHmac('md5', ntHash(password)).update(Buffer.from(type3.user.toUpperCase() + type3.domain, 'utf16le')).digest();
  const expected = createHmac('md5', ntowf2).update(Buffer.concat([state.serverChallenge, blob])).digest();
  return timingSafeEqual(proof, expected);
}
