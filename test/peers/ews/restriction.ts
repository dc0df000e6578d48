/**
 * FindItem restrictions and sort orders over calendar items: the search expressions a client uses to find items
 * by subject, time or an extended property (e.g. the tag a sync stamps on items it created).
 */
import type { SimCalendarItem } from './calendar-model.ts';
import { extendedPropertyKey } from './calendar-model.ts';
import type { ExtendedFieldRef } from './extended-property-xml.ts';
import { readExtendedFieldUri } from './extended-property-xml.ts';
import { schemaError } from './schema-validation.ts';
import type { StoredItem } from './mailbox-calendar.ts';
import { EwsError, TYPES_NS } from './soap-envelope.ts';
import { parseEwsDateTime } from './time-zones.ts';
import type { XmlElement } from './xml-parser.ts';
import { child, childrenNamed } from './xml-parser.ts';

const T = TYPES_NS;

type Path = { uri: string } | { ext: ExtendedFieldRef; key: string };
type Compare = 'IsEqualTo' | 'IsNotEqualTo' | 'IsGreaterThan' | 'IsGreaterThanOrEqualTo' | 'IsLessThan' | 'IsLessThanOrEqualTo';

export type Restriction =
  | { op: 'And' | 'Or'; parts: Restriction[] }
  | { op: 'Not'; part: Restriction }
  | { op: 'Exists'; path: Path }
  | { op: Compare; path: Path; value: string }
  | { op: 'Contains'; path: Path; value: string; mode: string; ignoreCase: boolean };

type Value = string | number | boolean | string[] | undefined;
type Kind = 'string' | 'date' | 'bool' | 'number' | 'strings';

const FIELDS: Record<string, [Kind, (d: SimCalendarItem) => Value]> = {
  'item:Subject': ['string', (d) => d.subject],
  'item:Sensitivity': ['string', (d) => d.sensitivity],
  'item:Categories': ['strings', (d) => d.categories],
  'item:DateTimeCreated': ['date', (d) => Date.parse(d.dateTimeCreated)],
  'item:DateTimeReceived': ['date', (d) => Date.parse(d.dateTimeCreated)],
  'item:LastModifiedTime': ['date', (d) => Date.parse(d.lastModifiedTime)],
  'item:ItemClass': ['string', () => 'IPM.Appointment'],
  'item:Body': ['string', (d) => d.body],
  'calendar:Start': ['date', (d) => Date.parse(d.start)],
  'calendar:End': ['date', (d) => Date.parse(d.end)],
  'calendar:IsAllDayEvent': ['bool', (d) => d.isAllDay],
  'calendar:Location': ['string', (d) => d.location],
  'calendar:UID': ['string', (d) => d.uid],
  'calendar:CalendarItemType': ['string', (d) => d.calendarItemType],
  'calendar:IsRecurring': ['bool', () => false],
  'calendar:IsCancelled': ['bool', (d) => d.isCancelled],
  'calendar:LegacyFreeBusyStatus': ['string', (d) => d.legacyFreeBusyStatus],
  'calendar:Organizer': ['string', (d) => d.organizer],
};

function readPath(e: XmlElement): Path {
  const f = child(e, T, 'FieldURI');
  if (f) {
    const uri = f.attrs.FieldURI ?? '';
    if (!FIELDS[uri]) throw new EwsError('ErrorUnsupportedPathForQuery', `The property ${uri} cannot be used in a restriction here.`);
    return { uri };
  }
  const x = child(e, T, 'ExtendedFieldURI');
  if (x) {
    const ext = readExtendedFieldUri(x);
    return { ext, key: extendedPropertyKey(ext) };
  }
  if (child(e, T, 'IndexedFieldURI')) throw new EwsError('ErrorUnsupportedPathForQuery', 'Indexed properties cannot be used in a restriction on a calendar.');
  throw schemaError(`${e.name} needs a property path.`);
}

function readConstant(e: XmlElement): string {
  const c = child(child(e, T, 'FieldURIOrConstant'), T, 'Constant') ?? child(e, T, 'Constant');
  if (!c || c.attrs.Value === undefined) throw new EwsError('ErrorUnsupportedPathForQuery', `${e.name} compares with a constant only in this simulator.`);
  return c.attrs.Value;
}

function readExpression(e: XmlElement): Restriction {
  switch (e.name) {
    case 'And':
    case 'Or': {
      const parts = e.children.filter((c) => c.ns === T).map(readExpression);
      if (!parts.length) throw schemaError(`${e.name} needs at least one expression.`);
      return { op: e.name, parts };
    }
    case 'Not': {
      const inner = e.children.find((c) => c.ns === T);
      if (!inner) throw schemaError('Not needs an expression.');
      return { op: 'Not', part: readExpression(inner) };
    }
    case 'Exists':
      return { op: 'Exists', path: readPath(e) };
    case 'IsEqualTo':
    case 'IsNotEqualTo':
    case 'IsGreaterThan':
    case 'IsGreaterThanOrEqualTo':
    case 'IsLessThan':
    case 'IsLessThanOrEqualTo':
      return { op: e.name, path: readPath(e), value: readConstant(e) };
    case 'Contains': {
      const c = child(e, T, 'Constant');
      if (!c || c.attrs.Value === undefined) throw schemaError('Contains needs a Constant.');
      return {
        op: 'Contains',
        path: readPath(e),
        value: c.attrs.Value,
        mode: e.attrs.ContainmentMode ?? 'Substring',
        ignoreCase: /ignorecase|loose/i.test(e.attrs.ContainmentComparison ?? 'IgnoreCase'),
      };
    }
    default:
      throw new EwsError('ErrorUnsupportedPathForQuery', `The search expression ${e.name} is not supported by the simulator.`);
  }
}

export function readRestriction(e: XmlElement): Restriction {
  const inner = e.children.find((c) => c.ns === T);
  if (!inner) throw schemaError('Restriction needs a search expression.');
  return readExpression(inner);
}

function valueOf(path: Path, d: SimCalendarItem): [Kind, Value] {
  if ('uri' in path) {
    const [kind, get] = FIELDS[path.uri];
    return [kind, get(d)];
  }
  const p = d.extendedProperties.find((x) => extendedPropertyKey(x) === path.key);
  if (!p) return ['string', undefined];
  const base = path.ext.propertyType.replace(/Array$/, '');
  if (Array.isArray(p.value)) return ['strings', p.value];
  if (base === 'SystemTime') return ['date', Date.parse(p.value)];
  if (['Integer', 'Short', 'Long', 'Double', 'Float'].includes(base)) return ['number', Number(p.value)];
  if (base === 'Boolean') return ['bool', p.value === 'true' || p.value === '1'];
  return ['string', p.value];
}

function constantAs(kind: Kind, raw: string): Value {
  switch (kind) {
    case 'date': {
      const ms = parseEwsDateTime(raw, 'Etc/UTC');
      if (Number.isNaN(ms)) throw new EwsError('ErrorInvalidValueForProperty', `'${raw}' is not a date-time.`);
      return ms;
    }
    case 'number':
      return Number(raw);
    case 'bool':
      return raw === 'true' || raw === '1';
    default:
      return raw;
  }
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase().localeCompare(b.toLowerCase());
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) - Number(b);
  return (a as number) - (b as number);
}

export function evaluateRestriction(r: Restriction, d: SimCalendarItem): boolean {
  switch (r.op) {
    case 'And':
      return r.parts.every((p) => evaluateRestriction(p, d));
    case 'Or':
      return r.parts.some((p) => evaluateRestriction(p, d));
    case 'Not':
      return !evaluateRestriction(r.part, d);
    case 'Exists': {
      const [, v] = valueOf(r.path, d);
      return v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0);
    }
    case 'Contains': {
      const [, v] = valueOf(r.path, d);
      const values = Array.isArray(v) ? v : v === undefined ? [] : [String(v)];
      const needle = r.ignoreCase ? r.value.toLowerCase() : r.value;
      return values.some((raw) => {
        const hay = r.ignoreCase ? raw.toLowerCase() : raw;
        if (r.mode === 'FullString') return hay === needle;
        if (r.mode === 'Prefixed') return hay.startsWith(needle);
        if (r.mode === 'PrefixOnWords') return hay.split(/\s+/).some((w) => w.startsWith(needle));
        return hay.includes(needle);
      });
    }
    default: {
      const [kind, v] = valueOf(r.path, d);
      if (v === undefined || Number.isNaN(v)) return r.op === 'IsNotEqualTo';
      const c = constantAs(kind === 'strings' ? 'string' : kind, r.value);
      const results = (Array.isArray(v) ? v : [v]).map((x) => compare(x, c));
      const test = (n: number): boolean =>
        r.op === 'IsEqualTo'
          ? n === 0
          : r.op === 'IsNotEqualTo'
            ? n !== 0
            : r.op === 'IsGreaterThan'
              ? n > 0
              : r.op === 'IsGreaterThanOrEqualTo'
                ? n >= 0
                : r.op === 'IsLessThan'
                  ? n < 0
                  : n <= 0;
      return r.op === 'IsNotEqualTo' ? results.every(test) : results.some(test);
    }
  }
}

/**
 * An equality on a string extended property that every match must satisfy (the restriction itself or a term of an
 * And), so FindItem can start from the folder's index instead of scanning it. Null when there is none.
 */
export function indexableTerm(r: Restriction): { key: string; value: string } | null {
  if (r.op === 'IsEqualTo' && 'ext' in r.path && !r.path.ext.propertyType.endsWith('Array')) return { key: r.path.key, value: r.value };
  if (r.op === 'And') {
    for (const p of r.parts) {
      const t = indexableTerm(p);
      if (t) return t;
    }
  }
  return null;
}

/** Applies `m:SortOrder` (FieldOrder elements, first is primary); without one, items come in creation order. */
export function sortItems(items: StoredItem[], sortOrder: XmlElement | undefined): StoredItem[] {
  const orders = childrenNamed(sortOrder, T, 'FieldOrder').map((fo) => ({ path: readPath(fo), desc: fo.attrs.Order === 'Descending' }));
  const sorted = [...items].sort((a, b) => a.number - b.number);
  if (!orders.length) return sorted;
  return sorted.sort((a, b) => {
    for (const o of orders) {
      const va = valueOf(o.path, a.data)[1];
      const vb = valueOf(o.path, b.data)[1];
      if (va === vb) continue;
      if (va === undefined) return 1;
      if (vb === undefined) return -1;
      const c = compare(Array.isArray(va) ? va.join(',') : va, Array.isArray(vb) ? vb.join(',') : vb);
      if (c !== 0) return o.desc ? -c : c;
    }
    return 0;
  });
}
