/**
 * The OData query options the simulator answers: a $filter parser and evaluator (comparisons, and/or/not, startswith,
 * endswith, contains, and the any/all lambdas Graph uses for `proxyAddresses/any(x:x eq 'smtp:...')` and
 * `singleValueExtendedProperties/any(ep: ep/id eq '...' and ep/value eq '...')`), $select, $expand, $orderby. Filters are
 * evaluated against the entity's JSON as the API shows it. String comparisons ignore case, as Exchange's and the
 * directory's do; extended property ids compare by the property (type and GUID ignore case, the name does not).
 */
import { sameProperty } from './graph-model.ts';

export class ODataQueryError extends Error {
  readonly code: string;
  constructor(message: string, code = 'BadRequest') {
    super(message);
    this.code = code;
  }
}

type Node =
  | { k: 'lit'; v: string | number | boolean | null }
  | { k: 'path'; segs: string[] }
  | { k: 'cmp'; op: string; a: Node; b: Node }
  | { k: 'and' | 'or'; a: Node; b: Node }
  | { k: 'not'; a: Node }
  | { k: 'fn'; name: string; args: Node[] }
  | { k: 'lambda'; coll: string[]; kind: 'any' | 'all'; v: string | null; body: Node | null };

interface Tok {
  t: 'str' | 'num' | 'id' | 'sym';
  v: string;
}

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= s.length) throw new ODataQueryError(`Invalid filter clause: unterminated string literal.`);
        if (s[i] === "'") {
          if (s[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += s[i++];
      }
      out.push({ t: 'str', v });
    } else if ('()/,:'.includes(c)) {
      out.push({ t: 'sym', v: c });
      i++;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?\d+(\.\d+)?(?:-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?/.exec(s.slice(i));
      if (!m) throw new ODataQueryError(`Invalid filter clause: unexpected '${c}'.`);
      out.push({ t: m[0].includes('-', 1) || m[0].includes('T') ? 'str' : 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_@$]/.test(c)) {
      const m = /^[A-Za-z_@$][\w.@$]*/.exec(s.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else {
      throw new ODataQueryError(`Invalid filter clause: unexpected '${c}'.`);
    }
  }
  return out;
}

const CMP = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
const FUNCTIONS = ['startswith', 'endswith', 'contains', 'tolower', 'toupper'];

export function parseFilter(text: string): Node {
  const toks = tokenize(text);
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const isWord = (w: string): boolean => peek()?.t === 'id' && peek()!.v.toLowerCase() === w;
  const expect = (v: string): void => {
    const t = toks[p++];
    if (!t || t.v !== v) throw new ODataQueryError(`Invalid filter clause: expected '${v}'${t ? ` but found '${t.v}'` : ' at the end'}.`);
  };
  const orExpr = (): Node => {
    let a = andExpr();
    while (isWord('or')) {
      p++;
      a = { k: 'or', a, b: andExpr() };
    }
    return a;
  };
  const andExpr = (): Node => {
    let a = notExpr();
    while (isWord('and')) {
      p++;
      a = { k: 'and', a, b: notExpr() };
    }
    return a;
  };
  const notExpr = (): Node => {
    if (isWord('not')) {
      p++;
      return { k: 'not', a: notExpr() };
    }
    const a = primary();
    const t = peek();
    if (t?.t === 'id' && CMP.includes(t.v.toLowerCase())) {
      p++;
      return { k: 'cmp', op: t.v.toLowerCase(), a, b: primary() };
    }
    return a;
  };
  const primary = (): Node => {
    const t = toks[p++];
    if (!t) throw new ODataQueryError('Invalid filter clause: the expression ends too early.');
    if (t.t === 'sym' && t.v === '(') {
      const e = orExpr();
      expect(')');
      return e;
    }
    if (t.t === 'str') return { k: 'lit', v: t.v };
    if (t.t === 'num') return { k: 'lit', v: Number(t.v) };
    if (t.t !== 'id') throw new ODataQueryError(`Invalid filter clause: unexpected '${t.v}'.`);
    const low = t.v.toLowerCase();
    if (low === 'true' || low === 'false') return { k: 'lit', v: low === 'true' };
    if (low === 'null') return { k: 'lit', v: null };
    if (FUNCTIONS.includes(low) && peek()?.v === '(') {
      p++;
      const args: Node[] = [orExpr()];
      while (peek()?.v === ',') {
        p++;
        args.push(orExpr());
      }
      expect(')');
      return { k: 'fn', name: low, args };
    }
    const segs = [t.v];
    while (peek()?.v === '/') {
      p++;
      const s = toks[p++];
      if (!s || s.t !== 'id') throw new ODataQueryError('Invalid filter clause: a path segment is missing.');
      if ((s.v === 'any' || s.v === 'all') && peek()?.v === '(') {
        p++;
        if (peek()?.v === ')') {
          p++;
          return { k: 'lambda', coll: segs, kind: s.v, v: null, body: null };
        }
        const v = toks[p++];
        if (!v || v.t !== 'id') throw new ODataQueryError('Invalid filter clause: a lambda needs a variable.');
        expect(':');
        const body = orExpr();
        expect(')');
        return { k: 'lambda', coll: segs, kind: s.v, v: v.v, body };
      }
      segs.push(s.v);
    }
    return { k: 'path', segs };
  };
  const root = orExpr();
  if (p < toks.length) throw new ODataQueryError(`Invalid filter clause: unexpected '${toks[p].v}'.`);
  return root;
}

export interface Scope {
  vars: Map<string, { value: unknown; collection: string }>;
  /** The entity evaluated is an item of this collection (e.g. an extended property inside $expand). */
  rootCollection?: string;
}

type Value = { v: unknown; propertyId?: boolean };

function resolvePath(obj: Record<string, unknown>, segs: string[], scope: Scope, known: (segs: string[]) => boolean): Value {
  let cur: unknown;
  let rest = segs;
  let propertyId = false;
  const bound = scope.vars.get(segs[0]);
  if (bound) {
    cur = bound.value;
    rest = segs.slice(1);
    propertyId = bound.collection === 'singleValueExtendedProperties' && rest.length === 1 && rest[0] === 'id';
  } else {
    if (!known(segs)) throw new ODataQueryError(`Could not find a property named '${segs[0]}' on the type the filter applies to.`, 'RequestBroker--ParseUri');
    cur = obj;
    propertyId = scope.rootCollection === 'singleValueExtendedProperties' && segs.length === 1 && segs[0] === 'id';
  }
  for (const s of rest) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[s] : undefined;
  return { v: cur, propertyId };
}

function compare(op: string, a: Value, b: Value): boolean {
  if (a.propertyId || b.propertyId) {
    const same = typeof a.v === 'string' && typeof b.v === 'string' && sameProperty(a.v, b.v);
    if (op === 'eq') return same;
    if (op === 'ne') return !same;
  }
  let x = a.v ?? null;
  let y = b.v ?? null;
  if (typeof x === 'string' && typeof y === 'string') {
    x = x.toLowerCase();
    y = y.toLowerCase();
  }
  switch (op) {
    case 'eq':
      return x === y;
    case 'ne':
      return x !== y;
    case 'gt':
      return x !== null && y !== null && (x as number) > (y as number);
    case 'ge':
      return x !== null && y !== null && (x as number) >= (y as number);
    case 'lt':
      return x !== null && y !== null && (x as number) < (y as number);
    default:
      return x !== null && y !== null && (x as number) <= (y as number);
  }
}

/**
 * Evaluates a parsed filter on an entity's JSON. `known(segs)` says whether a property path exists on the type (so a
 * typo is a 400, as in Graph, not an empty result).
 */
export function evaluateFilter(node: Node, obj: Record<string, unknown>, known: (segs: string[]) => boolean, scope: Scope = { vars: new Map() }): boolean {
  const value = (n: Node): Value => {
    switch (n.k) {
      case 'lit':
        return { v: n.v };
      case 'path':
        return resolvePath(obj, n.segs, scope, known);
      case 'fn': {
        const args = n.args.map(value).map((a) => (typeof a.v === 'string' ? a.v.toLowerCase() : a.v));
        if (n.name === 'tolower' || n.name === 'toupper') return { v: args[0] };
        const [h, needle] = args;
        if (typeof h !== 'string' || typeof needle !== 'string') return { v: false };
        return { v: n.name === 'startswith' ? h.startsWith(needle) : n.name === 'endswith' ? h.endsWith(needle) : h.includes(needle) };
      }
      default:
        return { v: evaluateFilter(n, obj, known, scope) };
    }
  };
  switch (node.k) {
    case 'and':
      return evaluateFilter(node.a, obj, known, scope) && evaluateFilter(node.b, obj, known, scope);
    case 'or':
      return evaluateFilter(node.a, obj, known, scope) || evaluateFilter(node.b, obj, known, scope);
    case 'not':
      return !evaluateFilter(node.a, obj, known, scope);
    case 'cmp':
      return compare(node.op, value(node.a), value(node.b));
    case 'lambda': {
      const coll = resolvePath(obj, node.coll, scope, known).v;
      const items = Array.isArray(coll) ? coll : [];
      if (!node.body || !node.v) return node.kind === 'any' ? items.length > 0 : true;
      const name = node.coll[node.coll.length - 1];
      const test = (item: unknown): boolean => {
        const vars = new Map(scope.vars);
        vars.set(node.v!, { value: item, collection: name });
        return evaluateFilter(node.body!, obj, known, { vars, rootCollection: scope.rootCollection });
      };
      return node.kind === 'any' ? items.some(test) : items.every(test);
    }
    default: {
      const v = value(node).v;
      return v === true;
    }
  }
}

/** `a,b,c` -> names, checked against the type's properties (Graph: 400 "Could not find a property named ..."). */
export function parseSelect(text: string | null, typeName: string, properties: readonly string[]): string[] | null {
  if (text === null) return null;
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!properties.some((p) => p.toLowerCase() === n.toLowerCase())) {
      throw new ODataQueryError(`Could not find a property named '${n}' on type 'microsoft.graph.${typeName}'.`, 'RequestBroker--ParseUri');
    }
  }
  return names.map((n) => properties.find((p) => p.toLowerCase() === n.toLowerCase())!);
}

export interface ExpandClause {
  property: string;
  filter: Node | null;
}

/** `singleValueExtendedProperties($filter=id eq '...'),multiValueExtendedProperties` -> clauses. */
export function parseExpand(text: string | null, typeName: string, navigation: readonly string[]): ExpandClause[] {
  if (text === null) return [];
  const out: ExpandClause[] = [];
  let depth = 0;
  let start = 0;
  const parts: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  for (const raw of parts.map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\w+)(?:\((.*)\))?$/s.exec(raw);
    if (!m) throw new ODataQueryError(`Invalid $expand clause '${raw}'.`);
    const property = navigation.find((n) => n.toLowerCase() === m[1].toLowerCase());
    if (!property) throw new ODataQueryError(`Could not find a property named '${m[1]}' on type 'microsoft.graph.${typeName}'.`, 'RequestBroker--ParseUri');
    let filter: Node | null = null;
    if (m[2]) {
      const f = /^\s*\$filter\s*=\s*(.*)$/is.exec(m[2]);
      if (!f) throw new ODataQueryError(`Only $filter is supported inside $expand (got '${m[2]}').`);
      filter = parseFilter(f[1]);
    }
    out.push({ property, filter });
  }
  return out;
}

/** `start/dateTime desc,subject` -> comparator over entity JSON. */
export function parseOrderBy(text: string | null, known: (segs: string[]) => boolean): ((a: Record<string, unknown>, b: Record<string, unknown>) => number) | null {
  if (text === null) return null;
  const keys = text.split(',').map((k) => {
    const [path, dir = 'asc'] = k.trim().split(/\s+/);
    const segs = path.split('/');
    if (!known(segs)) throw new ODataQueryError(`Could not find a property named '${segs[0]}' for $orderby.`, 'RequestBroker--ParseUri');
    if (!/^(asc|desc)$/i.test(dir)) throw new ODataQueryError(`Invalid $orderby direction '${dir}'.`);
    return { segs, sign: dir.toLowerCase() === 'desc' ? -1 : 1 };
  });
  const get = (o: Record<string, unknown>, segs: string[]): unknown => segs.reduce<unknown>((c, s) => (c && typeof c === 'object' ? (c as Record<string, unknown>)[s] : undefined), o);
  return (a, b) => {
    for (const k of keys) {
      const x = get(a, k.segs);
      const y = get(b, k.segs);
      if (x === y) continue;
      if (x === undefined || x === null) return -k.sign;
      if (y === undefined || y === null) return k.sign;
      return (typeof x === 'string' && typeof y === 'string' ? x.localeCompare(y) : (x as number) < (y as number) ? -1 : 1) * k.sign;
    }
    return 0;
  };
}
