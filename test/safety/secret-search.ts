import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Looks for known secrets wherever the product writes or says anything: files (binary-safe: SQLite pages, WAL, temp
 * files), captured output, payloads. A secret counts as found in any form it could leak in: as is, UTF-16, JSON- or
 * URL-escaped, base64, and as an HTTP Basic credential (`user:secret` in base64) for each given user name.
 */

export interface Haystack {
  where: string;
  content: string | Buffer;
}

export interface SecretForms {
  name: string;
  forms: Array<{ how: string; bytes: Buffer }>;
}

export function secretForms(name: string, secret: string, basicUsers: string[] = []): SecretForms {
  const forms: Array<{ how: string; bytes: Buffer }> = [
    { how: 'as is', bytes: Buffer.from(secret, 'utf8') },
    { how: 'UTF-16', bytes: Buffer.from(secret, 'utf16le') },
    { how: 'JSON-escaped', bytes: Buffer.from(JSON.stringify(secret).slice(1, -1), 'utf8') },
    { how: 'URL-encoded', bytes: Buffer.from(encodeURIComponent(secret), 'utf8') },
  ];
  // Inside a longer base64 text the secret may start at any of three byte offsets: search each alignment's stable core.
  const raw = Buffer.from(secret, 'utf8');
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), raw]).toString('base64');
    const core = encoded.slice(k === 0 ? 0 : 4, Math.floor((k + raw.length) / 3) * 4);
    if (core.length >= 8) forms.push({ how: `base64 (offset ${k})`, bytes: Buffer.from(core, 'utf8') });
  }
  for (const user of basicUsers) forms.push({ how: `Basic credential of ${user}`, bytes: Buffer.from(Buffer.from(`${user}:${secret}`, 'utf8').toString('base64').replace(/=+$/, ''), 'utf8') });
  return { name, forms };
}

/** Every regular file below `dir`, recursively (symbolic links are not followed). */
export function filesUnder(dir: string): Haystack[] {
  const out: Haystack[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push({ where: path, content: readFileSync(path) });
    }
  };
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory()) walk(dir);
  return out;
}

export function findLeaks(haystacks: Haystack[], secrets: SecretForms[]): string[] {
  const found: string[] = [];
  for (const h of haystacks) {
    const bytes = typeof h.content === 'string' ? Buffer.from(h.content, 'utf8') : h.content;
    for (const s of secrets) {
      for (const form of s.forms) {
        if (bytes.includes(form.bytes)) found.push(`${s.name} (${form.how}) in ${h.where}`);
      }
    }
  }
  return found;
}
