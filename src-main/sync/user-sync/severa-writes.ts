import { t } from '../../common/i18n/i18n.ts';
import type { EventFields, SideEvent } from '../calendar-event.ts';
import { contentHash } from '../event-content-hash.ts';
import { occurrenceKeyOf, occurrenceKeyOnDay } from '../recurrence-rule.ts';
import { encodeSeriesBase, seriesBaseOf } from '../series-merge.ts';
import { activityFieldPatches, activityPatches, activityToFields, categoryOf, chooseActivityType, describeFields, fieldsToActivityInput, occurrenceKey, withPatches } from '../severa-activity-mapping.ts';
import { isSeveraNotFound, type SeveraActivity, type SeveraParticipant, type SeveraPatch } from '../severa-port.ts';
import type { SeveraItem } from '../severa-snapshot.ts';
import { localToMs } from '../zoned-time.ts';
import { buildPair, exchangeSide, type Candidate } from './candidate.ts';
import { keepSeveraOccurrencesInExchange } from './exchange-writes.ts';
import { baseHash, OVERLAP_TOLERANCE_MS } from './item-helpers.ts';
import { anotherActivityOfMeeting } from './meeting-activity-lookup.ts';
import { change, dropPair, note, problem, stagePair, type UserState } from './user-sync-state.ts';
import { verifyWrite } from './verify-writes.ts';
import { announceUpdate, type CreateSeveraIntent, type JournaledItem } from './write-ahead.ts';

/**
 * The writes to Severa (called by write-decisions.ts, and by recovery for participants): create an activity from an
 * Exchange item (with its owner and participants from the meeting), update it, delete it (journaled first; a
 * participant's deletion ends only their participation), and bring a series' occurrences in line. Each adds its change
 * line before the side effect (so a dry run lists it), announces itself when a killed run would leave it unrecorded
 * (write-ahead.ts), and stages the pair it leaves.
 */

/** Who owns the activity of an Exchange item (an enrolled organizer, else the user) and who else takes part. */
function ownerFor(u: UserState, event: SideEvent): { ownerGuid: string; participantGuids: string[] } {
  const { ctx } = u;
  const me = u.userGuid;
  const organizer = event.fields.organizer?.toLowerCase() ?? null;
  const enrolledOrganizer = organizer ? ctx.enrolledByMailbox.get(organizer) : undefined;
  const ownerGuid = enrolledOrganizer?.severaGuid ?? me;
  const participants = new Set<string>();
  for (const address of [organizer, ...event.fields.attendees.map((a) => a.toLowerCase())]) {
    if (!address) continue;
    const guid = ctx.enrolledByMailbox.get(address)?.severaGuid ?? ctx.snapshot.userByEmail(address)?.guid ?? undefined;
    if (guid && guid !== ownerGuid) participants.add(guid);
  }
  if (ownerGuid !== me) participants.add(me);
  return { ownerGuid, participantGuids: [...participants] };
}

export async function createInSevera(u: UserState, c: Candidate, reason: string): Promise<void> {
  const { ctx } = u;
  const event = c.exchange.event!;
  const { ownerGuid, participantGuids } = c.pair ? { ownerGuid: c.pair.role === 'owner' ? u.userGuid : ownerFor(u, event).ownerGuid, participantGuids: ownerFor(u, event).participantGuids } : ownerFor(u, event);
  const owner = ctx.snapshot.userByGuid(ownerGuid);
  const type = chooseActivityType(event.fields.isPrivate, owner, ctx.snapshot.types);
  if (!type) {
    problem(u, { code: 'no-activity-type', message: t('engine.problems.noActivityType', { subject: event.fields.subject }), fix: t('engine.problems.noActivityTypeFix') });
    return;
  }
  const timeZone = ctx.snapshot.timeZoneOf(ownerGuid);
  const input = fieldsToActivityInput(event.fields, { ownerGuid, activityTypeGuid: type.guid, timeZone });
  change(u, { side: 'severa', action: 'create', ...describeFields(event.fields), sourceId: event.id, reason });
  if (ctx.dryRun) {
    if (event.uid) ctx.uidIndex.set(event.uid, `dry-run:${event.id}`);
    return;
  }
  const expected = activityToFields({ ...input, activityType: { guid: type.guid, category: type.category } }, { timeZone, typesByGuid: ctx.snapshot.typesByGuid }).fields;
  const intentId = ctx.newId();
  ctx.store.addIntent({
    id: intentId,
    email: u.plan.email,
    kind: 'create-severa',
    payload: { exchangeId: event.id, mailbox: u.mailbox, ownerGuid, hash: baseHash(expected), start: input.startDateTime, end: input.endDateTime ?? input.startDateTime, participantGuids, name: input.name, ...(event.uid ? { uid: event.uid } : {}) } satisfies CreateSeveraIntent,
    createdAt: ctx.now().toISOString(),
  });
  const created = await ctx.severa.createActivity(input);
  ctx.snapshot.remember(created);
  // The meeting has its activity from now on, whatever fails next in this user's sync: the other enrolled copies of
  // the meeting, synced later in this cycle, link to it instead of creating it again (this user's next cycle finds
  // it by the intent, or by the UID of the pair those copies made).
  if (event.uid && created.guid) ctx.uidIndex.set(event.uid, created.guid);
  // A new activity has no participants yet: nothing to read before adding them.
  await ensureParticipants(u, created.guid ?? '', participantGuids, true);
  let item = ctx.snapshot.toItem(created);
  if (!item) throw new Error('Severa answered the new activity without a guid.');
  if (event.fields.recurrence && event.fields.exceptions.length) item = await writeSeveraExceptions(u, item, event.fields);
  u.work.removeIntentIds.push(intentId);
  // Severa's answer is what it stored: compared with what was meant, never read again.
  verifyWrite(u, { side: 'severa', exchangeId: event.id, severaGuid: item.guid, meant: { ...expected, exceptions: expected.recurrence ? event.fields.exceptions : [] }, stored: item.fields });
  if (c.pair) dropPair(u, c.pair);
  stagePair(u, buildPair(u, { ...c, pair: null, role: ownerGuid === u.userGuid ? 'owner' : 'participant', origin: c.pair?.origin ?? 'exchange' }, item, exchangeSide(c), event.fields));
}

export async function ensureParticipants(u: UserState, activityGuid: string, userGuids: readonly string[], isNew = false): Promise<void> {
  if (!activityGuid || userGuids.length === 0) return;
  const { ctx } = u;
  const present = new Set(isNew ? [] : (await ctx.snapshot.participants(activityGuid)).map((p) => p.participantGuid));
  for (const guid of userGuids) {
    if (present.has(guid)) continue;
    const added = await ctx.severa.addParticipant(activityGuid, guid);
    ctx.snapshot.rememberParticipant(activityGuid, (added && typeof added === 'object' ? added : { participantGuid: guid }) as SeveraParticipant);
    present.add(guid);
  }
}

/** A meeting linked by UID: the user must take part in the activity. */
export async function ensureMember(u: UserState, item: SeveraItem): Promise<void> {
  if (u.ctx.dryRun || item.ownerGuid === u.userGuid) return;
  await ensureParticipants(u, item.flattenedFrom ?? item.guid, [u.userGuid]);
}

/** The activity of a PATCH answer (the API answers with a list). */
function patched(result: SeveraActivity | SeveraActivity[], guid: string, fallback: SeveraActivity | null): SeveraActivity {
  const a = (Array.isArray(result) ? (result.find((x) => x.guid === guid) ?? result[0]) : result) ?? fallback;
  if (!a) throw new Error('Severa answered the change without the activity.');
  return a;
}

/**
 * Writes the Exchange item (or `merged`, the fields a merge decided) to Severa. The activity is not read first when
 * this cycle did not read it and the entry is the user's own single activity: every field the entry carries is
 * replaced, and Severa's answer (the activity as stored) decides whether its type must follow a change of privacy.
 */
export async function updateSevera(u: UserState, c: Candidate, reason: string, merged?: EventFields): Promise<void> {
  const fields = merged ?? c.exchange.event!.fields;
  change(u, { side: 'severa', action: 'update', ...describeFields(fields), sourceId: c.exchange.event!.id, reason });
  if (u.ctx.dryRun) return;
  await writeUpdateToSevera(u, c, reason, merged);
}

/** The write of updateSevera, its change line added already (a write retargeted to another activity adds none). */
async function writeUpdateToSevera(u: UserState, c: Candidate, reason: string, merged?: EventFields): Promise<void> {
  const { ctx } = u;
  const source = c.exchange.event!;
  const event: SideEvent = merged ? { ...source, fields: merged } : source;
  const guid = c.severa.item?.guid ?? c.pair!.severaGuid;
  const unread = !c.severa.item && !event.fields.recurrence && !c.pair?.severaSeriesBase && c.pair?.role === 'owner';
  const current = c.severa.item?.activity ?? (unread ? null : await ctx.snapshot.activity(guid));
  const goneMeanwhile = async () => {
    // A meeting's activity made anew meanwhile from another attendee's copy (this cycle, or by their interrupted run):
    // the change goes there, never into a second activity (the long soak's K20 of seed 2, a third path).
    const madeMeanwhile = event.uid ? await meetingActivityMadeMeanwhile(u, event.uid, guid) : null;
    if (madeMeanwhile) {
      // The pair now holds that activity: a candidate of it as new in Severa is this very entry (write-decisions.ts).
      u.linkedMeanwhile.add(madeMeanwhile.guid);
      await ensureMember(u, madeMeanwhile);
      await writeUpdateToSevera(u, { ...c, severa: { state: 'changed', item: madeMeanwhile } }, reason, merged);
      return;
    }
    await createInSevera(u, { ...c, severa: { state: 'absent' } }, 'changed in Exchange after deletion in Severa');
  };
  if (!current && !unread) {
    // Gone meanwhile: decide again with Severa absent (the change wins over the deletion).
    await goneMeanwhile();
    return;
  }
  const ownerGuid = current ? (current.ownerUser?.guid ?? '') : u.userGuid;
  const timeZone = c.severa.item?.timeZone ?? ctx.snapshot.timeZoneOf(ownerGuid);
  const typeFor = (a: SeveraActivity): string | undefined => {
    if (event.fields.isPrivate === (categoryOf(a, ctx.snapshot.typesByGuid) === 'Personal')) return undefined;
    const type = chooseActivityType(event.fields.isPrivate, ctx.snapshot.userByGuid(a.ownerUser?.guid ?? ownerGuid), ctx.snapshot.types);
    return type?.guid && type.guid !== a.activityType?.guid ? type.guid : undefined;
  };
  const ops: SeveraPatch[] = current ? activityPatches(current, event.fields, { timeZone, activityTypeGuid: typeFor(current) }) : activityFieldPatches(event.fields, timeZone);
  const intentId = merged ? null : announceUpdate(u, 'severa', c, {
    writtenHash: contentHash(event.fields),
    writtenBase: encodeSeriesBase(seriesBaseOf(event.fields)),
    source: exchangeSide(c),
  });
  let updated: SeveraActivity | null = current;
  const sent: SeveraPatch[] = [];
  if (ops.length) {
    try {
      updated = patched(await ctx.severa.patchActivity(guid, ops), guid, current);
    } catch (err) {
      if (current || !isSeveraNotFound(err)) throw err;
      if (intentId) u.work.removeIntentIds.push(intentId);
      await goneMeanwhile();
      return;
    }
    sent.push(...ops);
    // Not read before: the answer says whether the activity's type still fits the entry's privacy.
    const typeGuid = current ? undefined : typeFor(updated);
    if (typeGuid) {
      const typeOp: SeveraPatch[] = [{ path: '/activityType/guid', value: typeGuid }];
      updated = patched(await ctx.severa.patchActivity(guid, typeOp), guid, updated);
      sent.push(...typeOp);
    }
    ctx.snapshot.remember(updated);
  }
  const activity = updated!;
  // Attendees added to the meeting in the organizer's calendar take part in the activity too (never removed here:
  // an attendee who declines keeps what they did in Severa).
  if (ownerGuid === u.userGuid && event.fields.attendees.length > 0) {
    const wanted = ownerFor(u, event).participantGuids.filter((g) => g !== u.userGuid);
    if (wanted.length) await ensureParticipants(u, guid, wanted);
  }
  let item = await ctx.snapshot.itemFor(activity);
  if (!item) throw new Error('Severa answered the updated activity without a guid.');
  if (event.fields.recurrence) item = await writeSeveraExceptions(u, item, event.fields);
  if (intentId) u.work.removeIntentIds.push(intentId);
  if (sent.length) {
    // What was meant: Severa's answer with every field the patches set as they set it.
    const meant = activityToFields(withPatches(activity, sent), { timeZone: item.timeZone, typesByGuid: ctx.snapshot.typesByGuid }).fields;
    const held = c.severa.item?.fields.exceptions ?? [];
    const before = keptBefore(held, item.fields);
    // An occurrence Severa held deleted stays so whatever was written (it cannot come back): not part of the check.
    const deletedBefore = keptBefore(held.filter((x) => x.fields === null), item.fields);
    const keyOf = (x: { originalStart: string }) => occurrenceKeyOf(x.originalStart, item.fields);
    const stored = { ...item.fields, exceptions: item.fields.exceptions.filter((x) => !deletedBefore.has(keyOf(x)) && (!before.has(keyOf(x)) || event.fields.exceptions.some((w) => w.originalStart === x.originalStart))) };
    const meantExceptions = meant.recurrence ? event.fields.exceptions.filter((w) => !deletedBefore.has(keyOf(w))) : [];
    verifyWrite(u, { side: 'severa', exchangeId: event.id, severaGuid: item.guid, meant: { ...meant, exceptions: meantExceptions }, stored });
  }
  const exchange = event.fields.recurrence ? await keepSeveraOccurrencesInExchange(u, c, item, event.fields, reason, merged !== undefined) : exchangeSide(c);
  stagePair(u, buildPair(u, c, item, exchange, event.fields));
}

/** The activity another attendee's sync made for this meeting since its activity `gone` was deleted, if any. */
async function meetingActivityMadeMeanwhile(u: UserState, uid: string, gone: string): Promise<SeveraItem | null> {
  const inCycle = u.ctx.uidIndex.get(uid);
  if (inCycle && inCycle !== gone && !inCycle.startsWith('dry-run:')) {
    const item = await u.ctx.snapshot.fetchItem(inCycle);
    if (item) return item;
  }
  const interrupted = await u.othersInterruptedCreate?.(uid);
  if (interrupted && interrupted.guid !== gone) return interrupted;
  // Made in an earlier cycle (say, the organizer's live cycle), which this one did not list as the user's change.
  return anotherActivityOfMeeting(u, uid, gone, new Set(inCycle ? [inCycle] : []));
}

/**
 * The occurrences Severa held as changed or deleted before a write, as keys of the series it holds after it: under its
 * original start, and on the same day's occurrence when the write moved the series to another time of day (Severa keeps
 * them on their days). Severa cannot make them regular again, so the write is not checked on them: they go to Exchange.
 */
function keptBefore(exceptions: EventFields['exceptions'], after: EventFields): Set<string> {
  const pattern: EventFields = { ...after, exceptions: [] };
  const keys = new Set<string>();
  for (const x of exceptions) {
    keys.add(occurrenceKeyOf(x.originalStart, after));
    const onDay = occurrenceKeyOnDay(pattern, x.originalStart);
    if (onDay !== undefined) keys.add(onDay);
  }
  return keys;
}

/**
 * Brings a Severa series' changed and deleted occurrences in line with Exchange's: an occurrence is changed by patching
 * it (Severa turns it into an exception) and deleted by deleting it. Returns the series as Severa then holds it. An
 * occurrence changed or deleted in Severa that is regular in `fields` stays as it is (Severa cannot make it regular
 * again): keepSeveraOccurrencesInExchange copies it to Exchange.
 */
async function writeSeveraExceptions(u: UserState, series: SeveraItem, fields: EventFields): Promise<SeveraItem> {
  const { snapshot } = u.ctx;
  const tz = series.timeZone;
  const isAllDay = fields.isAllDay;
  const current = new Map(series.fields.exceptions.map((x) => [occurrenceKey(x.originalStart, isAllDay, tz), x]));
  let wrote = false;
  for (const ex of fields.exceptions) {
    const key = occurrenceKey(ex.originalStart, isAllDay, tz);
    const have = current.get(key);
    if (ex.fields === null && have && have.fields === null) continue;
    // Deleted in Severa, which cannot bring an occurrence back: the deletion stands (keepSeveraOccurrencesInExchange).
    if (ex.fields !== null && have && have.fields === null) continue;
    if (ex.fields && have?.fields && contentHash({ ...have.fields, recurrence: null, exceptions: [] }) === contentHash({ ...ex.fields, recurrence: null, exceptions: [] })) continue;
    const target = await occurrenceActivity(u, series, key, isAllDay);
    if (!target?.guid) {
      note(u, t('engine.notes.occurrenceNotInSevera', { subject: fields.subject, at: ex.originalStart }));
      continue;
    }
    if (ex.fields === null) {
      await u.ctx.severa.deleteActivity(target.guid);
    } else {
      const ops = activityPatches(target, { ...ex.fields, recurrence: null, exceptions: [] }, { timeZone: tz });
      if (ops.length) await u.ctx.severa.patchActivity(target.guid, ops);
    }
    wrote = true;
  }
  if (!wrote) return series;
  snapshot.invalidate(series.guid, series.ownerGuid);
  return (await snapshot.fetchItem(series.guid)) ?? series;
}

/** The Severa activity of one occurrence of a series: its Exception activity, or the occurrence as the API lists it. */
async function occurrenceActivity(u: UserState, series: SeveraItem, key: string, isAllDay: boolean): Promise<SeveraActivity | null> {
  const rowGuid = series.exceptionRowGuids?.get(key);
  if (rowGuid) return u.ctx.snapshot.activity(rowGuid);
  const originalMs = isAllDay ? localToMs(series.timeZone, key) : Date.parse(key);
  const rows = await u.ctx.severa.listActivities({
    userGuids: [series.ownerGuid],
    recurrenceType: 'Occurrence',
    startDateTime: new Date(originalMs - OVERLAP_TOLERANCE_MS).toISOString(),
    endDateTime: new Date(originalMs + OVERLAP_TOLERANCE_MS).toISOString(),
  });
  return rows.find((r) => r.recurrenceParentActivityGuid === series.guid && Math.abs(Date.parse(r.startDateTime ?? '') - originalMs) < 1000) ?? null;
}

export async function deleteInSevera(u: UserState, c: Candidate, reason: string): Promise<void> {
  const { ctx } = u;
  const p = c.pair!;
  const activity = c.severa.item?.activity ?? (ctx.dryRun ? null : await ctx.snapshot.activity(p.severaGuid));
  const subject = activity?.name ?? p.subject;
  const start = c.severa.item?.fields.start ?? p.start;
  const owner = (activity?.ownerUser?.guid ?? (p.role === 'owner' ? u.userGuid : '')) === u.userGuid;
  change(u, { side: 'severa', action: 'delete', subject, start, sourceId: p.exchangeId, reason: owner ? reason : `${reason} (removed as participant)` });
  if (ctx.dryRun) return;
  if (!activity) {
    dropPair(u, p);
    return;
  }
  const guid = activity.guid ?? p.severaGuid;
  if (owner) {
    const participants = await ctx.snapshot.participants(guid);
    const journalId = ctx.store.journalDeletion({
      email: u.plan.email,
      side: 'severa',
      kind: 'item',
      itemId: guid,
      subject,
      start,
      reason,
      item: { side: 'severa', activity, participants, exchangeId: p.exchangeId, mailbox: u.mailbox } satisfies JournaledItem,
      deletedAt: ctx.now().toISOString(),
    });
    try {
      await ctx.severa.deleteActivity(guid);
    } catch (err) {
      if (!isSeveraNotFound(err)) {
        ctx.store.unjournal(journalId);
        throw err;
      }
    }
    ctx.snapshot.markDeleted(guid);
    u.markGone.add(guid);
  } else {
    // Only the owner deletes an activity: a participant's deletion ends their participation.
    const source = c.severa.item?.flattenedFrom ?? guid;
    const record = (await ctx.snapshot.participants(source)).find((x) => x.participantGuid === u.userGuid);
    if (record?.guid) {
      const journalId = ctx.store.journalDeletion({
        email: u.plan.email,
        side: 'severa',
        kind: 'participation',
        itemId: source,
        subject,
        start,
        reason: `${reason} (removed as participant)`,
        item: { side: 'severa', participation: { activityGuid: source, userGuid: u.userGuid, participantGuid: record.guid }, activity, exchangeId: p.exchangeId, mailbox: u.mailbox } satisfies JournaledItem,
        deletedAt: ctx.now().toISOString(),
      });
      try {
        await ctx.severa.removeParticipant(source, record.guid);
      } catch (err) {
        if (!isSeveraNotFound(err)) {
          ctx.store.unjournal(journalId);
          throw err;
        }
      }
      ctx.snapshot.forgetParticipants(source);
    }
  }
  dropPair(u, p);
}
