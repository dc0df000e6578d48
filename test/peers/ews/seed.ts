/**
 * The seed file: the firm's accounts, mailboxes and calendar items, validated with zod so a typo in a demo file
 * is a clear message, not a half-built server. Dates may be relative (`today+2T09:00`), resolved in the file's
 * `timeZone` when the file is loaded, so demo data never falls out of the sync window. See README.md.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { API_VERSIONS } from './soap-envelope.ts';
import { DAY_INDEXES, MONTHS, WEEKDAYS } from './calendar-model.ts';
import { formatDate, isValidIana, localToUtc, parseEwsDateTime, utcToLocal } from './time-zones.ts';

const weekday = z.enum(WEEKDAYS as [string, ...string[]]);
const daysOfWeekValue = z.enum([...WEEKDAYS, 'Day', 'Weekday', 'WeekendDay'] as unknown as [string, ...string[]]);
const dayIndex = z.enum(DAY_INDEXES as [string, ...string[]]);
const month = z.enum(MONTHS as [string, ...string[]]);
const interval = z.number().int().min(1).max(999);

export const patternSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Daily'), interval }),
  z.object({ type: z.literal('Weekly'), interval, daysOfWeek: z.array(weekday).min(1), firstDayOfWeek: weekday.optional() }),
  z.object({ type: z.literal('AbsoluteMonthly'), interval, dayOfMonth: z.number().int().min(1).max(31) }),
  z.object({ type: z.literal('RelativeMonthly'), interval, daysOfWeek: daysOfWeekValue, dayOfWeekIndex: dayIndex }),
  z.object({ type: z.literal('AbsoluteYearly'), dayOfMonth: z.number().int().min(1).max(31), month }),
  z.object({ type: z.literal('RelativeYearly'), daysOfWeek: daysOfWeekValue, dayOfWeekIndex: dayIndex, month }),
]);
const rangeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('NoEnd'), startDate: z.string() }),
  z.object({ type: z.literal('EndDate'), startDate: z.string(), endDate: z.string() }),
  z.object({ type: z.literal('Numbered'), startDate: z.string(), count: z.number().int().min(1).max(999) }),
]);

export const extendedPropertySchema = z
  .object({
    propertySetId: z.string().optional(),
    distinguishedPropertySetId: z.string().optional(),
    propertyName: z.string().optional(),
    propertyId: z.number().int().optional(),
    propertyTag: z.string().optional(),
    propertyType: z.string(),
    value: z.union([z.string(), z.array(z.string())]),
  })
  .strict();

const sensitivity = z.enum(['Normal', 'Personal', 'Private', 'Confidential']);
const freeBusy = z.enum(['Free', 'Tentative', 'Busy', 'OOF', 'WorkingElsewhere', 'NoData']);

/** An occurrence is named by its original start or by its 1-based index in the series (handy with relative dates). */
const occurrenceRef = z.union([z.string(), z.number().int().min(1)]);

const occurrenceSchema = z
  .object({
    originalStart: occurrenceRef,
    /** Moves the occurrence by this many minutes (an alternative to start/end). */
    shiftMinutes: z.number().int().optional(),
    subject: z.string().optional(),
    start: z.string().optional(),
    end: z.string().optional(),
    location: z.string().optional(),
    body: z.string().optional(),
    sensitivity: sensitivity.optional(),
    legacyFreeBusyStatus: freeBusy.optional(),
  })
  .strict();

const itemSchema = z
  .object({
    mailbox: z.string().min(3),
    subject: z.string(),
    start: z.string(),
    end: z.string(),
    isAllDay: z.boolean().optional(),
    timeZone: z.string().optional(),
    location: z.string().optional(),
    body: z.string().optional(),
    bodyType: z.enum(['HTML', 'Text']).optional(),
    sensitivity: sensitivity.optional(),
    legacyFreeBusyStatus: freeBusy.optional(),
    categories: z.array(z.string()).optional(),
    requiredAttendees: z.array(z.string()).optional(),
    optionalAttendees: z.array(z.string()).optional(),
    uid: z.string().optional(),
    recurrence: z.object({ pattern: patternSchema, range: rangeSchema }).strict().optional(),
    modifiedOccurrences: z.array(occurrenceSchema).optional(),
    deletedOccurrences: z.array(occurrenceRef).optional(),
    extendedProperties: z.array(extendedPropertySchema).optional(),
    reminderMinutesBeforeStart: z.number().int().min(0).optional(),
    /** A free-form note for people reading the seed file. */
    comment: z.string().optional(),
  })
  .strict();

const accountFields = {
  username: z.string().min(1).regex(/^[^\\@\s]+$/, 'a sAMAccountName: no domain, no @'),
  upn: z.string().optional(),
  password: z.string().min(1),
  displayName: z.string().optional(),
  guid: z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/).optional(),
};

/** Where a mailbox is in a move (README, "Moving mailboxes"): requests on it are answered accordingly. */
export const EWS_MAILBOX_STATES = ['active', 'moving', 'completing', 'moved-away'] as const;
export type EwsMailboxState = (typeof EWS_MAILBOX_STATES)[number];

export const mailboxSchema = z
  .object({
    ...accountFields,
    primarySmtp: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'an SMTP address'),
    aliases: z.array(z.string().regex(/^[^@\s]+@[^@\s]+$/, 'an SMTP address')).optional(),
    displayName: z.string().min(1),
    /** Default active; moved-away: the user is a mail user here, the mailbox lives on another server. */
    state: z.enum(EWS_MAILBOX_STATES).optional(),
  })
  .strict();

export type EwsSeedMailbox = z.input<typeof mailboxSchema>;

export const ewsSeedSchema = z
  .object({
    comment: z.string().optional(),
    timeZone: z.string().refine(isValidIana, 'an IANA time zone such as Europe/Helsinki'),
    server: z
      .object({
        netbiosDomain: z.string().min(1).max(15).optional(),
        dnsDomain: z.string().min(1).optional(),
        computerName: z.string().min(1).max(15).optional(),
        version: z.enum(API_VERSIONS as unknown as [string, ...string[]]).optional(),
        authMethods: z.array(z.enum(['Negotiate', 'NTLM', 'Basic'])).min(1).optional(),
        maxRequestBytes: z.number().int().min(1024).optional(),
        findCountLimit: z.number().int().min(1).optional(),
        /** GET (and any method but POST) gets IIS's 405 before any login, as a handler mapped to POST only does. */
        refuseGet: z.boolean().optional(),
        /** false: no HTTP Date header on any answer (a proxy that strips it); default true. */
        sendDateHeader: z.boolean().optional(),
        /** Open GetStreamingEvents connections per account; default 10 on Exchange2016, 3 on 2010 SP1 to 2013. */
        hangingConnectionLimit: z.number().int().min(1).max(1000).optional(),
        /** Mailbox servers behind the front end (subscriptions live on one; affinity routes to it); default 1. */
        mailboxServers: z.number().int().min(1).max(16).optional(),
        /** Non-expired subscriptions per account (EWSMaxSubscriptions); default 5000. */
        maxSubscriptions: z.number().int().min(1).optional(),
      })
      .strict()
      .optional(),
    delegates: z
      .array(
        z
          .object({
            ...accountFields,
            /** Mailboxes this account may impersonate: "all", or a list of addresses (primary or alias). */
            impersonation: z.union([z.literal('all'), z.array(z.string())]),
          })
          .strict(),
      )
      .optional(),
    mailboxes: z.array(mailboxSchema),
    items: z.array(itemSchema).optional(),
  })
  .strict();

export type EwsSeed = z.input<typeof ewsSeedSchema>;
export type ParsedEwsSeed = z.output<typeof ewsSeedSchema>;
export type SeedItem = z.output<typeof itemSchema>;

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

export function validateEwsSeed(seed: unknown, source = 'seed'): ParsedEwsSeed {
  const r = ewsSeedSchema.safeParse(seed);
  if (!r.success) throw new SeedError(`Invalid EWS ${source}:\n${z.prettifyError(r.error)}`);
  return r.data;
}

export function loadEwsSeed(path: string): EwsSeed {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SeedError(`Cannot read EWS seed file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SeedError(`EWS seed file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return validateEwsSeed(json, `seed file ${path}`);
}

const RELATIVE = /^today(?:([+-])(\d{1,4}))?(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

function relativeDay(sign: string | undefined, n: string | undefined, zone: string, nowMs: number): [number, number, number] {
  const today = utcToLocal(zone, nowMs);
  const delta = n ? (sign === '-' ? -1 : 1) * Number(n) : 0;
  const d = new Date(Date.UTC(today.year, today.month - 1, today.day + delta));
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

/**
 * A seed date-time (absolute ISO 8601, with or without offset, or relative `today+2T09:00`) as a UTC instant in ms.
 * A bare date means local midnight (all-day items).
 */
export function resolveSeedDateTime(value: string, zone: string, nowMs: number): number {
  const m = RELATIVE.exec(value.trim());
  if (m) {
    const [y, mo, d] = relativeDay(m[1], m[2], zone, nowMs);
    return localToUtc(zone, y, mo, d, m[3] ? Number(m[3]) : 0, m[4] ? Number(m[4]) : 0, m[5] ? Number(m[5]) : 0);
  }
  const ms = parseEwsDateTime(value, zone);
  if (Number.isNaN(ms)) throw new SeedError(`'${value}' is neither an ISO 8601 date-time nor a relative one like today+2T09:00`);
  return ms;
}

/** A seed date (absolute YYYY-MM-DD or relative `today+3`) as YYYY-MM-DD. */
export function resolveSeedDate(value: string, zone: string, nowMs: number): string {
  const m = RELATIVE.exec(value.trim());
  if (m) {
    if (m[3]) throw new SeedError(`'${value}' must be a date (today+3), not a date-time`);
    return formatDate(...relativeDay(m[1], m[2], zone, nowMs));
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value.trim())) throw new SeedError(`'${value}' is neither a date (YYYY-MM-DD) nor a relative one like today+3`);
  return value.trim();
}
