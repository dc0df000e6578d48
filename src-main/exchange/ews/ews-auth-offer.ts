/**
 * What login a server offers, read from the WWW-Authenticate header(s) of its 401, and what to tell the admin when
 * the chosen method is not among them. IIS lists one provider per header ("Negotiate", "NTLM", `Basic realm="..."`);
 * Node joins repeated headers with ", ".
 */

export type EwsAuthMethod = 'ntlm' | 'basic';

/** Scheme names in a WWW-Authenticate value, in order, without parameters or tokens ("Basic", "NTLM", ...). */
export function offeredSchemes(wwwAuthenticate: string | null | undefined): string[] {
  if (!wwwAuthenticate) return [];
  const schemes: string[] = [];
  // Quoted parameters may hold commas: drop them before splitting.
  const unquoted = wwwAuthenticate.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const part of unquoted.split(',')) {
    const m = /^\s*([A-Za-z][\w.-]*)(?:\s+|$)/.exec(part);
    // "realm=..." after a comma is a parameter of the scheme before it, not a scheme.
    if (!m || /^\s*[\w.-]+\s*=/.test(part)) continue;
    const name = m[1];
    if (!schemes.some((s) => s.toLowerCase() === name.toLowerCase())) schemes.push(name);
  }
  return schemes;
}

const LABEL: Record<EwsAuthMethod, string> = { ntlm: 'NTLM', basic: 'Basic' };

export function authMethodLabel(method: EwsAuthMethod): string {
  return LABEL[method];
}

/** The product's methods among the offered schemes (Negotiate carries NTLM), in the product's order. */
export function usableMethods(schemes: string[]): EwsAuthMethod[] {
  const lower = schemes.map((s) => s.toLowerCase());
  const out: EwsAuthMethod[] = [];
  if (lower.includes('ntlm') || lower.includes('negotiate')) out.push('ntlm');
  if (lower.includes('basic')) out.push('basic');
  return out;
}

/**
 * When the server's offer is known and lacks the chosen method: one sentence naming what it offers and what to set,
 * e.g. "The server offers Basic only; set the authentication method to Basic." Null when the method is offered or the
 * offer is unknown (no WWW-Authenticate seen).
 */
export function notOfferedSentence(chosen: EwsAuthMethod, wwwAuthenticate: string | null | undefined): string | null {
  const schemes = offeredSchemes(wwwAuthenticate);
  if (schemes.length === 0) return null;
  const usable = usableMethods(schemes);
  if (usable.includes(chosen)) return null;
  if (usable.length === 0) {
    return `The server offers ${schemes.join(' and ')} only, which this sync cannot use; enable Windows authentication (NTLM) or Basic authentication on the EWS virtual directory.`;
  }
  const labels = usable.map(authMethodLabel);
  return `The server offers ${labels.join(' and ')} only; set the authentication method to ${labels[0]}.`;
}
