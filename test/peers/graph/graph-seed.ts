/**
 * The Graph simulator's seed file: the tenant, its app registrations, users (with or without an Exchange Online
 * mailbox) and calendar events. Validated with zod so a typo is a clear message naming the field. Dates may be
 * relative (`today+2T09:00`, `today+3`), read in the file's `timeZone` when loaded. See README.md, "Seed file".
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { assertTimeZone } from '../common/zoned-time.ts';
import { DAYS_OF_WEEK, PATTERN_TYPES, WEEK_INDEXES } from './graph-recurrence.ts';
import { IMPORTANCES, SENSITIVITIES, SHOW_AS } from './graph-model.ts';

const guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'a GUID');
const address = z.string().regex(/^[^@\s]+@[^@\s]+$/, 'an e-mail address');
const zoneName = z.string().refine((z0) => {
  try {
    assertTimeZone(z0);
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Europe/Helsinki');

const secretSchema = z
  .object({
    value: z.string().min(8),
    /** Date or date-time after which the secret is refused with AADSTS7000222; relative dates allowed. */
    expires: z.string().optional(),
    description: z.string().optional(),
  })
  .strict();

const certificateSchema = z
  .object({
    pem: z.string().includes('BEGIN CERTIFICATE'),
    description: z.string().optional(),
  })
  .strict();

export const APPLICATION_PERMISSIONS = ['Calendars.Read', 'Calendars.ReadWrite', 'User.Read.All', 'User.ReadBasic.All', 'Directory.Read.All'] as const;
export const DELEGATED_PERMISSIONS = ['Calendars.Read', 'Calendars.ReadWrite', 'User.Read', 'User.ReadBasic.All', 'offline_access', 'openid', 'profile', 'email'] as const;

const appSchema = z
  .object({
    clientId: guid,
    displayName: z.string().min(1),
    secrets: z.array(secretSchema).optional(),
    certificates: z.array(certificateSchema).optional(),
    /** Application permissions (app roles on Microsoft Graph) the app requests... */
    applicationPermissions: z.array(z.enum(APPLICATION_PERMISSIONS)).optional(),
    /** ...and whether an administrator granted them (without it app tokens carry no roles). Default true. */
    adminConsent: z.boolean().optional(),
    /** Delegated permissions the tenant consented to for all users (without them, sign-in fails with AADSTS65001). */
    delegatedPermissions: z.array(z.enum(DELEGATED_PERMISSIONS)).optional(),
    redirectUris: z.array(z.string().url()).optional(),
    /** "Allow public client flows": device code and auth code without a client credential. Default false. */
    publicClient: z.boolean().optional(),
    /**
     * Exchange Online's application access policy / RBAC for Applications scope: the mailboxes this app may reach with
     * application permissions ("all", the default, or a list of addresses). Outside: 403 ErrorAccessDenied.
     */
    mailboxAccess: z.union([z.literal('all'), z.array(address)]).optional(),
    comment: z.string().optional(),
  })
  .strict();

/** none: no Exchange Online mailbox; moving: being moved in or out; active; moved-away: moved to on-premises. */
export const GRAPH_MAILBOX_STATES = ['none', 'moving', 'active', 'moved-away'] as const;
export type GraphMailboxState = (typeof GRAPH_MAILBOX_STATES)[number];

export const userSchema = z
  .object({
    id: guid,
    userPrincipalName: address,
    /** Primary SMTP address (SMTP: in proxyAddresses); default the UPN. */
    mail: address.optional(),
    /** Secondary SMTP addresses (smtp: in proxyAddresses). */
    aliases: z.array(address).optional(),
    displayName: z.string().min(1),
    givenName: z.string().optional(),
    surname: z.string().optional(),
    jobTitle: z.string().optional(),
    /** For the sign-in pages (authorization code and device code flows). */
    password: z.string().min(1).optional(),
    /** Has an Exchange Online mailbox; false -> 404 MailboxNotEnabledForRESTAPI on calendar calls. Default true. */
    mailbox: z.boolean().optional(),
    /** Where the mailbox is in a move (README, "Moving mailboxes"); overrides `mailbox`. */
    mailboxState: z.enum(GRAPH_MAILBOX_STATES).optional(),
    accountEnabled: z.boolean().optional(),
    comment: z.string().optional(),
  })
  .strict();

const occurrenceRef = z.union([z.string(), z.number().int().min(1)]);

const patternSchema = z
  .object({
    type: z.enum(PATTERN_TYPES as unknown as [string, ...string[]]),
    interval: z.number().int().min(1).max(99).optional(),
    month: z.number().int().min(1).max(12).optional(),
    dayOfMonth: z.number().int().min(1).max(31).optional(),
    daysOfWeek: z.array(z.enum(DAYS_OF_WEEK as unknown as [string, ...string[]])).optional(),
    firstDayOfWeek: z.enum(DAYS_OF_WEEK as unknown as [string, ...string[]]).optional(),
    index: z.enum(WEEK_INDEXES as unknown as [string, ...string[]]).optional(),
  })
  .strict();

const rangeSchema = z
  .object({
    type: z.enum(['endDate', 'noEnd', 'numbered']),
    startDate: z.string(),
    endDate: z.string().optional(),
    numberOfOccurrences: z.number().int().min(1).max(999).optional(),
    recurrenceTimeZone: z.string().optional(),
  })
  .strict();

const contentFields = {
  subject: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  location: z.string().optional(),
  body: z.string().optional(),
  sensitivity: z.enum(SENSITIVITIES as unknown as [string, ...string[]]).optional(),
  showAs: z.enum(SHOW_AS as unknown as [string, ...string[]]).optional(),
};

const exceptionSchema = z
  .object({
    /** The occurrence: its 1-based index in the series or its original start (date-time). */
    originalStart: occurrenceRef,
    shiftMinutes: z.number().int().optional(),
    ...contentFields,
  })
  .strict();

const attendeeSchema = z.union([
  address,
  z.object({ address, type: z.enum(['required', 'optional', 'resource']).optional(), name: z.string().optional() }).strict(),
]);

const eventSchema = z
  .object({
    /** The organizer's mailbox (any of its addresses). */
    mailbox: address,
    subject: z.string(),
    start: z.string(),
    end: z.string(),
    /** IANA or Windows zone of start/end (default: the file's timeZone). */
    timeZone: z.string().optional(),
    isAllDay: z.boolean().optional(),
    location: z.string().optional(),
    body: z.string().optional(),
    bodyType: z.enum(['text', 'html']).optional(),
    sensitivity: z.enum(SENSITIVITIES as unknown as [string, ...string[]]).optional(),
    showAs: z.enum(SHOW_AS as unknown as [string, ...string[]]).optional(),
    importance: z.enum(IMPORTANCES as unknown as [string, ...string[]]).optional(),
    categories: z.array(z.string()).optional(),
    isReminderOn: z.boolean().optional(),
    reminderMinutesBeforeStart: z.number().int().min(0).optional(),
    /** Meeting: every attendee with a mailbox here gets a copy with the same iCalUId, accepted. */
    attendees: z.array(attendeeSchema).optional(),
    /** iCalendar UID (default: derived from the seed, Outlook style). */
    uid: z.string().optional(),
    recurrence: z.object({ pattern: patternSchema, range: rangeSchema }).strict().optional(),
    exceptions: z.array(exceptionSchema).optional(),
    cancelledOccurrences: z.array(occurrenceRef).optional(),
    extendedProperties: z.array(z.object({ id: z.string(), value: z.string() }).strict()).optional(),
    comment: z.string().optional(),
  })
  .strict();

export const graphSeedSchema = z
  .object({
    comment: z.string().optional(),
    timeZone: zoneName,
    tenant: z
      .object({
        id: guid,
        /** Verified domains; the first is the default. The tenant is found by GUID or any of these. */
        domains: z.array(z.string().min(3)).min(1),
        displayName: z.string().min(1),
      })
      .strict(),
    identity: z
      .object({
        accessTokenLifetimeSeconds: z.number().int().min(5).optional(),
        refreshTokenLifetimeSeconds: z.number().int().min(5).optional(),
        authorizationCodeLifetimeSeconds: z.number().int().min(5).optional(),
        deviceCodeLifetimeSeconds: z.number().int().min(5).optional(),
        deviceCodePollingIntervalSeconds: z.number().int().min(1).optional(),
      })
      .strict()
      .optional(),
    graph: z
      .object({
        /** Outlook's limit: 4 concurrent requests per app and mailbox. */
        maxConcurrentPerMailbox: z.number().int().min(1).optional(),
        /** Outlook's limit: 10,000 requests per 10 minutes per app and mailbox. */
        requestsPerWindow: z.number().int().min(1).optional(),
        windowSeconds: z.number().min(0.01).optional(),
        /** Retry-After on a 429 (seconds). */
        retryAfterSeconds: z.number().int().min(0).optional(),
        /** How many delta sync states each mailbox keeps before the oldest expire (syncStateNotFound). */
        syncStateCacheSize: z.number().int().min(1).optional(),
        /** Page size of event lists without $top or Prefer: odata.maxpagesize (Outlook's default is 10). */
        defaultPageSize: z.number().int().min(1).optional(),
        /** Added to every Graph request's processing time (lets concurrent requests overlap). */
        latencyMs: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    apps: z.array(appSchema).min(1),
    users: z.array(userSchema),
    events: z.array(eventSchema).optional(),
  })
  .strict();

export type GraphSeed = z.infer<typeof graphSeedSchema>;
export type GraphSeedApp = z.infer<typeof appSchema>;
export type GraphSeedUser = z.infer<typeof userSchema>;
export type GraphSeedEvent = z.infer<typeof eventSchema>;

export class GraphSeedError extends Error {}

/** Checks a parsed seed (structure, then cross references); throws GraphSeedError naming the field. */
export function validateGraphSeed(seed: unknown): GraphSeed {
  const parsed = graphSeedSchema.safeParse(seed);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new GraphSeedError(`Invalid Graph simulator seed:\n  ${issues.join('\n  ')}`);
  }
  const s = parsed.data;
  const seen = new Map<string, string>();
  const claim = (key: string, owner: string): void => {
    const k = key.toLowerCase();
    const prev = seen.get(k);
    if (prev && prev !== owner) throw new GraphSeedError(`Invalid Graph simulator seed: ${key} belongs to both ${prev} and ${owner}.`);
    seen.set(k, owner);
  };
  for (const u of s.users) {
    claim(u.id, u.userPrincipalName);
    claim(u.userPrincipalName, u.userPrincipalName);
    claim(u.mail ?? u.userPrincipalName, u.userPrincipalName);
    for (const a of u.aliases ?? []) claim(a, u.userPrincipalName);
  }
  const ids = new Set<string>();
  for (const a of s.apps) {
    if (ids.has(a.clientId.toLowerCase())) throw new GraphSeedError(`Invalid Graph simulator seed: app ${a.clientId} is listed twice.`);
    ids.add(a.clientId.toLowerCase());
    for (const m of a.mailboxAccess === 'all' || !a.mailboxAccess ? [] : a.mailboxAccess) {
      if (!seen.has(m.toLowerCase())) throw new GraphSeedError(`Invalid Graph simulator seed: apps '${a.displayName}' mailboxAccess names ${m}, who is not a user.`);
    }
  }
  (s.events ?? []).forEach((e, i) => {
    if (!seen.has(e.mailbox.toLowerCase())) throw new GraphSeedError(`Invalid Graph simulator seed: events.${i}.mailbox: ${e.mailbox} is not a user's address.`);
  });
  return s;
}

export function loadGraphSeed(path: string): GraphSeed {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new GraphSeedError(`Cannot read the Graph simulator seed ${path}: ${(e as Error).message}`);
  }
  return validateGraphSeed(raw);
}
