/**
 * A small, strict, fast XML reader for EWS answers: elements (namespace prefixes dropped: EWS names are unique by local
 * name within the parts read here), attributes, text with the predefined and numeric entities decoded, comments,
 * CDATA and the XML declaration. No DOCTYPE (refused: no EWS answer has one, and entity expansion is a known attack).
 * Malformed input (unclosed or mismatched tags, stray '<', bad entities) throws XmlReadError; nothing is guessed.
 *
 * Written for the connector's hot paths (GetItem of hundreds of calendar items, CreateItem and UpdateItem answers):
 * one pass with indexOf over the text, an order of magnitude faster than a general parser building objects.
 */

export interface XmlNode {
  /** Local name, e.g. 'CalendarItem' for <t:CalendarItem>. */
  name: string;
  attrs: Record<string, string> | null;
  children: XmlNode[];
  /** Concatenated text directly inside the element (entities decoded), '' when none. */
  text: string;
}

export class XmlReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlReadError';
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string, at: number): string {
  if (text.indexOf('&') < 0) return text;
  return text.replace(/&([^;&<]{0,10});?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new XmlReadError(`A bare '&' near position ${at}.`);
    if (name.startsWith('#x') || name.startsWith('#X')) {
      const code = Number.parseInt(name.slice(2), 16);
      if (!Number.isFinite(code) || code > 0x10ffff) throw new XmlReadError(`A bad character reference &${name}; near position ${at}.`);
      return String.fromCodePoint(code);
    }
    if (name.startsWith('#')) {
      const code = Number.parseInt(name.slice(1), 10);
      if (!Number.isFinite(code) || code > 0x10ffff) throw new XmlReadError(`A bad character reference &${name}; near position ${at}.`);
      return String.fromCodePoint(code);
    }
    const value = ENTITIES[name];
    if (value === undefined) throw new XmlReadError(`An unknown entity &${name}; near position ${at}.`);
    return value;
  });
}

function localName(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon < 0 ? qualified : qualified.slice(colon + 1);
}

const ATTR = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const NAME_END = /[\s/>]/g;

/** Reads a whole document; returns its root element. */
export function readXml(xml: string): XmlNode {
  const stack: XmlNode[] = [];
  let root: XmlNode | null = null;
  let i = 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = xml.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.text += decode(raw, i);
      else if (raw.trim() !== '') throw new XmlReadError(`Text outside the root element near position ${i}.`);
    }
    if (lt < 0) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === 33 /* ! */) {
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end < 0) throw new XmlReadError('An unclosed comment.');
        i = end + 3;
        continue;
      }
      if (xml.startsWith('<![CDATA[', lt)) {
        const end = xml.indexOf(']]>', lt + 9);
        if (end < 0 || stack.length === 0) throw new XmlReadError('An unclosed or misplaced CDATA section.');
        stack[stack.length - 1].text += xml.slice(lt + 9, end);
        i = end + 3;
        continue;
      }
      throw new XmlReadError('A DOCTYPE or declaration inside the document; refused.');
    }
    if (next === 63 /* ? */) {
      const end = xml.indexOf('?>', lt + 2);
      if (end < 0) throw new XmlReadError('An unclosed processing instruction.');
      i = end + 2;
      continue;
    }
    if (next === 47 /* / */) {
      const gt = xml.indexOf('>', lt + 2);
      if (gt < 0) throw new XmlReadError(`An unclosed tag near position ${lt}.`);
      const name = localName(xml.slice(lt + 2, gt).trim());
      const open = stack.pop();
      if (!open || open.name !== name) throw new XmlReadError(`A closing tag </${name}> that does not match ${open ? `<${open.name}>` : 'any open element'}.`);
      i = gt + 1;
      continue;
    }
    // A start tag: its end is the first '>' outside a quoted attribute value.
    let end = lt + 1;
    let quote = 0;
    for (; end < n; end++) {
      const c = xml.charCodeAt(end);
      if (quote) {
        if (c === quote) quote = 0;
      } else if (c === 34 || c === 39) quote = c;
      else if (c === 62) break;
      else if (c === 60) throw new XmlReadError(`A '<' inside a tag near position ${end}.`);
    }
    if (end >= n) throw new XmlReadError(`An unclosed tag near position ${lt}.`);
    let inner = xml.slice(lt + 1, end);
    const selfClosing = inner.endsWith('/');
    if (selfClosing) inner = inner.slice(0, -1);
    NAME_END.lastIndex = 0;
    const m = NAME_END.exec(inner);
    const qualified = m ? inner.slice(0, m.index) : inner;
    if (!qualified || /[<&"']/.test(qualified)) throw new XmlReadError(`A malformed tag near position ${lt}.`);
    let attrs: Record<string, string> | null = null;
    if (m) {
      const rest = inner.slice(m.index);
      ATTR.lastIndex = 0;
      let a: RegExpExecArray | null;
      let consumed = 0;
      while ((a = ATTR.exec(rest))) {
        if (rest.slice(consumed, a.index).trim() !== '') throw new XmlReadError(`A malformed attribute in <${qualified}> near position ${lt}.`);
        const key = a[1];
        if (!key.startsWith('xmlns')) (attrs ??= {})[localName(key)] = decode(a[2] ?? a[3] ?? '', lt);
        consumed = a.index + a[0].length;
      }
      if (rest.slice(consumed).trim() !== '') throw new XmlReadError(`A malformed attribute in <${qualified}> near position ${lt}.`);
    }
    const node: XmlNode = { name: localName(qualified), attrs, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else if (root) throw new XmlReadError('More than one root element.');
    else root = node;
    if (!selfClosing) stack.push(node);
    i = end + 1;
  }
  if (stack.length > 0) throw new XmlReadError(`The document ends inside <${stack[stack.length - 1].name}>.`);
  if (!root) throw new XmlReadError('The document holds no element.');
  return root;
}

// ---- reading helpers ----

export function child(node: XmlNode | null | undefined, name: string): XmlNode | null {
  if (!node) return null;
  for (const c of node.children) if (c.name === name) return c;
  return null;
}

export function childrenNamed(node: XmlNode | null | undefined, name: string): XmlNode[] {
  if (!node) return [];
  return node.children.filter((c) => c.name === name);
}

/** Text of a child element, or null when there is no such child. */
export function childText(node: XmlNode | null | undefined, name: string): string | null {
  const c = child(node, name);
  return c ? c.text : null;
}

/** Follows a path of child names. */
export function path(node: XmlNode | null | undefined, ...names: string[]): XmlNode | null {
  let at: XmlNode | null | undefined = node;
  for (const name of names) {
    at = child(at, name);
    if (!at) return null;
  }
  return at ?? null;
}

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Text for an element: also escapes the characters XML 1.0 cannot carry literally as they are (CR survives as &#xD;). */
export function escapeText(value: string): string {
  return value.replace(/[&<>\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' })[c] as string);
}
