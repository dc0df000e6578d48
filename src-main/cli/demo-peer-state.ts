import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomically } from '../runner/runner-state-file.ts';
import type { EwsSeed, EwsSimulator, SimCalendarItem } from '../../test/peers/ews/ews-simulator.ts';
import { decodeItemId } from '../../test/peers/ews/item-ids.ts';
import type { SeveraSeed, SeveraSimulator } from '../../test/peers/severa/severa-simulator.ts';
import type { ActivityRec } from '../../test/peers/severa/activity-store.ts';

/**
 * Keeps the demo simulators' state between two `--demo` runs, beside the sync store, so the second run continues where
 * the first stopped (and reports no changes).
 *
 * The simulators have no state export of their own yet, so the state is saved as seed files written from their back
 * doors and loaded as seeds next time:
 * - Severa: every stored activity with its guid, owner, participants, series exceptions and timestamps (the seed format
 *   carries all of them), so changedSince positions stay valid.
 * - Exchange: item ids are not part of the seed format, but the simulator numbers each mailbox's items in creation
 *   order; the seed is ordered so every item gets its old number back (a meeting's attendee copies are made with the
 *   organizer's item, and gaps left by deleted items are filled with placeholders deleted right after the start).
 *   What cannot come back: sync states (signed with a key each simulator run draws anew) and ChangeKeys, so the sync
 *   reads each mailbox once in full and matches it with its pairs, and the report says so.
 */

const STATE_DIR = 'demo-peers';
const EWS_FILE = 'ews-seed.json';
const SEVERA_FILE = 'severa-seed.json';
const PLACEHOLDER_SUBJECT = '(demo state placeholder)';

export interface SavedDemoPeers {
  ews: EwsSeed;
  severa: SeveraSeed;
  afterStart(peers: { ews: EwsSimulator; severa: SeveraSimulator }): Promise<void> | void;
}

export function loadDemoPeerState(dataDir: string, warn: (line: string) => void = () => {}): SavedDemoPeers | null {
  const dir = join(dataDir, STATE_DIR);
  if (!existsSync(join(dir, EWS_FILE)) || !existsSync(join(dir, SEVERA_FILE))) return null;
  let ews: EwsSeed;
  let severa: SeveraSeed;
  let expected: Record<string, Array<{ id: string; uid: string }>>;
  try {
    const saved = JSON.parse(readFileSync(join(dir, EWS_FILE), 'utf8')) as { seed: EwsSeed; expected: typeof expected };
    ews = saved.seed;
    expected = saved.expected ?? {};
    severa = JSON.parse(readFileSync(join(dir, SEVERA_FILE), 'utf8')) as SeveraSeed;
  } catch (error) {
    throw new Error(`The saved demo state in ${dir} cannot be read (${(error as Error).message}); delete ${dataDir} to start the demo afresh.`);
  }
  return {
    ews,
    severa,
    afterStart({ ews: sim }) {
      let mismatched = 0;
      for (const [mailbox, items] of Object.entries(expected)) {
        const box = sim.mailbox(mailbox);
        for (const item of box.items()) if (item.subject === PLACEHOLDER_SUBJECT) box.delete(item.id);
        const byId = new Map(box.items().map((i) => [i.id, i.uid]));
        mismatched += items.filter((i) => byId.get(i.id) !== i.uid).length;
      }
      if (mismatched > 0) warn(`Demo: ${mismatched} Exchange item(s) could not get their old ids back; the sync treats them as new.`);
    },
  };
}

export function saveDemoPeerState(dataDir: string, peers: { ews: EwsSimulator; severa: SeveraSimulator; ewsSeed: EwsSeed; severaSeed: SeveraSeed }): void {
  const dir = join(dataDir, STATE_DIR);
  const { seed, expected } = ewsSnapshot(peers.ews, peers.ewsSeed);
  writeJsonAtomically(join(dir, EWS_FILE), { seed, expected });
  writeJsonAtomically(join(dir, SEVERA_FILE), severaSnapshot(peers.severa, peers.severaSeed));
}

// ---------- Severa ----------

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function severaSnapshot(sim: SeveraSimulator, original: SeveraSeed): SeveraSeed {
  const stored = sim.store.allStored();
  const exceptionsBySeries = new Map<string, ActivityRec[]>();
  for (const rec of stored) {
    if (rec.kind === 'Exception' && rec.seriesGuid) exceptionsBySeries.set(rec.seriesGuid, [...(exceptionsBySeries.get(rec.seriesGuid) ?? []), rec]);
  }
  const activities = stored
    .filter((rec) => rec.kind !== 'Exception')
    .map((rec) => {
      const exceptions: NonNullable<SeveraSeed['activities']>[number]['exceptions'] = [];
      if (rec.kind === 'Series') {
        const changed = new Map((exceptionsBySeries.get(rec.guid) ?? []).map((e) => [e.originalStartMs, e]));
        const starts = new Set([...(rec.removedStarts ?? []), ...(rec.exceptionGuids?.keys() ?? [])]);
        for (const start of [...starts].sort((a, b) => a - b)) {
          const e = changed.get(start);
          exceptions.push(
            e
              ? { originalStart: iso(start), name: e.name, start: iso(e.startMs), ...(e.endMs !== null ? { end: iso(e.endMs) } : {}), notes: e.notes, location: e.location }
              : { originalStart: iso(start), deleted: true },
          );
        }
      }
      const recurrence = rec.recurrence ? { frequency: rec.recurrence.frequency, pattern: rec.recurrence.pattern ?? null, range: rec.recurrence.range ?? null } : null;
      return {
        guid: rec.guid,
        name: rec.name,
        activityTypeGuid: rec.typeGuid,
        ownerGuid: rec.ownerGuid,
        start: iso(rec.startMs),
        end: rec.endMs === null ? null : iso(rec.endMs),
        isAllDay: rec.isAllDay,
        notes: rec.notes,
        location: rec.location,
        isClosed: rec.isClosed,
        participants: (rec.participants ?? []).map((p) => p.userGuid),
        recurrence,
        exceptions,
        createdDateTime: iso(rec.createdMs),
        lastUpdatedDateTime: iso(rec.updatedMs),
      };
    });
  return { ...original, activities };
}

// ---------- Exchange ----------

type SeedItem = NonNullable<EwsSeed['items']>[number];

function seedItemOf(item: SimCalendarItem): SeedItem {
  const out: SeedItem = {
    mailbox: item.mailbox,
    subject: item.subject,
    start: item.start,
    end: item.end,
    isAllDay: item.isAllDay,
    timeZone: item.timeZone,
    location: item.location,
    body: item.body,
    bodyType: item.bodyType,
    sensitivity: item.sensitivity,
    legacyFreeBusyStatus: item.legacyFreeBusyStatus,
    categories: item.categories,
    requiredAttendees: item.requiredAttendees,
    optionalAttendees: item.optionalAttendees,
    uid: item.uid,
    extendedProperties: item.extendedProperties,
    reminderMinutesBeforeStart: item.reminderMinutesBeforeStart,
  };
  if (item.recurrence) {
    out.recurrence = item.recurrence as SeedItem['recurrence'];
    out.deletedOccurrences = item.deletedOccurrences;
    out.modifiedOccurrences = item.modifiedOccurrences.map((o) => {
      const { lastModifiedTime: _notSeedable, bodyType: _alsoNot, ...rest } = o;
      return rest;
    });
  }
  return out;
}

function placeholder(mailbox: string): SeedItem {
  return { mailbox, subject: PLACEHOLDER_SUBJECT, start: '2000-01-01T00:00:00Z', end: '2000-01-01T00:30:00Z' };
}

/**
 * Orders the seed so each mailbox's items come back with their old numbers: a slot is an own item, a meeting copy (made
 * with its organizer's item) or a gap (a placeholder). Items whose slot cannot be reproduced are still seeded, later.
 */
function ewsSnapshot(sim: EwsSimulator, original: EwsSeed): { seed: EwsSeed; expected: Record<string, Array<{ id: string; uid: string }>> } {
  const mailboxes = original.mailboxes.map((m) => m.primarySmtp.toLowerCase());
  const known = new Set(mailboxes);
  const slots = new Map<string, Map<number, SimCalendarItem>>();
  const expected: Record<string, Array<{ id: string; uid: string }>> = {};
  for (const m of mailboxes) {
    const byNumber = new Map<number, SimCalendarItem>();
    for (const item of sim.mailbox(m).items()) {
      const decoded = decodeItemId(item.id);
      if (decoded) byNumber.set(decoded.number, item);
    }
    slots.set(m, byNumber);
    expected[m] = [...byNumber.values()].map((i) => ({ id: i.id, uid: i.uid }));
  }
  const isCopy = (m: string, item: SimCalendarItem) => item.organizer.toLowerCase() !== m && known.has(item.organizer.toLowerCase());
  const attendeesOf = (item: SimCalendarItem) =>
    [...new Set([...item.requiredAttendees, ...item.optionalAttendees].map((a) => a.toLowerCase()))].filter((a) => known.has(a) && a !== item.mailbox.toLowerCase());
  // The copy of `item` in mailbox `a`, found by UID.
  const copyNumber = (a: string, uid: string): number | null => {
    for (const [n, i] of slots.get(a)!) if (i.uid === uid && isCopy(a, i)) return n;
    return null;
  };

  const next = new Map(mailboxes.map((m) => [m, 1]));
  const last = new Map(mailboxes.map((m) => [m, Math.max(0, ...slots.get(m)!.keys())]));
  const items: SeedItem[] = [];
  const done = (m: string) => next.get(m)! > last.get(m)!;
  let guard = 0;
  while (!mailboxes.every(done) && guard++ < 1_000_000) {
    let progressed = false;
    for (const m of mailboxes) {
      while (!done(m)) {
        const n = next.get(m)!;
        const item = slots.get(m)!.get(n);
        if (!item) {
          items.push(placeholder(m));
          next.set(m, n + 1);
          progressed = true;
          continue;
        }
        if (isCopy(m, item)) break; // made with its organizer's item
        const copies = attendeesOf(item).map((a) => [a, copyNumber(a, item.uid)] as const);
        if (!copies.every(([a, c]) => c === null || c === next.get(a))) break;
        items.push(seedItemOf(item));
        next.set(m, n + 1);
        for (const [a, c] of copies) if (c !== null) next.set(a, c + 1);
        progressed = true;
      }
    }
    if (!progressed) {
      // A numbering the seed cannot reproduce (e.g. an attendee removed their copy): seed the blocking item anyway.
      const m = mailboxes.find((x) => !done(x))!;
      const item = slots.get(m)!.get(next.get(m)!)!;
      if (!isCopy(m, item)) items.push(seedItemOf(item));
      next.set(m, next.get(m)! + 1);
    }
  }
  return { seed: { ...original, items }, expected };
}
