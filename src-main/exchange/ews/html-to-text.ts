/**
 * Turns an HTML item body (what Outlook writes) into the plain text the neutral event model holds.
 * Deliberately small: block elements become line breaks, everything else loses its tags, entities are decoded.
 * It never executes or fetches anything; its output is only ever shown as text.
 */

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  euro: '€',
  copy: '©',
  reg: '®',
  auml: 'ä',
  ouml: 'ö',
  aring: 'å',
  Auml: 'Ä',
  Ouml: 'Ö',
  Aring: 'Å',
  uuml: 'ü',
  Uuml: 'Ü',
  eacute: 'é',
  szlig: 'ß',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '';
    }
    return NAMED_ENTITIES[name] ?? whole;
  });
}

const BLOCK_BREAK = '\u0001';
const BLOCK_END = /<\/(p|div|li|tr|h[1-6]|blockquote|pre|table|ul|ol)\s*>/gi;

export function htmlToText(html: string): string {
  if (typeof html !== 'string' || html.length === 0) return '';
  let s = html.replace(/\u0001/g, '').replace(/\r\n?/g, '\n');
  s = s.replace(/<!--[\s\S]*?-->/g, '');
  s = s.replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, '');
  // Source line breaks are not rendered in HTML; only markup breaks lines.
  s = s.replace(/\s*\n\s*/g, ' ');
  s = s.replace(/<br\s*\/?>/gi, '\n');
  // Block boundaries break the line once, however many of them meet (</li></ul></div> is one break).
  s = s.replace(BLOCK_END, BLOCK_BREAK);
  s = s.replace(/<(table|ul|ol)\b[^>]*>/gi, BLOCK_BREAK);
  s = s.replace(/<li\b[^>]*>/gi, '- ');
  s = s.replace(/<\/t[dh]\s*>/gi, '\t');
  s = s.replace(/<[^>]*>/g, '');
  s = s.replace(/[ \t]*\u0001(?:[ \t]*\u0001)*[ \t]*/g, '\n');
  s = decodeEntities(s);
  const lines = s.split('\n').map((line) => line.replace(/[ \t\u00a0]+/g, (m) => (m.includes('\t') ? '\t' : ' ')).trim());
  // At most one empty line in a row, none at the ends.
  const out: string[] = [];
  for (const line of lines) {
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

/** True when the text looks like HTML rather than plain text (for bodies whose BodyType the server left out). */
export function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html[\s>]|<body[\s>]|<div[\s>]|<p[\s>])/i.test(text);
}
