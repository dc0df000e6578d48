import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { assertTimeZone } from '../common/zoned-time.ts';

/**
 * The Severa simulator's seed data: API clients, users, activity types and activities. Dates may be absolute ISO 8601 or
 * relative (`today+2T09:00`, `today-1`, ...) in the file's `timeZone`; they are resolved when the simulator starts.
 * The format is documented in README.md beside this file.
 */

export const SCOPES_USED_BY_THE_PRODUCT = ['activities:read', 'activities:write', 'activities:delete', 'users:read', 'settings:read'];

const guid = z.string().trim().min(1, 'A guid may not be empty.');
const category = z.enum(['Personal', 'Absences', 'CalendarEntry', 'SalesEvent', 'Task']);
const dayOrdinal = z.enum(['First', 'Second', 'Third', 'Fourth', 'Last']);
const dayOrdinalOption = z.enum(['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'WeekDay', 'Saturday', 'WeekendDay', 'Day']);
const month = z.enum(['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']);
const positiveInt = z.number().int().min(1);

export const seedApiClient = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Scopes this client may be granted; a token request asking for more gets only these. */
  scopes: z.array(z.string()).default(SCOPES_USED_BY_THE_PRODUCT),
  /**
   * When set, the client acts with this user's rights: it may delete only activities that user owns. Unset: an
   * organization-wide integration client.
   */
  actAsUserGuid: guid.optional(),
});

export const seedUser = z.object({
  guid,
  firstName: z.string().min(1),
  lastName: z.string().min(1),
  email: z.string().nullable().default(null),
  code: z.string().nullable().default(null),
  title: z.string().nullable().default(null),
  isActive: z.boolean().default(true),
  defaultActivityTypeGuid: guid.nullable().default(null),
  /** The user's own IANA zone; defaults to the file's. */
  timeZone: z.string().optional(),
});

export const seedActivityType = z.object({
  guid,
  name: z.string().min(1),
  category,
  code: z.string().nullable().default(null),
  isActive: z.boolean().default(true),
  isDefault: z.boolean().default(false),
});

/** ActivityRecurrenceModel as the API has it; `range.recursUntilDate` may be relative (`today+90`). */
export const seedRecurrence = z.object({
  frequency: z.enum(['Daily', 'Weekly', 'Monthly', 'Yearly']),
  pattern: z
    .object({
      daily: z.object({ everyWeekday: z.boolean().optional(), interval: positiveInt.nullable().optional() }).nullable().optional(),
      weekly: z
        .object({
          interval: positiveInt.optional(),
          monday: z.boolean().optional(),
          tuesday: z.boolean().optional(),
          wednesday: z.boolean().optional(),
          thursday: z.boolean().optional(),
          friday: z.boolean().optional(),
          saturday: z.boolean().optional(),
          sunday: z.boolean().optional(),
        })
        .nullable()
        .optional(),
      monthly: z
        .object({ interval: positiveInt.optional(), dayOfMonth: z.number().int().min(1).max(31).nullable().optional(), dayOrdinal: dayOrdinal.nullable().optional(), dayOrdinalOption: dayOrdinalOption.nullable().optional() })
        .nullable()
        .optional(),
      yearly: z
        .object({ month: month.optional(), dayOfMonth: z.number().int().min(1).max(31).nullable().optional(), dayOrdinal: dayOrdinal.nullable().optional(), dayOrdinalOption: dayOrdinalOption.nullable().optional() })
        .nullable()
        .optional(),
    })
    .nullable()
    .default(null),
  range: z.object({ maxOccurrences: positiveInt.nullable().optional(), recursUntilDate: z.string().nullable().optional() }).nullable().default(null),
});

export const seedOccurrenceException = z.object({
  /** The start the occurrence has in the series (date-time, may be relative). */
  originalStart: z.string(),
  /** true: the occurrence was deleted. Otherwise the fields below override the series' values. */
  deleted: z.boolean().default(false),
  name: z.string().min(1).optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  notes: z.string().nullable().optional(),
  location: z.string().nullable().optional(),
});

export const seedActivity = z.object({
  guid,
  name: z.string().min(1),
  activityTypeGuid: guid,
  ownerGuid: guid,
  start: z.string(),
  end: z.string().nullable().optional(),
  isAllDay: z.boolean().default(false),
  notes: z.string().nullable().default(null),
  location: z.string().nullable().default(null),
  isClosed: z.boolean().default(false),
  /** User guids taking part (besides the owner). */
  participants: z.array(guid).default([]),
  recurrence: seedRecurrence.nullable().default(null),
  exceptions: z.array(seedOccurrenceException).default([]),
  createdDateTime: z.string().optional(),
  lastUpdatedDateTime: z.string().optional(),
});

export const severaSeed = z.object({
  timeZone: z.string().default('Europe/Helsinki'),
  apiClients: z.array(seedApiClient).min(1, 'Give at least one API client.'),
  users: z.array(seedUser).default([]),
  activityTypes: z.array(seedActivityType).default([]),
  activities: z.array(seedActivity).default([]),
});

export type SeveraSeed = z.input<typeof severaSeed>;
export type ParsedSeveraSeed = z.output<typeof severaSeed>;
export type SeedActivity = z.output<typeof seedActivity>;

/** Validates a seed (already parsed JSON) and returns it with defaults filled in; throws one readable error listing every problem. */
export function parseSeveraSeed(raw: unknown, source = 'seed'): ParsedSeveraSeed {
  const result = severaSeed.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new Error(`The Severa ${source} is not valid:\n${lines.join('\n')}`);
  }
  const seed = result.data;
  assertTimeZone(seed.timeZone);
  const problems: string[] = [];
  const unique = (what: string, guids: string[]) => {
    const seen = new Set<string>();
    for (const g of guids) {
      if (seen.has(g)) problems.push(`${what} guid ${g} appears twice.`);
      seen.add(g);
    }
    return seen;
  };
  const users = unique('user', seed.users.map((u) => u.guid));
  const types = unique('activity type', seed.activityTypes.map((t) => t.guid));
  unique('activity', seed.activities.map((a) => a.guid));
  if (seed.activityTypes.filter((t) => t.isDefault).length > 1) problems.push('Only one activity type may be the default (isDefault).');
  for (const u of seed.users) {
    if (u.defaultActivityTypeGuid && !types.has(u.defaultActivityTypeGuid)) problems.push(`user ${u.guid}: default activity type ${u.defaultActivityTypeGuid} is not in activityTypes.`);
    if (u.timeZone) assertTimeZone(u.timeZone);
  }
  for (const c of seed.apiClients) {
    if (c.actAsUserGuid && !users.has(c.actAsUserGuid)) problems.push(`API client ${c.clientId}: actAsUserGuid ${c.actAsUserGuid} is not a user.`);
  }
  for (const a of seed.activities) {
    if (!types.has(a.activityTypeGuid)) problems.push(`activity ${a.guid}: activity type ${a.activityTypeGuid} is not in activityTypes.`);
    if (!users.has(a.ownerGuid)) problems.push(`activity ${a.guid}: owner ${a.ownerGuid} is not in users.`);
    for (const p of a.participants) if (!users.has(p)) problems.push(`activity ${a.guid}: participant ${p} is not in users.`);
    if (a.exceptions.length && !a.recurrence) problems.push(`activity ${a.guid}: exceptions need a recurrence.`);
  }
  if (problems.length) throw new Error(`The Severa ${source} is not valid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return seed;
}

export function loadSeveraSeed(path: string): SeveraSeed {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`Cannot read the Severa seed file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`The Severa seed file ${path} is not JSON: ${(e as Error).message}`);
  }
  return parseSeveraSeed(raw, `seed file ${path}`);
}
