import { t } from '../common/i18n/i18n.ts';
import { reasonText } from '../common/i18n/reasons.ts';
import type { CycleReport } from '../common/sync-report.ts';
import type { CalendarConnector } from '../exchange/calendar-connector.ts';
import type { PairRecord, SyncStore } from '../store/sync-store.ts';
import type { EventFields, SideEvent } from './calendar-event.ts';
import { canonicalRule, sameOccurrenceDates } from './recurrence-rule.ts';
import { occurrenceEventAt, parseOccurrenceItemId, serverItemId } from './series-flattening.ts';
import type { SeveraPort } from './severa-port.ts';
import { SeveraSnapshot, type SeveraItem } from './severa-snapshot.ts';

/**
 * The standing agreement audit: every pair of a user compared field by field, as both sides hold it now, read straight
 * from the servers (never from what the sync remembers). Each difference comes with its story: when each side was last
 * written and by whom (the sync's own change lines in the cycle history, else the servers' last-modified times), and the
 * rule that explains it, or the plain fact that none does. The soak's agreement checker proves the engine in tests;
 * this proves it in production. Read-only: it never writes anything anywhere.
 */

export type AuditField = 'subject' | 'start' | 'end' | 'all-day' | 'location' | 'body' | 'private' | 'recurrence' | 'occurrences';

export interface AuditDifference {
  subject: string;
  start: string;
  /** A field that differs, or a side where the entry is missing. */
  what: AuditField | 'missing in Exchange' | 'missing in Severa';
  severa: string | null;
  exchange: string | null;
  /** When each side was last written, and by whom. */
  story: string;
  /** The rule that explains it; null when no rule does (then it is a problem). */
  rule: string | null;
}

export interface UserAudit {
  email: string;
  pairs: number;
  agreeing: number;
  differences: AuditDifference[];
  /** Why this user could not be audited, when it could not. */
  error?: string;
}

export interface AuditReport {
  auditedAt: string;
  users: UserAudit[];
}

export interface AuditDeps {
  severa: SeveraPort;
  calendar: CalendarConnector;
  store: SyncStore;
  now: () => Date;
}

export interface AuditOptions {
  users: Array<{ email: string }>;
  activityTypesToExchange: readonly string[];
  defaultTimeZone?: string;
}

const norm = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, ' ').trim();
const instant = (f: Pick<EventFields, 'isAllDay'>, v: string) => (f.isAllDay ? v.slice(0, 10) : new Date(Date.parse(v)).toISOString());
const ruleText = (f: EventFields) => (f.recurrence ? JSON.stringify(canonicalRule(f.recurrence)) : 'none');
const occurrenceText = (f: EventFields) =>
  f.exceptions
    .map((x) => `${x.originalStart}:${x.fields === null ? 'deleted' : `${norm(x.fields.subject)}@${instant(x.fields, x.fields.start)}`}`)
    .sort()
    .join(', ') || 'none';

/** The fields both sides carry, side by side, for the ones that differ. */
export function compareFields(severa: EventFields, exchange: EventFields): Array<{ what: AuditField; severa: string; exchange: string }> {
  const pairs: Array<[AuditField, string, string]> = [
    ['subject', norm(severa.subject), norm(exchange.subject)],
    ['all-day', String(severa.isAllDay), String(exchange.isAllDay)],
    ['start', instant(severa, severa.start), instant(exchange, exchange.start)],
    ['end', instant(severa, severa.end), instant(exchange, exchange.end)],
    ['location', norm(severa.location), norm(exchange.location)],
    ['body', norm(severa.body), norm(exchange.body)],
    ['private', String(severa.isPrivate), String(exchange.isPrivate)],
  ];
  // Two rules agree when they give the same occurrences (one side may start the pattern on an earlier day).
  const sameRule = severa.recurrence && exchange.recurrence ? sameOccurrenceDates(severa.recurrence, exchange.recurrence, 5 * 366) : severa.recurrence === exchange.recurrence;
  if (!sameRule) pairs.push(['recurrence', ruleText(severa), ruleText(exchange)]);
  const out = pairs.filter(([, s, e]) => s !== e).map(([what, s, e]) => ({ what, severa: s, exchange: e }));
  if (severa.recurrence && exchange.recurrence && occurrenceText(severa) !== occurrenceText(exchange)) {
    out.push({ what: 'occurrences', severa: occurrenceText(severa), exchange: occurrenceText(exchange) });
  }
  return out;
}

/** The sync's latest change line for this entry in the recent cycles: what wrote it last, when and why. */
function lastSyncWrite(history: readonly CycleReport[], email: string, ids: readonly string[], subject: string): string | null {
  for (const cycle of history) {
    const user = cycle.users.find((u) => u.email === email);
    const line = user?.changes.find((c) => (c.sourceId && ids.includes(c.sourceId)) || c.subject === subject);
    if (line) return t(line.side === 'severa' ? 'audit.story.wroteSevera' : 'audit.story.wroteExchange', { at: minute(cycle.finishedAt), reason: reasonText(line.reason) });
  }
  return null;
}

/** A time for people: UTC, to the minute. */
const minute = (iso: string) => (Number.isNaN(Date.parse(iso)) ? iso : `${new Date(Date.parse(iso)).toISOString().slice(0, 16).replace('T', ' ')} UTC`);

function storyOf(p: PairRecord, history: readonly CycleReport[], item: SeveraItem | null, event: SideEvent | null): string {
  const severaAt = item?.modified ?? p.severaModified;
  const exchangeAt = event?.lastModified ?? p.exchangeModified;
  const severaLater = Date.parse(severaAt) >= Date.parse(exchangeAt);
  const times = t(severaLater ? 'audit.story.severaLater' : 'audit.story.exchangeLater', { severa: minute(severaAt), exchange: minute(exchangeAt) });
  const written = lastSyncWrite(history, p.email, [p.severaGuid, p.exchangeId], p.subject);
  return t('audit.story.joined', { times, written: written ?? t('audit.story.notWritten') });
}

/** Why an activity does not go to Exchange (the mapping's stable phrases), in the current language. */
function eligibilityText(reason: string): string {
  if (reason === 'project tasks are never synced') return t('audit.rules.projectTask');
  if (reason === 'activity type not selected for Exchange') return t('audit.rules.typeNotSelected');
  return reason;
}

/** The rule that makes a difference expected, if one does. */
function ruleFor(p: PairRecord, item: SeveraItem | null, event: SideEvent | null, online: boolean): string | null {
  if (p.severaGone || p.exchangeGone) return t('audit.rules.deletionWaits');
  if (online && event && event.fields.attendees.length > 0 && event.fields.organizer === p.mailbox) {
    return t('audit.rules.onlineMeeting');
  }
  if (item && !item.eligible.ok && p.origin === 'severa') return t('audit.rules.notToExchange', { why: eligibilityText(item.eligible.reason) });
  return null;
}

/** The user's activities over the span of their pairs, in a few paged listings (an entry missing there is fetched alone). */
async function listedItems(severa: SeveraPort, snapshot: SeveraSnapshot, email: string, pairs: readonly PairRecord[]): Promise<Map<string, SeveraItem>> {
  const guid = snapshot.userByEmail(email)?.guid;
  if (!guid) return new Map();
  const starts = pairs.map((p) => Date.parse(p.start)).filter((t) => !Number.isNaN(t));
  const ends = pairs.map((p) => Date.parse(p.end)).filter((t) => !Number.isNaN(t));
  if (starts.length === 0) return new Map();
  const filter = {
    userGuids: [guid],
    includeAsMember: true,
    startDateTime: new Date(Math.min(...starts) - 2 * 86_400_000).toISOString(),
    endDateTime: new Date(Math.max(...ends, ...starts) + 2 * 86_400_000).toISOString(),
  };
  const rows = [...(await severa.listActivities(filter)), ...(await severa.listActivities({ ...filter, recurrenceType: 'Series' }))];
  return new Map((await snapshot.itemsFromRows(rows)).map((i) => [i.guid, i]));
}

export async function auditAgreement(deps: AuditDeps, options: AuditOptions): Promise<AuditReport> {
  const snapshot = new SeveraSnapshot(deps.severa, deps.store, {
    defaultTimeZone: options.defaultTimeZone ?? 'Europe/Helsinki',
    selectedTypeGuids: new Set(options.activityTypesToExchange),
    dryRun: true,
    now: deps.now,
    notes: () => undefined,
    seriesProblem: (rule) => {
      const answer: unknown = deps.calendar.recurrenceProblem?.(rule) ?? null;
      return typeof answer === 'string' ? answer : null;
    },
  });
  await snapshot.loadDirectory(options.users.map((u) => u.email));
  const history = deps.store.cycleHistory(20);
  const report: AuditReport = { auditedAt: deps.now().toISOString(), users: [] };
  for (const { email } of options.users) {
    const pairs = deps.store.pairsForUser(email);
    const audit: UserAudit = { email, pairs: pairs.length, agreeing: 0, differences: [] };
    report.users.push(audit);
    if (pairs.length === 0) continue;
    try {
      const mailbox = pairs[0].mailbox;
      const location = deps.calendar.locate ? await deps.calendar.locate(mailbox, deps.store.getUser(email)?.exchangeLocation ?? null, email) : null;
      const online = location?.location.startsWith('graph:') ?? false;
      const events = new Map((await deps.calendar.getEvents(mailbox, [...new Set(pairs.map((p) => serverItemId(p.exchangeId)))])).map((e) => [e.id, e]));
      const listed = await listedItems(deps.severa, snapshot, email, pairs);
      for (const p of pairs) {
        const ref = parseOccurrenceItemId(p.exchangeId);
        const series = events.get(ref?.seriesId ?? p.exchangeId) ?? null;
        const event = ref && series ? occurrenceEventAt(series, ref.key) : series;
        const item = listed.get(p.severaGuid) ?? (await snapshot.fetchItem(p.severaGuid));
        const found: Array<Omit<AuditDifference, 'story' | 'rule'>> = [];
        if (!event) found.push({ subject: p.subject, start: p.start, what: 'missing in Exchange', severa: item ? item.fields.subject : null, exchange: null });
        if (!item) found.push({ subject: p.subject, start: p.start, what: 'missing in Severa', severa: null, exchange: event ? event.fields.subject : null });
        if (event && item) for (const d of compareFields(item.fields, event.fields)) found.push({ subject: p.subject, start: p.start, ...d });
        if (found.length === 0) {
          audit.agreeing++;
          continue;
        }
        const story = storyOf(p, history, item, event);
        const rule = ruleFor(p, item, event, online);
        for (const d of found) audit.differences.push({ ...d, story, rule });
      }
    } catch (error) {
      audit.error = error instanceof Error ? error.message : String(error);
    }
  }
  return report;
}
