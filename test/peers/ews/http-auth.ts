/**
 * HTTP authentication as IIS does it in front of EWS: a 401 offering Negotiate and NTLM (and Basic when enabled),
 * the NTLM handshake bound to the TCP connection (after Type 3, later requests on the same keep-alive connection
 * need no header), and Basic checked on every request.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Directory, Principal } from './directory.ts';
import type { NtlmChallengeState, NtlmServerIdentity } from './ntlm.ts';
import { NtlmError, buildType2, ntlmMessageType, parseType1, parseType3, verifyNtlmV2 } from './ntlm.ts';

export type AuthMethod = 'Negotiate' | 'NTLM' | 'Basic';

export type AuthOutcome =
  | { ok: true; principal: Principal }
  /** 401: `challenge` is the WWW-Authenticate value(s) to send; `reason` is for logs and tests. */
  | { ok: false; challenge: string[]; reason: string };

interface ConnectionState {
  challenge?: NtlmChallengeState & { scheme: 'NTLM' | 'Negotiate' };
  principal?: Principal;
}

export class HttpAuthenticator {
  private readonly connections = new WeakMap<Socket, ConnectionState>();
  private readonly directory: Directory;
  private readonly methods: AuthMethod[];
  private readonly identity: NtlmServerIdentity;
  private readonly realm: string;

  constructor(directory: Directory, methods: AuthMethod[], identity: NtlmServerIdentity) {
    this.directory = directory;
    this.methods = methods;
    this.identity = identity;
    this.realm = `${identity.netbiosComputer.toLowerCase()}.${identity.dnsDomain}`;
  }

  /** The bare 401 offer, as IIS lists its enabled providers. */
  offer(): string[] {
    return this.methods.map((m) => (m === 'Basic' ? `Basic realm="${this.realm}"` : m));
  }

  authenticate(req: IncomingMessage): AuthOutcome {
    const socket = req.socket;
    let state = this.connections.get(socket);
    if (!state) {
      state = {};
      this.connections.set(socket, state);
    }
    const header = req.headers.authorization;
    if (!header) {
      if (state.principal) return { ok: true, principal: state.principal };
      return { ok: false, challenge: this.offer(), reason: 'no credentials' };
    }
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).trim();
    const data = space < 0 ? '' : header.slice(space + 1).trim();
    const schemeLower = scheme.toLowerCase();
    if (schemeLower === 'basic') {
      if (!this.methods.includes('Basic')) return { ok: false, challenge: this.offer(), reason: 'Basic authentication is disabled' };
      return this.basic(data);
    }
    if (schemeLower === 'ntlm' || schemeLower === 'negotiate') {
      const wanted: AuthMethod = schemeLower === 'ntlm' ? 'NTLM' : 'Negotiate';
      if (!this.methods.includes(wanted)) return { ok: false, challenge: this.offer(), reason: `${wanted} is disabled` };
      // A new handshake on an authenticated connection starts over, as IIS re-authenticates.
      state.principal = undefined;
      return this.ntlm(state, wanted, data);
    }
    return { ok: false, challenge: this.offer(), reason: `unsupported scheme ${scheme}` };
  }

  private basic(data: string): AuthOutcome {
    const decoded = Buffer.from(data, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, challenge: this.offer(), reason: 'malformed Basic credentials' };
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const p = this.directory.findPrincipal(user);
    if (!p || p.password !== password) return { ok: false, challenge: this.offer(), reason: `Basic login failed for ${user}` };
    return { ok: true, principal: p };
  }

  private ntlm(state: ConnectionState, scheme: 'NTLM' | 'Negotiate', data: string): AuthOutcome {
    let token: Buffer;
    let type: number;
    try {
      token = Buffer.from(data, 'base64');
      type = ntlmMessageType(token);
    } catch {
      // A Kerberos/SPNEGO token: this server speaks NTLM only; the client falls back.
      return { ok: false, challenge: this.offer(), reason: 'not an NTLM token (Kerberos is not available)' };
    }
    try {
      if (type === 1) {
        const { flags } = parseType1(token);
        const { token: type2, state: challenge } = buildType2(flags, this.identity);
        state.challenge = { ...challenge, scheme };
        return { ok: false, challenge: [`${scheme} ${type2.toString('base64')}`], reason: 'NTLM challenge sent' };
      }
      if (type === 3) {
        const challenge = state.challenge;
        state.challenge = undefined;
        if (!challenge) return { ok: false, challenge: this.offer(), reason: 'NTLM authenticate without a challenge on this connection' };
        const t3 = parseType3(token);
        const p = this.directory.findPrincipal(t3.user, t3.domain);
        if (!p) return { ok: false, challenge: this.offer(), reason: `NTLM login failed: unknown user ${t3.domain}\\${t3.user}` };
        if (!verifyNtlmV2(t3, challenge, p.password)) return { ok: false, challenge: this.offer(), reason: `NTLM login failed for ${t3.domain}\\${t3.user}: wrong password` };
        state.principal = p;
        return { ok: true, principal: p };
      }
      return { ok: false, challenge: this.offer(), reason: `unexpected NTLM message type ${type}` };
    } catch (e) {
      const why = e instanceof NtlmError ? e.message : String(e);
      return { ok: false, challenge: this.offer(), reason: `NTLM failed: ${why}` };
    }
  }
}
