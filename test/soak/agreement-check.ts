import type { ActivityRec } from '../peers/severa/activity-records.ts';
import type { OutlookItem, OutlookOccurrence } from '../sync/outlook-back-door.ts';
import { localDateOf, localMs } from './firm-time.ts';
import { tokenOf, type LedgerEntry } from './soak-workload.ts';
import { TIME_ZONE, TYPES, TYPES_TO_EXCHANGE, type Person, type SyncWorld } from './sync-world.ts';

/**
 * The soak's verdict, read straight from both simulators (never from the product's own store): do Severa and every
 * enrolled mailbox agree under the sync rules, how many entries exist twice, and how many entries that no user deleted
 * are missing somewhere.
 *
 * Entries are compared as the occurrences a person sees in a calendar view (a series expanded, its changed occurrences
 * applied, its deleted ones left out), so a series kept as a series on one side and as single occurrences on the other
 * still counts as agreeing. Fields are compared after normalisation: subject, start, end (local dates for all-day
 * entries, end exclusive), all-day, location, body text and private.
 *
 * Exchange Online (a world on the Graph simulator) has one rule more: a meeting with attendees that its organizer made
 * in Outlook is never changed or deleted by the sync (Graph would mail the attendees). A change or deletion made to it
 * in Severa therefore stays in Severa: a copy that differs from Severa but matches the organizer's meeting is an
 * accepted difference, as is the organizer's meeting staying after its activity was deleted in Severa. They are
 * counted apart, never as disagreements.
 */

export interface AgreementReport {
  itemsPerSide: { severa: number; exchange: number };
  /** Items that represent an entry (or one occurrence of it) a second time on the same side / in the same mailbox. */
  duplicates: number;
  /** Entries no user deleted that are missing in Severa or in a calendar they belong in. */
  losses: number;
  /** Other disagreements: missing or extra copies of entries a user deleted or changed, different fields. */
  mismatches: number;
  /** Project tasks found in an Exchange calendar (a rule: never). */
  tasksInExchange: number;
  /** Items with no workload token (something nobody created). */
  untracked: number;
  details: { duplicates: string[]; losses: string[]; mismatches: string[] };
  /** Exchange Online: differences the Graph rules call for (meetings left to Outlook), with what they are. */
  accepted: string[];
}

interface Instance {
  start: number | string;
  end: number | string;
  allDay: boolean;
  subject: string;
  location: string;
  body: string;
  isPrivate: boolean;
}

const norm = (s: string | null | undefined) => (s ?? '').replace(/\r\n?/g, '\n').replace(/\s+/g, ' ').trim();

function instanceKey(i: Instance): string {
  return JSON.stringify([i.start, i.end, i.allDay, i.subject, i.location, i.body, i.isPrivate]);
}

function describe(i: Instance): string {
  const when = typeof i.start === 'number' ? new Date(i.start).toISOString() : i.start;
  const until = typeof i.end === 'number' ? new Date(i.end).toISOString() : i.end;
  return `"${i.subject}" ${when}..${until}${i.allDay ? ' all-day' : ''}${i.location ? ` @${i.location}` : ''}${i.body ? ` body "${i.body}"` : ''}${i.isPrivate ? ' private' : ''}`;
}

/** Severa's all-day convention: an end at local midnight is exclusive; an end inside a day means through that day. */
function severaAllDayEnd(startMs: number, endMs: number): string {
  const end = localDateOf(endMs);
  const local = new Date(endMs).toLocaleTimeString('en-GB', { timeZone: TIME_ZONE, hour12: false });
  const atMidnight = local === '00:00:00' || local === '24:00:00';
  const exclusive = atMidnight ? end : localDateOf(Date.parse(`${end}T12:00:00Z`) + 86_400_000);
  return exclusive <= localDateOf(startMs) ? localDateOf(Date.parse(`${localDateOf(startMs)}T12:00:00Z`) + 86_400_000) : exclusive;
}

function severaInstance(rec: Pick<ActivityRec, 'name' | 'isAllDay' | 'location' | 'notes' | 'typeGuid'>, startMs: number, endMs: number): Instance {
  return {
    start: rec.isAllDay ? localDateOf(startMs) : startMs,
    end: rec.isAllDay ? severaAllDayEnd(startMs, endMs) : endMs,
    allDay: rec.isAllDay,
    subject: norm(rec.name),
    location: norm(rec.location),
    body: norm(rec.notes),
    isPrivate: rec.typeGuid === TYPES.personal,
  };
}

/** One entry of a mailbox's calendar view (bodies come as text from the back door). */
function exchangeInstance(o: OutlookOccurrence): Instance {
  const zone = o.timeZone || TIME_ZONE;
  return {
    start: o.isAllDay ? localDateOf(o.start, zone) : o.start,
    end: o.isAllDay ? localDateOf(o.end, zone) : o.end,
    allDay: o.isAllDay,
    subject: norm(o.subject),
    location: norm(o.location),
    body: norm(o.body),
    isPrivate: o.isPrivate,
  };
}

/** A meeting with attendees its organizer made in Outlook: on Exchange Online the sync never changes or deletes it. */
const isOrganizersMeeting = (i: OutlookItem) => i.isOrganizer && i.attendees.length > 0 && !i.isCancelled;

const startOf = (i: Instance) => String(i.start);

/** Items whose occurrences repeat an earlier item's (same token, same start): the extra copies. */
function extraCopies<T>(items: T[], instancesOf: (t: T) => Instance[]): T[] {
  const seen = new Set<string>();
  const extra: T[] = [];
  for (const item of items) {
    const starts = instancesOf(item).map(startOf);
    if (starts.some((s) => seen.has(s))) extra.push(item);
    for (const s of starts) seen.add(s);
  }
  return extra;
}

function sameInstances(a: Instance[], b: Instance[]): { equal: boolean; onlyA: Instance[]; onlyB: Instance[] } {
  const count = new Map<string, number>();
  for (const i of a) count.set(instanceKey(i), (count.get(instanceKey(i)) ?? 0) + 1);
  const onlyB: Instance[] = [];
  for (const i of b) {
    const k = instanceKey(i);
    const n = count.get(k) ?? 0;
    if (n > 0) count.set(k, n - 1);
    else onlyB.push(i);
  }
  const onlyA = a.filter((i) => {
    const k = instanceKey(i);
    const n = count.get(k) ?? 0;
    if (n > 0) {
      count.set(k, n - 1);
      return true;
    }
    return false;
  });
  return { equal: onlyA.length === 0 && onlyB.length === 0, onlyA, onlyB };
}

export function checkAgreement(world: Pick<SyncWorld, 'exchange' | 'outlook' | 'severa' | 'people' | 'today'>, ledger: ReadonlyMap<string, LedgerEntry>, opts: { windowDaysAhead?: number } = {}): AgreementReport {
  const windowStart = localMs(world.today, 0);
  const windowEnd = Date.now() + (opts.windowDaysAhead ?? 60) * 86_400_000;
  const lastDate = localDateOf(windowEnd);
  const inWindow = (i: Instance) => (typeof i.start === 'number' ? i.start >= windowStart && i.start < windowEnd : i.start >= world.today && i.start < lastDate);
  const report: AgreementReport = {
    itemsPerSide: { severa: 0, exchange: 0 },
    duplicates: 0,
    losses: 0,
    mismatches: 0,
    tasksInExchange: 0,
    untracked: 0,
    details: { duplicates: [], losses: [], mismatches: [] },
    accepted: [],
  };
  const dup = (m: string) => (report.duplicates++, report.details.duplicates.push(m));
  const loss = (m: string) => (report.losses++, report.details.losses.push(m));
  const mismatch = (m: string) => (report.mismatches++, report.details.mismatches.push(m));

  // ---- Severa: activities (single ones and series masters) by token, with their occurrences -------------------------
  const store = world.severa.store;
  const stored = store.allStored();
  const occurrences = new Map<string, number[]>();
  for (const view of store.listActivities({ recurrenceType: 'Occurrence' }, null, 1_000_000).items) {
    if (view.occurrenceStartMs === null) continue;
    const list = occurrences.get(view.rec.guid) ?? [];
    list.push(view.occurrenceStartMs);
    occurrences.set(view.rec.guid, list);
  }
  const severaInstances = (rec: ActivityRec): Instance[] => {
    const endMs = rec.endMs ?? rec.startMs;
    if (rec.kind !== 'Series') return [severaInstance(rec, rec.startMs, endMs)];
    const out = (occurrences.get(rec.guid) ?? []).map((s) => severaInstance(rec, s, s + (endMs - rec.startMs)));
    for (const ex of stored) if (ex.kind === 'Exception' && ex.seriesGuid === rec.guid) out.push(severaInstance(ex, ex.startMs, ex.endMs ?? ex.startMs));
    return out;
  };
  const severaByToken = new Map<string, ActivityRec[]>();
  for (const rec of stored) {
    if (rec.kind === 'Exception') continue;
    report.itemsPerSide.severa++;
    const token = tokenOf(rec.name);
    if (!token) {
      report.untracked++;
      mismatch(`Severa activity "${rec.name}" (${rec.guid}) belongs to no entry a user created.`);
      continue;
    }
    const list = severaByToken.get(token) ?? [];
    list.push(rec);
    severaByToken.set(token, list);
  }

  // ---- Exchange: items per enrolled mailbox by token, with what each mailbox's calendar view shows of them -----------
  const exchangeByToken = new Map<string, Map<Person, OutlookItem[]>>();
  const viewOf = new Map<OutlookItem, Instance[]>();
  const exchangeInstances = (i: OutlookItem) => viewOf.get(i) ?? [];
  for (const person of world.people) {
    const items = world.outlook.items(person.mailbox);
    const byId = new Map(items.map((i) => [i.id, i]));
    for (const o of world.outlook.view(person.mailbox, windowStart - 7 * 86_400_000, windowEnd)) {
      const item = byId.get(o.itemId);
      if (item) viewOf.set(item, [...(viewOf.get(item) ?? []), exchangeInstance(o)]);
    }
    report.itemsPerSide.exchange += items.length;
    const byTag = new Map<string, OutlookItem[]>();
    for (const item of items) {
      const tag = item.syncTag;
      if (tag) byTag.set(tag, [...(byTag.get(tag) ?? []), item]);
      const token = tokenOf(item.subject);
      if (!token) {
        report.untracked++;
        mismatch(`Exchange item "${item.subject}" in ${person.mailbox} belongs to no entry a user created.`);
        continue;
      }
      const perPerson = exchangeByToken.get(token) ?? new Map<Person, OutlookItem[]>();
      perPerson.set(person, [...(perPerson.get(person) ?? []), item]);
      exchangeByToken.set(token, perPerson);
    }
    for (const [tag, tagged] of byTag) {
      // Two items carrying one activity's tag, whatever their subjects say now.
      if (tagged.length > 1 && new Set(tagged.map((i) => tokenOf(i.subject))).size > 1) dup(`${person.mailbox}: ${tagged.length} items carry the sync tag ${tag} (${tagged.map((i) => `"${i.subject}"`).join(', ')}).`);
    }
  }

  const tokens = new Set<string>([...ledger.keys(), ...severaByToken.keys(), ...exchangeByToken.keys()]);
  for (const token of tokens) {
    const entry = ledger.get(token);
    const recs = severaByToken.get(token) ?? [];
    const perPerson = exchangeByToken.get(token) ?? new Map<Person, OutlookItem[]>();
    const live = entry !== undefined && !entry.deletedByUser;
    const history = entry ? ` [${entry.history.join(' | ')}]` : '';
    // Exchange Online: the organizer's meeting with attendees, which Outlook alone changes (null elsewhere).
    const organizers = world.exchange === 'graph' ? [...perPerson.values()].flat().filter(isOrganizersMeeting) : [];
    const leftToOutlook = organizers.length === 1 ? organizers[0] : null;
    const accept = (m: string) => report.accepted.push(`${m}${history}`);

    // Duplicates.
    const severaExtra = extraCopies(recs, (r) => severaInstances(r));
    for (const r of severaExtra) dup(`Severa holds ${token} more than once: "${r.name}" (${r.guid}) repeats another activity's occurrence.${history}`);
    const exchangeExtra = new Map<Person, OutlookItem[]>();
    for (const [person, items] of perPerson) {
      const extra = extraCopies(items, exchangeInstances);
      exchangeExtra.set(person, extra);
      for (const i of extra) dup(`${person.mailbox} holds ${token} more than once: "${i.subject}" (${i.syncTag ?? 'no tag'}).${history}`);
    }

    // Losses: entries nobody deleted must be in Severa and in the calendars of the people they belong to.
    if (live && recs.length === 0) loss(`${token} is missing in Severa.${history}`);
    if (live && !entry.neverToExchange) {
      for (const person of [entry.owner, ...entry.members]) {
        if (!(perPerson.get(person)?.length)) loss(`${token} is missing in the Exchange calendar of ${person.mailbox}.${history}`);
      }
    }

    // Agreement under the sync rules.
    if (recs.length === 0) {
      for (const [person, items] of perPerson) {
        if (!items.length || live) continue;
        if (items.every((i) => i === leftToOutlook)) accept(`${token}: deleted in Severa, the meeting stays in the calendar of its organizer ${person.mailbox} (Exchange Online would mail its attendees).`);
        else mismatch(`${token} is in the Exchange calendar of ${person.mailbox} but not in Severa.${history}`);
      }
      continue;
    }
    const rec = recs[0];
    const inScope = TYPES_TO_EXCHANGE.includes(rec.typeGuid as (typeof TYPES_TO_EXCHANGE)[number]);
    const memberGuids = new Set([rec.ownerGuid, ...(rec.participants ?? []).map((p) => p.userGuid)]);
    const wanted = recs.flatMap((r) => severaInstances(r)).filter(inWindow);
    const outlooks = leftToOutlook ? exchangeInstances(leftToOutlook).filter(inWindow) : null;
    for (const person of world.people) {
      const items = perPerson.get(person) ?? [];
      const expected = inScope && memberGuids.has(person.severaGuid);
      if (!expected) {
        if (items.length) {
          if (rec.typeGuid === TYPES.projectTask) report.tasksInExchange++;
          mismatch(`${token} is in the Exchange calendar of ${person.mailbox} but ${inScope ? `${person.first} is neither owner nor participant in Severa` : `its Severa type ${rec.typeGuid} does not go to Exchange`}.${history}`);
        }
        continue;
      }
      if (items.length === 0) {
        const countedAsLoss = live && !entry.neverToExchange && (person === entry.owner || entry.members.has(person));
        if (!countedAsLoss) mismatch(`${token} is missing in the Exchange calendar of ${person.mailbox} (${person.first} takes part in Severa).${history}`);
        continue;
      }
      if ((exchangeExtra.get(person)?.length ?? 0) > 0 || severaExtra.length > 0) continue;
      const got = items.flatMap(exchangeInstances).filter(inWindow);
      const cmp = sameInstances(wanted, got);
      if (cmp.equal) continue;
      if (outlooks && sameInstances(outlooks, got).equal) {
        accept(`${token}: ${person.mailbox} has the organizer's meeting as Outlook has it; Severa holds ${cmp.onlyA.map(describe).join('; ') || '-'}.`);
        continue;
      }
      mismatch(`${token} differs between Severa and ${person.mailbox}: only in Severa ${cmp.onlyA.map(describe).join('; ') || '-'}; only in Exchange ${cmp.onlyB.map(describe).join('; ') || '-'}.${history}`);
    }
  }
  return report;
}
