/**
 * A small namespace-aware XML reader for SOAP requests.
 *
 * Why not a general parser: EWS clients differ in prefixes (`s:`/`soap:`/none, `t:`, `m:`) and in where they declare
 * namespaces, so every element must be resolved to its namespace URI, not matched by prefix. The request side must
 * also refuse DOCTYPE and entity declarations outright (XXE, billion laughs) and size limits, as Exchange does,
 * and report the line and column of a syntax error for `ErrorSchemaValidation`. Doing that here keeps it exact
 * and keeps the per-request cost visible in the benchmark.
 */

export interface XmlElement {
  /** Namespace URI ('' when none). */
  ns: string;
  /** Local name without prefix. */
  name: string;
  /** Attributes by local name (attributes without a prefix have no namespace, which is how EWS uses them). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
  line: number;
  column: number;
}

export class XmlParseError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number) {
    super(`${message} (line ${line}, position ${column})`);
    this.name = 'XmlParseError';
    this.line = line;
    this.column = column;
  }
}

export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
}

const DEFAULT_LIMITS: XmlLimits = { maxDepth: 64, maxElements: 200_000 };
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

interface OpenElement {
  el: XmlElement;
  qname: string;
  nsScope: Map<string, string>;
}

export function parseXml(source: string, limits: XmlLimits = DEFAULT_LIMITS): XmlElement {
  let pos = 0;
  const len = source.length;
  let root: XmlElement | null = null;
  const stack: OpenElement[] = [];
  let elementCount = 0;
  const rootScope = new Map<string, string>([['xml', XML_NS]]);

  // Line/column bookkeeping advances with the parser (tags are visited in order), so it stays linear.
  let seenPos = 0;
  let seenLine = 1;
  let seenLastNl = -1;
  const where = (at: number): { line: number; column: number } => {
    if (at < seenPos) {
      seenPos = 0;
      seenLine = 1;
      seenLastNl = -1;
    }
    const stop = Math.min(at, len);
    for (let i = seenPos; i < stop; i++) {
      if (source.charCodeAt(i) === 10) {
        seenLine++;
        seenLastNl = i;
      }
    }
    seenPos = Math.max(seenPos, stop);
    return { line: seenLine, column: at - seenLastNl };
  };
  const fail = (message: string, at: number = pos): never => {
    const { line, column } = where(at);
    throw new XmlParseError(message, line, column);
  };

  const decodeEntities = (raw: string, at: number): string => {
    if (raw.indexOf('&') < 0) return raw;
    let out = '';
    let i = 0;
    while (i < raw.length) {
      const amp = raw.indexOf('&', i);
      if (amp < 0) {
        out += raw.slice(i);
        break;
      }
      out += raw.slice(i, amp);
      const semi = raw.indexOf(';', amp);
      if (semi < 0 || semi - amp > 12) fail('Unterminated entity reference', at + amp);
      const name = raw.slice(amp + 1, semi);
      if (name.startsWith('#')) {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff) fail(`Invalid character reference &${name};`, at + amp);
        out += String.fromCodePoint(code);
      } else {
        const v = PREDEFINED[name];
        // Any other entity could only come from a DTD, which is refused: an undeclared entity is a syntax error.
        if (v === undefined) fail(`Reference to undeclared entity '${name}'`, at + amp);
        out += v;
      }
      i = semi + 1;
    }
    return out;
  };

  const isNameChar = (c: number): boolean =>
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46 || c === 58 || c > 127;
  const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

  const readName = (): string => {
    const start = pos;
    while (pos < len && isNameChar(source.charCodeAt(pos))) pos++;
    if (pos === start) fail('Expected a name');
    return source.slice(start, pos);
  };
  const skipSpace = (): void => {
    while (pos < len && isSpace(source.charCodeAt(pos))) pos++;
  };

  const resolve = (prefix: string, scope: Map<string, string>, at: number): string => {
    const uri = scope.get(prefix);
    if (uri === undefined) {
      if (prefix === '') return '';
      return fail(`Undeclared namespace prefix '${prefix}'`, at);
    }
    return uri;
  };

  // Leading BOM and XML declaration.
  if (source.charCodeAt(0) === 0xfeff) pos = 1;

  while (pos < len) {
    const lt = source.indexOf('<', pos);
    if (lt < 0) {
      const tail = source.slice(pos);
      if (stack.length > 0) fail('Unexpected end of document: unclosed element', len);
      if (tail.trim() !== '') fail('Text after the root element', pos);
      break;
    }
    if (lt > pos) {
      const raw = source.slice(pos, lt);
      if (stack.length > 0) {
        stack[stack.length - 1].el.text += decodeEntities(raw, pos);
      } else if (raw.trim() !== '') {
        fail('Text outside the root element', pos);
      }
    }
    pos = lt;
    if (source.startsWith('<!--', pos)) {
      const end = source.indexOf('-->', pos + 4);
      if (end < 0) fail('Unterminated comment');
      pos = end + 3;
      continue;
    }
    if (source.startsWith('<![CDATA[', pos)) {
      if (stack.length === 0) fail('CDATA outside the root element');
      const end = source.indexOf(']]>', pos + 9);
      if (end < 0) fail('Unterminated CDATA section');
      stack[stack.length - 1].el.text += source.slice(pos + 9, end);
      pos = end + 3;
      continue;
    }
    if (source.startsWith('<!', pos)) {
      // DOCTYPE, ENTITY, ELEMENT...: Exchange refuses DTD processing, and so do we (XXE, entity expansion).
      fail('DTD is prohibited in this XML document', pos);
    }
    if (source.startsWith('<?', pos)) {
      const end = source.indexOf('?>', pos + 2);
      if (end < 0) fail('Unterminated processing instruction');
      pos = end + 2;
      continue;
    }
    if (source.charCodeAt(pos + 1) === 47 /* / */) {
      const at = pos;
      pos += 2;
      const qname = readName();
      skipSpace();
      if (source.charCodeAt(pos) !== 62) fail("Expected '>'");
      pos++;
      const open = stack.pop();
      if (!open) fail(`Unexpected closing tag </${qname}>`, at);
      else if (open.qname !== qname) fail(`Closing tag </${qname}> does not match <${open.qname}>`, at);
      continue;
    }
    // Start tag.
    const tagStart = pos;
    pos++;
    const qname = readName();
    const rawAttrs: Array<[string, string, number]> = [];
    let selfClosing = false;
    for (;;) {
      const before = pos;
      skipSpace();
      const c = source.charCodeAt(pos);
      if (c === 62) {
        pos++;
        break;
      }
      if (c === 47 && source.charCodeAt(pos + 1) === 62) {
        pos += 2;
        selfClosing = true;
        break;
      }
      if (pos >= len) fail('Unexpected end of document inside a tag', tagStart);
      if (pos === before) fail('Expected whitespace between attributes');
      const attrAt = pos;
      const aname = readName();
      skipSpace();
      if (source.charCodeAt(pos) !== 61) fail(`Expected '=' after attribute ${aname}`);
      pos++;
      skipSpace();
      const quote = source.charCodeAt(pos);
      if (quote !== 34 && quote !== 39) fail('Expected a quoted attribute value');
      const end = source.indexOf(quote === 34 ? '"' : "'", pos + 1);
      if (end < 0) fail('Unterminated attribute value');
      const rawValue = source.slice(pos + 1, end);
      if (rawValue.indexOf('<') >= 0) fail("'<' is not allowed in an attribute value", pos);
      rawAttrs.push([aname, decodeEntities(rawValue, pos + 1), attrAt]);
      pos = end + 1;
    }
    const parentScope = stack.length > 0 ? stack[stack.length - 1].nsScope : rootScope;
    let scope = parentScope;
    for (const [aname, value] of rawAttrs) {
      if (aname === 'xmlns' || aname.startsWith('xmlns:')) {
        if (scope === parentScope) scope = new Map(parentScope);
        scope.set(aname === 'xmlns' ? '' : aname.slice(6), value);
      }
    }
    const colon = qname.indexOf(':');
    const prefix = colon >= 0 ? qname.slice(0, colon) : '';
    const local = colon >= 0 ? qname.slice(colon + 1) : qname;
    const attrs: Record<string, string> = {};
    for (const [aname, value, at] of rawAttrs) {
      if (aname === 'xmlns' || aname.startsWith('xmlns:')) continue;
      const ac = aname.indexOf(':');
      if (ac >= 0) {
        resolve(aname.slice(0, ac), scope, at);
        const key = aname.slice(ac + 1);
        // Prefixed attributes (xsi:type, xml:lang) are rare in EWS requests; keep them without the prefix unless
        // that would shadow an unprefixed one.
        if (!(key in attrs)) attrs[key] = value;
      } else {
        attrs[aname] = value;
      }
    }
    const { line, column } = where(tagStart);
    const el: XmlElement = { ns: resolve(prefix, scope, tagStart), name: local, attrs, children: [], text: '', line, column };
    if (++elementCount > limits.maxElements) fail('Too many elements', tagStart);
    if (stack.length > 0) {
      stack[stack.length - 1].el.children.push(el);
    } else if (root) {
      fail('More than one root element', tagStart);
    } else {
      root = el;
    }
    if (!selfClosing) {
      if (stack.length >= limits.maxDepth) fail('Elements nested too deeply', tagStart);
      stack.push({ el, qname, nsScope: scope });
    }
  }
  if (stack.length > 0) fail(`Unexpected end of document: <${stack[stack.length - 1].qname}> is not closed`, len);
  if (!root) fail('The document has no root element', 0);
  return root as XmlElement;
}

/** First child with this namespace and local name. */
export function child(el: XmlElement | undefined, ns: string, name: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) if (c.name === name && c.ns === ns) return c;
  return undefined;
}

export function childrenNamed(el: XmlElement | undefined, ns: string, name: string): XmlElement[] {
  if (!el) return [];
  return el.children.filter((c) => c.name === name && c.ns === ns);
}

export function childText(el: XmlElement | undefined, ns: string, name: string): string | undefined {
  const c = child(el, ns, name);
  return c ? c.text : undefined;
}
