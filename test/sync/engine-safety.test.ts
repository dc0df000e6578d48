import { describe, expect, it } from 'vitest';
import { CalendarError } from '../../src-main/exchange/calendar-connector.ts';
import { listDeletions, restoreDeletion, RestoreError } from '../../src-main/sync/deletion-restore.ts';
import { fields } from './fakes/fake-calendar.ts';
import { AINO, at, JUSSI, MIKKO, SARA, TYPE, World } from './fakes/demo-world.ts';
import { seedBothSides } from './fakes/both-sides-seed.ts';

function seedMany(w: World, n: number, owner = AINO) {
  const created = [];
  for (let i = 0; i < n; i++) {
    created.push(w.severa.userCreate({ name: `Item ${i}`, startDateTime: at(1 + (i % 20), '09:00'), endDateTime: at(1 + (i % 20), '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: owner.guid } }));
  }
  return created;
}

describe('mass-deletion guard', () => {
  it('holds deletions above both limits, reports them, and carries them out once confirmed', async () => {
    const w = new World({ enrol: [AINO] });
    const acts = seedMany(w, 30);
    w.calendar.userCreate(AINO.email, fields({ subject: 'Unrelated', start: at(2, '12:00'), end: at(2, '13:00') }));
    await w.cycle();
    expect(w.calendar.items(AINO.email)).toHaveLength(31);
    for (const a of acts.slice(0, 12)) w.severa.userDelete(a.guid!);
    const held = await w.cycle();
    const aino = held.users[0];
    expect(aino.heldDeletions).toBe(12);
    expect(aino.outcome).toBe('partial');
    expect(aino.errors).toContainEqual(expect.objectContaining({ code: 'mass-deletion-held', fix: expect.stringMatching(/confirm-deletions/) }));
    expect(w.calendar.items(AINO.email)).toHaveLength(31);
    // Still held next cycle without confirmation (the deletions are remembered, not forgotten).
    const again = await w.cycle();
    expect(again.users[0].heldDeletions).toBe(12);
    expect(w.calendar.items(AINO.email)).toHaveLength(31);
    const confirmed = await w.cycle({ confirmDeletions: true });
    expect(confirmed.users[0].toExchange.deleted).toBe(12);
    expect(w.calendar.items(AINO.email)).toHaveLength(19);
    expect(w.store.listJournal()).toHaveLength(12);
  });

  it('does not hold a deletion count under either limit', async () => {
    const w = new World({ enrol: [AINO] });
    const acts = seedMany(w, 30);
    await w.cycle();
    // 11 > 10 items but 11/30 = 36 % > 20 %: held; 10 items: not held.
    for (const a of acts.slice(0, 10)) w.severa.userDelete(a.guid!);
    const r = await w.cycle();
    expect(r.users[0].heldDeletions).toBe(0);
    expect(w.calendar.items(AINO.email)).toHaveLength(20);
  });

  it('an emptied side stops the user instead of emptying the other side', async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    seedMany(w, 5);
    w.calendar.userCreate(MIKKO.email, fields({ subject: 'Mikko own', start: at(2, '12:00'), end: at(2, '13:00') }));
    await w.cycle();
    expect(w.severa.all()).toHaveLength(6);
    for (const e of w.calendar.items(AINO.email)) w.calendar.userDelete(AINO.email, e.id);
    const r = await w.cycle();
    const aino = r.users.find((u) => u.email === AINO.email)!;
    expect(aino.outcome).toBe('failed');
    expect(aino.errors).toContainEqual(expect.objectContaining({ code: 'side-emptied' }));
    expect(w.severa.all()).toHaveLength(6);
    expect(r.users.find((u) => u.email === MIKKO.email)?.outcome).toBe('ok');
    // Nothing was committed for Aino: the next cycle stops again; a confirmed one deletes.
    expect((await w.cycle()).users.find((u) => u.email === AINO.email)?.outcome).toBe('failed');
    const confirmed = await w.cycle({ confirmDeletions: true });
    expect(confirmed.users.find((u) => u.email === AINO.email)!.toSevera.deleted).toBe(5);
    expect(w.severa.all().map((a) => a.name)).toEqual(['Mikko own']);
  });
});

describe('deletion journal and restore', () => {
  it('journals every deletion with the full item and restores on both sides', async () => {
    const w = new World({ enrol: [AINO] });
    const s = w.severa.userCreate({ name: 'Severa item', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid }, notes: 'keep this text', location: 'HQ' });
    const x = w.calendar.userCreate(AINO.email, fields({ subject: 'Exchange item', start: at(2, '09:00'), end: at(2, '10:00'), body: 'exchange text' }));
    await w.cycle();
    w.severa.userDelete(s.guid!);
    w.calendar.userDelete(AINO.email, x.id);
    await w.cycle();
    const listed = listDeletions(w.store);
    expect(listed.map((l) => [l.side, l.subject, l.reason])).toEqual(expect.arrayContaining([
      ['exchange', 'Severa item', 'deleted in Severa'],
      ['severa', 'Exchange item', 'deleted in Exchange'],
    ]));
    const deps = { severa: w.severa, calendar: w.calendar, store: w.store, now: () => new Date(w.clock) };
    for (const entry of listed) {
      const result = await restoreDeletion(deps, entry.id);
      expect(result.side).toBe(entry.side);
    }
    expect(w.calendar.bySubject(AINO.email, 'Severa item')[0].fields).toMatchObject({ body: 'keep this text', location: 'HQ' });
    expect(w.severa.byName('Exchange item')[0]).toMatchObject({ notes: 'exchange text', ownerUser: { guid: AINO.guid } });
    await expect(restoreDeletion(deps, listed[0].id)).rejects.toThrow(/already restored/);
    await expect(restoreDeletion(deps, 999)).rejects.toThrow(RestoreError);
    expect(listDeletions(w.store)).toEqual([]);
    expect(listDeletions(w.store, { includeRestored: true })).toHaveLength(2);
    // The next cycles bring each restored item to the other side again, once.
    await w.cycle();
    await w.cycle();
    expect(w.severa.byName('Severa item')).toHaveLength(1);
    expect(w.calendar.bySubject(AINO.email, 'Exchange item')).toHaveLength(1);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });

  it('restores a participation the sync ended', async () => {
    const w = new World();
    const s = w.severa.userCreate({ name: 'Visit', startDateTime: at(3, '10:00'), endDateTime: at(3, '12:00'), activityType: { guid: TYPE.customerVisit }, ownerUser: { guid: AINO.guid }, participants: [MIKKO.guid] } as never);
    await w.cycle();
    const [copy] = w.calendar.bySubject(MIKKO.email, 'Visit');
    w.calendar.userDelete(MIKKO.email, copy.id);
    await w.cycle();
    expect(w.severa.participantsOf(s.guid!)).toEqual([]);
    const [entry] = listDeletions(w.store);
    expect(entry.kind).toBe('participation');
    await restoreDeletion({ severa: w.severa, calendar: w.calendar, store: w.store, now: () => new Date(w.clock) }, entry.id);
    expect(w.severa.participantsOf(s.guid!)).toEqual([MIKKO.guid]);
    await w.cycle();
    expect(w.calendar.bySubject(MIKKO.email, 'Visit')).toHaveLength(1);
  });
});

describe('dry run', () => {
  it('computes the changes, reports them, and changes nothing anywhere (not the store either)', async () => {
    const w = new World();
    seedBothSides(w);
    w.calendar.userMeeting(AINO.email, [MIKKO.email], fields({ subject: 'Shared', start: at(3, '09:00'), end: at(3, '10:00') }));
    const dump = () => JSON.stringify({ users: w.store.listUsers(), pairs: [w.store.pairsForUser(AINO.email), w.store.pairsForUser(MIKKO.email)], j: w.store.listJournal(), c: w.store.cycleHistory(), i: w.store.intentsForUser(AINO.email) });
    const before = { severa: w.severa.all(), exchange: [w.calendar.items(AINO.email), w.calendar.items(MIKKO.email)], store: dump() };
    const r = await w.cycle({ dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(w.writes()).toBe(0);
    expect({ severa: w.severa.all(), exchange: [w.calendar.items(AINO.email), w.calendar.items(MIKKO.email)], store: dump() }).toEqual(before);
    const lines = r.users.flatMap((u) => u.changes.map((c) => `${u.email}|${c.side}|${c.action}|${c.subject}`)).sort();
    expect(lines).toEqual([
      `${AINO.email}|exchange|create|Severa A`,
      `${AINO.email}|exchange|create|Severa B`,
      `${AINO.email}|severa|create|Exchange C`,
      `${AINO.email}|severa|create|Shared`,
      `${MIKKO.email}|severa|create|Exchange D`,
    ]);
    // The real run does exactly what the preview said.
    const real = await w.cycle();
    expect(real.users.flatMap((u) => u.changes.map((c) => `${u.email}|${c.side}|${c.action}|${c.subject}`)).sort()).toEqual(lines);
  });
});

describe('fault tolerance', () => {
  it('an invalid Exchange sync state: resync from scratch keeps the pairs, no duplicates', async () => {
    const w = new World({ enrol: [AINO] });
    seedBothSides(w);
    await w.cycle();
    const pairs = w.store.pairsForUser(AINO.email).map((p) => p.id);
    w.calendar.invalidateSyncStates(AINO.email);
    w.resetCalls();
    const r = await w.cycle();
    expect(r.users[0].outcome).toBe('ok');
    expect(r.users[0].notes.join(' ')).toMatch(/no longer accepted the sync position/);
    expect(w.writes()).toBe(0);
    expect(w.store.pairsForUser(AINO.email).map((p) => p.id)).toEqual(pairs);
    expect(w.calendar.items(AINO.email).map((e) => e.fields.subject).sort()).toEqual(['Exchange C', 'Severa A', 'Severa B']);
    expect(w.severa.all().map((a) => a.name).sort()).toEqual(['Exchange C', 'Severa A', 'Severa B']);
  });

  it('a full read that lists only a window (as Graph does): a paired item outside it is looked up, never taken for deleted', async () => {
    const w = new World({ enrol: [AINO] });
    seedBothSides(w);
    await w.cycle();
    const [c] = w.calendar.bySubject(AINO.email, 'Exchange C');
    const [b] = w.calendar.bySubject(AINO.email, 'Severa B');
    w.calendar.fullReadLists = (e) => e.id !== c.id && e.id !== b.id;
    w.calendar.userDelete(AINO.email, b.id);
    w.calendar.invalidateSyncStates(AINO.email);
    const r = await w.cycle();
    expect(r.users[0].outcome).toBe('ok');
    // Exchange C was only outside the listing: still paired, still in Severa. Severa B was really deleted in Outlook.
    expect(w.severa.all().map((a) => a.name).sort()).toEqual(['Exchange C', 'Severa A']);
    expect(r.users[0].toSevera.deleted).toBe(1);
  });

  it("a copy the sync made and the user deleted before the change feed reported it (net changes) is found gone, not kept for ever", async () => {
    const w = new World({ enrol: [AINO] });
    w.calendar.netChanges = true;
    w.severa.userCreate({ name: "Review", startDateTime: at(2, "09:00"), endDateTime: at(2, "10:00"), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    const [copy] = w.calendar.bySubject(AINO.email, 'Review');
    // Deleted in Outlook before the next read: the feed, read from the position before the create, reports nothing.
    w.calendar.userDelete(AINO.email, copy.id);
    const r = await w.cycle();
    expect(r.users[0].toSevera.deleted).toBe(1);
    expect(w.severa.byName('Review')).toEqual([]);
    expect(w.store.listJournal().map((j) => j.subject)).toEqual(['Review']);
    w.resetCalls();
    await w.cycle();
    expect(w.writes()).toBe(0);
  });

  it('one failing mailbox does not block the others, and its problem has a fix', async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    seedBothSides(w);
    w.calendar.failMailbox(AINO.email, () => new CalendarError('impersonation-denied', 'ErrorImpersonateUserDenied', { serverCode: 'ErrorImpersonateUserDenied' }));
    const r = await w.cycle();
    expect(r.outcome).toBe('partial');
    expect(r.users.find((u) => u.email === AINO.email)).toMatchObject({ outcome: 'failed', errors: [expect.objectContaining({ code: 'impersonation-denied', fix: expect.stringMatching(/ApplicationImpersonation/) })] });
    expect(r.users.find((u) => u.email === MIKKO.email)?.outcome).toBe('ok');
    expect(w.severa.byName('Exchange D')).toHaveLength(1);
    expect(w.store.lastStatus(AINO.email)?.report.outcome).toBe('failed');
    w.calendar.failMailbox(AINO.email, undefined);
    const after = await w.cycle();
    expect(after.users.find((u) => u.email === AINO.email)?.outcome).toBe('ok');
    expect(w.calendar.bySubject(AINO.email, 'Severa A')).toHaveLength(1);
  });

  it('a write that fails is reported as a problem, not counted as a change', async () => {
    const w = new World({ enrol: [AINO, MIKKO] });
    seedBothSides(w);
    w.faults.arm({ method: 'createEvent', when: 'before', nth: 1, error: () => new CalendarError('other', 'ErrorInternalServerError') });
    const r = await w.cycle();
    const aino = r.users.find((u) => u.email === AINO.email)!;
    const created = w.calendar.items(AINO.email).filter((i) => i.syncTag).length;
    expect(aino.toExchange.created).toBe(created);
    expect(aino.changes.filter((l) => l.side === 'exchange' && l.action === 'create')).toHaveLength(created);
    expect(aino.errors.some((e) => /ErrorInternalServerError/.test(e.message))).toBe(true);
    expect(aino.outcome).toBe('partial');
  });

  it('a Severa login failure fails the cycle cleanly with a fix', async () => {
    const w = new World();
    w.faults.arm({ method: 'listActivityTypes', when: 'before', error: () => Object.assign(new Error('401'), { name: 'SeveraError', code: 'auth' }) });
    const r = await w.cycle();
    expect(r.outcome).toBe('failed');
    expect(r.errors[0]).toMatchObject({ code: 'severa-auth', fix: expect.stringMatching(/client id and secret/) });
    expect(r.users.every((u) => u.outcome === 'failed')).toBe(true);
    expect(w.writes()).toBe(0);
  });

  it('a stale version on update: re-read, decide again once', async () => {
    const w = new World({ enrol: [AINO] });
    const s = w.severa.userCreate({ name: 'Race', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    const [x] = w.calendar.bySubject(AINO.email, 'Race');
    w.tick();
    w.severa.userUpdate(s.guid!, { name: 'Race (Severa)' });
    // The user edits the item in Outlook after the sync read its changes but before it writes.
    w.faults.arm({ method: 'updateEvent', when: 'before', error: () => {
      w.tick(10_000);
      w.calendar.userUpdate(AINO.email, x.id, { location: 'Room 9' });
      return new CalendarError('conflict', 'ErrorIrresolvableConflict');
    } });
    const r = await w.cycle();
    expect(r.users[0].errors).toEqual([]);
    // Exchange changed later: its content wins the re-decision.
    expect(w.severa.all()[0]).toMatchObject({ name: 'Race', location: 'Room 9' });
    expect(w.calendar.items(AINO.email)[0].fields).toMatchObject({ subject: 'Race', location: 'Room 9' });
  });

  it('bad enrolments and options give clear errors, never a crash', async () => {
    const w = new World();
    const r = await w.cycle({ users: [{ email: 'not-an-email', syncStartDate: '2026-03-01' }, { email: AINO.email, syncStartDate: '2026-13-45' }] });
    expect(r.users.map((u) => u.errors[0].code)).toEqual(['bad-enrollment', 'bad-enrollment']);
    const bad = await w.cycle({ windowDaysAhead: 0 });
    expect(bad).toMatchObject({ outcome: 'failed', errors: [expect.objectContaining({ code: 'bad-options', message: expect.stringMatching(/1 to 730/) })] });
  });

  it('a failed re-create of a copy deleted in Outlook (changed in Severa) is tried again next cycle, not updated into the void', async () => {
    const w = new World({ enrol: [AINO] });
    const s = w.severa.userCreate({ name: 'Planning r1', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    w.tick();
    w.severa.userUpdate(s.guid!, { name: 'Planning r2' });
    for (const e of w.calendar.items(AINO.email)) w.calendar.userDelete(AINO.email, e.id);
    w.faults.arm({ method: 'createEvent', when: 'before', error: () => new CalendarError('other', 'ErrorInvalidPropertySet') });
    const failed = await w.cycle();
    expect(failed.users[0].errors.map((e) => e.code)).toEqual(['exchange-error']);
    const next = await w.cycle();
    expect(next.users[0].errors).toEqual([]);
    expect(w.calendar.items(AINO.email).map((e) => e.fields.subject)).toEqual(['Planning r2']);
    expect(w.store.pairsForUser(AINO.email).map((p) => [p.exchangeId, p.exchangeGone])).toEqual([[w.calendar.items(AINO.email)[0].id, false]]);
    w.resetCalls();
    expect((await w.cycle()).users[0].errors).toEqual([]);
    expect(w.writes()).toBe(0);
  });

  it('a deletion whose copy to the other side failed once still goes through next cycle, either way', async () => {
    for (const deletedIn of ['exchange', 'severa'] as const) {
      const w = new World({ enrol: [AINO] });
      const s = w.severa.userCreate({ name: 'Planning', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
      w.severa.userCreate({ name: 'Other', startDateTime: at(2, '09:00'), endDateTime: at(2, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
      await w.cycle();
      w.tick();
      if (deletedIn === 'exchange') {
        w.calendar.userDelete(AINO.email, w.calendar.bySubject(AINO.email, 'Planning')[0].id);
        w.faults.arm({ method: 'deleteActivity', when: 'before', error: () => Object.assign(new Error('refused'), { name: 'SeveraError', code: 'bad-request' }) });
      } else {
        w.severa.userDelete(s.guid!);
        w.faults.arm({ method: 'deleteEvent', when: 'before', error: () => new CalendarError('other', 'ErrorInternalServerError') });
      }
      const failed = await w.cycle();
      expect(failed.users[0].errors, deletedIn).toHaveLength(1);
      const next = await w.cycle();
      expect(next.users[0].errors, deletedIn).toEqual([]);
      expect(w.severa.all().map((a) => a.name), deletedIn).toEqual(['Other']);
      expect(w.calendar.items(AINO.email).map((e) => e.fields.subject), deletedIn).toEqual(['Other']);
      expect(w.store.countPairs(AINO.email), deletedIn).toBe(1);
    }
  });

  it('a pair whose Exchange item is missing when written (left so by an earlier version) is decided again with it gone', async () => {
    const w = new World({ enrol: [AINO] });
    const s = w.severa.userCreate({ name: 'Planning r1', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    w.tick();
    w.severa.userUpdate(s.guid!, { name: 'Planning r2' });
    for (const e of w.calendar.items(AINO.email)) w.calendar.userDelete(AINO.email, e.id);
    w.faults.arm({ method: 'createEvent', when: 'before', error: () => new CalendarError('other', 'ErrorInvalidPropertySet') });
    await w.cycle();
    // The store as an earlier version left it: the deletion consumed, the pair not marked gone.
    const [stuck] = w.store.pairsForUser(AINO.email);
    expect(stuck.exchangeGone).toBe(true);
    w.store.commitUserWork({ email: AINO.email, upsertPairs: [{ ...stuck, exchangeGone: false }] });
    const missing = await w.cycle();
    expect(missing.users[0].errors.map((e) => e.code)).toEqual(['exchange-not-found']);
    const next = await w.cycle();
    expect(next.users[0].errors).toEqual([]);
    expect(w.calendar.items(AINO.email).map((e) => e.fields.subject)).toEqual(['Planning r2']);
  });

  it("a write Exchange answers 'not found' for while the item stands (one occurrence of a series) does not mark it gone: no second copy (long soak seed 2, K7)", async () => {
    const w = new World({ enrol: [AINO] });
    const s = w.severa.userCreate({ name: 'Planning r1', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
    await w.cycle();
    w.tick();
    w.severa.userUpdate(s.guid!, { name: 'Planning r2' });
    w.faults.arm({ method: 'updateEvent', when: 'before', error: () => new CalendarError('not-found', 'ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange', { serverCode: 'ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange' }) });
    const failed = await w.cycle();
    expect(failed.users[0].errors.map((e) => e.code)).toEqual(['exchange-not-found']);
    expect(w.store.pairsForUser(AINO.email)[0].exchangeGone).toBe(false);
    w.faults.clear();
    w.tick();
    const next = await w.cycle();
    expect(next.users[0].errors).toEqual([]);
    expect(w.calendar.items(AINO.email).map((e) => e.fields.subject)).toEqual(['Planning r2']);
    expect(w.severa.all().map((a) => a.name)).toEqual(['Planning r2']);
  });

  it('an item-level failure is reported and retried next cycle, the rest goes on', async () => {
    const w = new World({ enrol: [AINO] });
    w.calendar.userCreate(AINO.email, fields({ subject: 'Fails once', start: at(1, '09:00'), end: at(1, '10:00') }));
    w.calendar.userCreate(AINO.email, fields({ subject: 'Fine', start: at(1, '11:00'), end: at(1, '12:00') }));
    w.faults.arm({ method: 'createActivity', when: 'before', error: () => Object.assign(new Error('name rejected'), { name: 'SeveraError', code: 'bad-request' }) });
    const r = await w.cycle();
    expect(r.users[0].outcome).toBe('partial');
    expect(w.severa.all()).toHaveLength(1);
    w.faults.clear();
    await w.cycle();
    expect(w.severa.all().map((a) => a.name).sort()).toEqual(['Fails once', 'Fine']);
  });
});

describe('request costs', () => {
  it('no-change cycle: one syncChanges per user and O(1) Severa requests; K changes cost O(K)', async () => {
    const w = new World({ enrol: [AINO, MIKKO, SARA, JUSSI] });
    w.options.reconcileSliceSize = 1;
    for (const u of [AINO, MIKKO, SARA, JUSSI]) seedMany(w, 15, u);
    await w.cycle();
    await w.cycle();
    w.resetCalls();
    const quiet = await w.cycle();
    expect(w.calendar.calls).toEqual({ syncChanges: 4 });
    const quietSevera = w.severa.totalCalls();
    expect(quietSevera).toBeLessThanOrEqual(4);
    expect(quiet.requests).toEqual({ severa: quietSevera, exchange: 4 });

    const costOf = async (k: number) => {
      const acts = w.severa.all();
      for (let i = 0; i < k; i++) w.severa.userUpdate(acts[i].guid!, { notes: `change ${w.clock}` });
      for (let i = 0; i < k; i++) {
        const [e] = w.calendar.items(MIKKO.email).slice(i, i + 1);
        w.calendar.userUpdate(MIKKO.email, e.id, { location: `Room ${w.clock}` });
      }
      w.resetCalls();
      const r = await w.cycle();
      return r.requests.severa + r.requests.exchange;
    };
    const c2 = await costOf(2);
    const c6 = await costOf(6);
    const c12 = await costOf(12);
    // Linear in K: each change adds a bounded number of requests; the base stays the same.
    expect(c6 - c2).toBeGreaterThan(0);
    expect((c12 - c6) / 6).toBeLessThanOrEqual(4);
    expect(Math.abs((c12 - c6) / 6 - (c6 - c2) / 4)).toBeLessThanOrEqual(1);
  });
});
