import { StoreError, type ActivityInput } from './activity-records.ts';
import { MONTHS, recurrenceProblems, type RecurrenceSpec } from './recurrence-expansion.ts';

/**
 * Turns what a client sends (an ActivityModel body, or a JSON Patch of `Replace` operations whose values are strings, as
 * the document's PatchOperation has them) into the store's ActivityInput. The contract check has already run; these
 * functions check meaning (a date-time that parses, a known enum, a boolean spelled true/false).
 */

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseDateTime(value: unknown, field: string): number {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    throw new StoreError(400, 'InvalidParameter', `${field} must be a date-time with an offset, e.g. 2026-03-29T09:00:00+03:00.`);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new StoreError(400, 'InvalidParameter', `${field} is not a valid date-time.`);
  return ms;
}

function recurrenceFromModel(value: unknown): RecurrenceSpec | null {
  if (value === null || value === undefined) return null;
  if (!isObj(value)) throw new StoreError(400, 'InvalidParameter', 'recurrence must be an object.');
  const spec: RecurrenceSpec = {
    frequency: value.frequency as RecurrenceSpec['frequency'],
    pattern: (value.pattern ?? null) as RecurrenceSpec['pattern'],
    range: (value.range ?? null) as RecurrenceSpec['range'],
    lastOccurrenceMs: value.lastOccurrenceDateTime == null ? null : parseDateTime(value.lastOccurrenceDateTime, 'recurrence.lastOccurrenceDateTime'),
  };
  checkRecurrence(spec);
  return spec;
}

function checkRecurrence(spec: RecurrenceSpec): void {
  if (!['Daily', 'Weekly', 'Monthly', 'Yearly'].includes(spec.frequency)) throw new StoreError(400, 'InvalidParameter', 'recurrence.frequency must be Daily, Weekly, Monthly or Yearly.');
  const problems = recurrenceProblems(spec);
  if (problems.length) throw new StoreError(400, 'InvalidParameter', problems.join(' '));
}

export interface ModelDefaults {
  /** Owner when the body names none (the simulator's back door: a UI user creates for themselves). */
  ownerGuid?: string;
  typeGuid?: string;
}

/** POST body (ActivityModel) -> ActivityInput. Read-only fields in the body are ignored, as the real API does. */
export function inputFromActivityModel(body: unknown, defaults: ModelDefaults = {}): ActivityInput {
  if (!isObj(body)) throw new StoreError(400, 'InvalidRequest', 'The request body must be an ActivityModel object.');
  const typeGuid = isObj(body.activityType) && typeof body.activityType.guid === 'string' ? body.activityType.guid : defaults.typeGuid;
  const ownerGuid = isObj(body.ownerUser) && typeof body.ownerUser.guid === 'string' ? body.ownerUser.guid : defaults.ownerGuid;
  if (!typeGuid) throw new StoreError(400, 'InvalidParameter', 'activityType.guid is required.');
  if (!ownerGuid) throw new StoreError(400, 'InvalidParameter', 'ownerUser.guid is required.');
  if (typeof body.name !== 'string') throw new StoreError(400, 'InvalidParameter', 'name is required.');
  return {
    name: body.name,
    startMs: parseDateTime(body.startDateTime, 'startDateTime'),
    endMs: body.endDateTime == null ? null : parseDateTime(body.endDateTime, 'endDateTime'),
    isAllDay: body.isAllDay === true,
    notes: typeof body.notes === 'string' ? body.notes : null,
    location: typeof body.location === 'string' ? body.location : null,
    isClosed: body.isClosed === true,
    typeGuid,
    ownerGuid,
    recurrence: recurrenceFromModel(body.recurrence),
  };
}

/** The back door's edit: a partial ActivityModel whose present keys replace the current values. */
export function applyModelPatch(current: ActivityInput, patch: Json): ActivityInput {
  const next = { ...current };
  if ('name' in patch) next.name = String(patch.name);
  if ('startDateTime' in patch) next.startMs = parseDateTime(patch.startDateTime, 'startDateTime');
  if ('endDateTime' in patch) next.endMs = patch.endDateTime == null ? null : parseDateTime(patch.endDateTime, 'endDateTime');
  if ('isAllDay' in patch) next.isAllDay = patch.isAllDay === true;
  if ('isClosed' in patch) next.isClosed = patch.isClosed === true;
  if ('notes' in patch) next.notes = patch.notes == null ? null : String(patch.notes);
  if ('location' in patch) next.location = patch.location == null ? null : String(patch.location);
  if (isObj(patch.activityType) && typeof patch.activityType.guid === 'string') next.typeGuid = patch.activityType.guid;
  if (isObj(patch.ownerUser) && typeof patch.ownerUser.guid === 'string') next.ownerGuid = patch.ownerUser.guid;
  if ('recurrence' in patch) next.recurrence = recurrenceFromModel(patch.recurrence);
  return next;
}

function boolValue(value: string | null, path: string): boolean {
  if (value !== null && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new StoreError(400, 'InvalidParameter', `${path} takes "true" or "false".`);
}

function nonNull(value: string | null, path: string): string {
  if (value === null) throw new StoreError(400, 'InvalidParameter', `${path} cannot be null.`);
  return value;
}

const RECURRENCE_INTS = new Set(['interval', 'dayofmonth', 'maxoccurrences']);
const RECURRENCE_BOOLS = new Set(['everyweekday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']);
const RECURRENCE_KEYS: Record<string, string> = {
  frequency: 'frequency', pattern: 'pattern', range: 'range', daily: 'daily', weekly: 'weekly', monthly: 'monthly', yearly: 'yearly',
  interval: 'interval', everyweekday: 'everyWeekday', monday: 'monday', tuesday: 'tuesday', wednesday: 'wednesday', thursday: 'thursday',
  friday: 'friday', saturday: 'saturday', sunday: 'sunday', dayofmonth: 'dayOfMonth', dayordinal: 'dayOrdinal', dayordinaloption: 'dayOrdinalOption',
  month: 'month', maxoccurrences: 'maxOccurrences', recursuntildate: 'recursUntilDate',
};
const ENUMS: Record<string, readonly string[]> = {
  dayordinal: ['First', 'Second', 'Third', 'Fourth', 'Last'],
  dayordinaloption: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'WeekDay', 'Saturday', 'WeekendDay', 'Day'],
  month: MONTHS,
};

function setRecurrencePath(spec: RecurrenceSpec, segments: string[], value: string | null, path: string): RecurrenceSpec {
  const copy = JSON.parse(JSON.stringify({ frequency: spec.frequency, pattern: spec.pattern, range: spec.range })) as Json;
  copy.lastOccurrenceMs = spec.lastOccurrenceMs ?? null;
  if (segments.length === 1 && segments[0] === 'lastoccurrencedatetime') {
    copy.lastOccurrenceMs = value === null ? null : parseDateTime(value, path);
    return copy as unknown as RecurrenceSpec;
  }
  let node: Json = copy;
  for (let i = 0; i < segments.length; i++) {
    const key = RECURRENCE_KEYS[segments[i]];
    if (!key) throw new StoreError(400, 'InvalidParameter', `${path} is not a field of the activity's recurrence.`);
    if (i === segments.length - 1) {
      const seg = segments[i];
      if (value === null) node[key] = null;
      else if (RECURRENCE_INTS.has(seg)) {
        if (!/^\d{1,6}$/.test(value)) throw new StoreError(400, 'InvalidParameter', `${path} takes a whole number.`);
        node[key] = Number(value);
      } else if (RECURRENCE_BOOLS.has(seg)) node[key] = boolValue(value, path);
      else if (seg in ENUMS) {
        const match = ENUMS[seg].find((e) => e.toLowerCase() === value.toLowerCase());
        if (!match) throw new StoreError(400, 'InvalidParameter', `${path} must be one of ${ENUMS[seg].join(', ')}.`);
        node[key] = match;
      } else if (seg === 'frequency') {
        const match = ['Daily', 'Weekly', 'Monthly', 'Yearly'].find((e) => e.toLowerCase() === value.toLowerCase());
        if (!match) throw new StoreError(400, 'InvalidParameter', `${path} must be Daily, Weekly, Monthly or Yearly.`);
        node[key] = match;
      } else if (seg === 'recursuntildate') {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new StoreError(400, 'InvalidParameter', `${path} takes a date (YYYY-MM-DD).`);
        node[key] = value;
      } else throw new StoreError(400, 'InvalidParameter', `${path} cannot be set to a plain value; set its fields one by one.`);
    } else {
      if (!isObj(node[key])) node[key] = {};
      node = node[key] as Json;
    }
  }
  return copy as unknown as RecurrenceSpec;
}

export interface PatchOp {
  op: string;
  path?: string | null;
  value?: string | null;
  from?: string | null;
}

/**
 * Applies JSON Patch operations. Only `Replace` is supported (as the real API says); paths are matched without regard to
 * case, values are strings as PatchOperation declares them and are converted to the field's type.
 */
export function applyPatchOperations(current: ActivityInput, ops: PatchOp[]): ActivityInput {
  if (ops.length === 0) throw new StoreError(400, 'InvalidParameter', 'The patch document has no operations.');
  let next = { ...current };
  let recurrence = current.recurrence;
  for (const op of ops) {
    if (op.op !== 'Replace') throw new StoreError(400, 'InvalidOperation', `Patch operation "${op.op}" is not supported; only Replace is.`);
    const path = (op.path ?? '').trim();
    if (!path.startsWith('/')) throw new StoreError(400, 'InvalidParameter', `Patch path "${path}" must start with "/".`);
    const value = op.value === undefined ? null : op.value;
    const segments = path.slice(1).toLowerCase().split('/');
    const head = segments[0];
    const rest = segments.slice(1);
    switch (head) {
      case 'name':
        next.name = nonNull(value, path);
        break;
      case 'startdatetime':
        next.startMs = parseDateTime(value, path);
        break;
      case 'enddatetime':
        next.endMs = value === null ? null : parseDateTime(value, path);
        break;
      case 'isallday':
        next.isAllDay = boolValue(value, path);
        break;
      case 'isclosed':
        next.isClosed = boolValue(value, path);
        break;
      case 'notes':
        next.notes = value;
        break;
      case 'location':
        next.location = value;
        break;
      case 'activitytype':
      case 'owneruser': {
        if (rest.length > 1 || (rest.length === 1 && rest[0] !== 'guid')) throw new StoreError(400, 'InvalidParameter', `${path} cannot be changed; set ${head === 'activitytype' ? '/activityType/guid' : '/ownerUser/guid'}.`);
        const guid = nonNull(value, path);
        if (head === 'activitytype') next.typeGuid = guid;
        else next.ownerGuid = guid;
        break;
      }
      case 'recurrence': {
        if (rest.length === 0) {
          if (value !== null) throw new StoreError(400, 'InvalidParameter', '/recurrence takes null (to end the series) or is changed field by field, e.g. /recurrence/pattern/weekly/monday.');
          recurrence = null;
        } else {
          recurrence = setRecurrencePath(recurrence ?? { frequency: 'Weekly', pattern: null, range: null }, rest, value, path);
        }
        break;
      }
      case 'guid':
      case 'createddatetime':
      case 'lastupdateddatetime':
      case 'createdby':
      case 'lastupdatedby':
      case 'recurrencetype':
      case 'recurrencerule':
      case 'hashours':
        throw new StoreError(400, 'InvalidParameter', `${path} is read-only.`);
      default:
        throw new StoreError(400, 'InvalidParameter', `${path} is not a field the simulator lets a patch change.`);
    }
  }
  if (recurrence !== current.recurrence && recurrence !== null) checkRecurrence(recurrence);
  next = { ...next, recurrence };
  return next;
}
