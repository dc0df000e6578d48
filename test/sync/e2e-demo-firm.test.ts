import { afterEach, describe, expect, it } from 'vitest';
import { startE2e, DEMO_TYPES, DEMO_USERS, type E2eWorld } from './e2e-harness.ts';
import { EXCHANGES } from './outlook-back-door.ts';

/**
 * The whole product path over real HTTP: Severa simulator <- SeveraClient <- engine -> calendar connector -> Exchange,
 * with the demo firm's data on both sides, once on on-premises Exchange (EwsCalendarConnector, the EWS simulator: NTLM,
 * impersonation) and once on Exchange Online (GraphCalendarConnector, the Graph simulator: app-only OAuth over HTTPS).
 * Every sync rule is checked on the servers' own state, through their back doors, not through the engine's report alone.
 */

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const SARA = 'sara.nieminen@contoso.example';
const JUSSI = 'jussi.korhonen@contoso.example';
const LEENA = 'leena.makela@contoso.example';
const G = { aino: '00000000-0000-4000-8000-0000000000a1', mikko: '00000000-0000-4000-8000-0000000000a2', sara: '00000000-0000-4000-8000-0000000000a3', jussi: '00000000-0000-4000-8000-0000000000a4', leena: '00000000-0000-4000-8000-0000000000a5' };

interface Activity { guid: string; name: string; recurrenceType: string; ownerUser: { guid: string }; activityType: { guid: string }; recurrence: { exceptions?: string[] } | null; location: string | null; notes: string | null }

let world: E2eWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

const severaNamed = (w: E2eWorld, name: string) => (w.severaSim.activities() as unknown as Activity[]).filter((a) => a.name === name && a.recurrenceType !== 'Exception');
const participants = (w: E2eWorld, guid: string) => w.severaSim.store.participantsOf(guid).participants.map((p) => p.userGuid).sort();
const exchangeNamed = (w: E2eWorld, mailbox: string, subject: string) => w.outlook.items(mailbox).filter((i) => i.subject === subject);

describe.each(EXCHANGES)('e2e over HTTP on %s: the demo firm on both simulators', (exchange) => {
  it('first sync follows every rule; the second cycle changes nothing and costs one request per user (Graph: all users in one $batch)', async () => {
    const w = (world = await startE2e({ exchange }));
    const r1 = await w.cycle();
    expect(r1.users.flatMap((u) => u.errors)).toEqual([]);
    expect(r1.outcome).toBe('ok');
    expect(r1.users.map((u) => u.email).sort()).toEqual([...DEMO_USERS].sort());

    // Exchange -> Severa: every entry; private -> Personal; meetings shared by enrolled users -> one activity.
    const kickoff = severaNamed(w, 'Fabrikam kickoff');
    expect(kickoff).toHaveLength(1);
    expect(kickoff[0].ownerUser.guid).toBe(G.aino);
    expect(participants(w, kickoff[0].guid)).toEqual([G.mikko]);
    const dentist = severaNamed(w, 'Dentist').filter((a) => a.ownerUser.guid === G.aino);
    expect(dentist).toHaveLength(1);
    expect(dentist[0].activityType.guid).toBe(DEMO_TYPES.personal);
    const weekly = severaNamed(w, 'Weekly team meeting');
    expect(weekly).toHaveLength(1);
    expect(weekly[0].recurrenceType).toBe('Series');
    expect(weekly[0].ownerUser.guid).toBe(G.aino);
    expect(participants(w, weekly[0].guid)).toEqual([G.mikko, G.sara, G.jussi, G.leena].sort());
    expect(weekly[0].recurrence?.exceptions ?? []).toHaveLength(2);
    const moved = (w.severaSim.activities() as unknown as Activity[]).filter((a) => a.recurrenceType === 'Exception' && a.name === 'Weekly team meeting (moved)');
    expect(moved).toHaveLength(1);
    expect(moved[0].location).toBe('Meeting room Kota');
    // The Severa series reaches every participant's calendar as one series.
    for (const m of [AINO, MIKKO]) expect(exchangeNamed(w, m, 'Weekly consulting team meeting')[0].recurrence?.pattern).toMatchObject({ type: 'weekly', daysOfWeek: ['monday'] });
    expect(severaNamed(w, 'Sales call: Northwind Traders')[0].activityType.guid).toBe('00000000-0000-4000-8000-0000000000b4');

    // Severa -> Exchange: selected types only, project tasks never, into each enrolled participant's calendar.
    expect(exchangeNamed(w, MIKKO, 'ERP renewal: data migration')).toHaveLength(0);
    expect(exchangeNamed(w, LEENA, 'Call with Northwind Traders')).toHaveLength(0);
    expect(exchangeNamed(w, JUSSI, 'Summer vacation')).toHaveLength(0);
    for (const m of [AINO, MIKKO]) expect(exchangeNamed(w, m, 'Customer visit: Fabrikam Oy')).toHaveLength(1);
    for (const m of [AINO, MIKKO, SARA, JUSSI]) expect(exchangeNamed(w, m, 'Weekly consulting team meeting')).toHaveLength(1);
    const saraDentist = exchangeNamed(w, SARA, 'Dentist');
    expect(saraDentist).toHaveLength(1);
    expect(saraDentist[0].isPrivate).toBe(true);
    // Nothing doubled anywhere.
    for (const m of [AINO, MIKKO, SARA, JUSSI, LEENA]) {
      const subjects = w.outlook.items(m).map((i) => i.subject);
      expect(new Set(subjects).size, m).toBe(subjects.length);
    }

    // The next cycle reads the sync's own writes back (its sync state predates them) and writes nothing.
    w.outlook.resetCounters();
    w.severaSim.resetCounters();
    const r2 = await w.cycle();
    expect(r2.outcome).toBe('ok');
    expect(r2.users.flatMap((u) => u.changes)).toEqual([]);
    expect(w.outlook.counters().writes).toBe(0);
    expect(Object.keys(w.severaSim.counters().byRoute).filter((k) => !k.startsWith('GET') && !k.includes('/token'))).toEqual([]);
    // From then on a cycle without changes costs Exchange one change read per user, and a few Severa requests for the
    // organization. EWS: one SyncFolderItems per user. Graph: one calendarView/delta per user, all five read ahead in
    // one $batch, so the cycle is one request.
    w.outlook.resetCounters();
    const r3 = await w.cycle();
    expect(r3.users.flatMap((u) => u.changes)).toEqual([]);
    if (exchange === 'ews') {
      expect(w.outlook.counters().byOperation).toEqual({ SyncFolderItems: 5 });
      expect(r3.requests.exchange).toBe(5);
    } else {
      expect(w.outlook.counters().byOperation).toEqual({ $batch: 1, 'calendarView.delta': 5 });
      expect(r3.requests.exchange).toBe(1);
      // Nobody was mailed, ever: the sync wrote no attendees and changed no meeting.
      expect(w.outlook.mailsSentBySync()).toBe(0);
    }
    expect(r3.requests.severa).toBeLessThanOrEqual(8);
  });

  it('changes, a conflict and deletions flow both ways over HTTP', async () => {
    const w = (world = await startE2e({ exchange }));
    await w.cycle();
    // Severa edit -> Exchange; Exchange edit -> Severa.
    const budget = severaNamed(w, 'Budget review')[0];
    w.severaSim.updateActivity(budget.guid, { location: 'Board room' });
    const lunch = exchangeNamed(w, MIKKO, 'Lunch with Jussi')[0];
    w.outlook.update(MIKKO, lunch.id, { location: 'Ravintola Savoy' });
    // Deleted in Exchange -> deleted in Severa.
    const review = exchangeNamed(w, JUSSI, 'Code review')[0];
    w.outlook.delete(JUSSI, review.id);
    // Both sides changed: the later edit wins (Severa stamps whole seconds, so the edits are more than a second apart).
    const board = severaNamed(w, 'Board meeting preparation')[0];
    w.severaSim.updateActivity(board.guid, { location: 'Severa says room 1' });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const boardCopy = exchangeNamed(w, AINO, 'Board meeting preparation')[0];
    w.outlook.update(AINO, boardCopy.id, { location: 'Outlook says room 2' });
    const r = await w.cycle();
    expect(r.users.flatMap((u) => u.errors)).toEqual([]);
    expect(r.users.find((u) => u.email === AINO)!.conflicts).toBe(1);
    expect(severaNamed(w, 'Board meeting preparation')[0].location).toBe('Outlook says room 2');
    expect(exchangeNamed(w, AINO, 'Board meeting preparation')[0].location).toBe('Outlook says room 2');
    expect(exchangeNamed(w, AINO, 'Budget review')[0].location).toBe('Board room');
    expect(severaNamed(w, 'Lunch with Jussi')[0].location).toBe('Ravintola Savoy');
    expect(severaNamed(w, 'Code review')).toHaveLength(0);
    // Deleted in Severa -> deleted in Exchange within the reported bound.
    const planning = severaNamed(w, 'Sprint planning')[0];
    w.severaSim.deleteActivity(planning.guid);
    let cycles = 0;
    let bound = 0;
    while (exchangeNamed(w, MIKKO, 'Sprint planning').length > 0 && cycles < 6) {
      bound = (await w.cycle()).severaDeletionLatencyCycles;
      cycles++;
    }
    expect(exchangeNamed(w, MIKKO, 'Sprint planning')).toHaveLength(0);
    expect(cycles).toBeLessThanOrEqual(bound);
    // The deletions are journaled.
    expect(w.store.listJournal().map((j) => j.subject).sort()).toEqual(['Code review', 'Sprint planning']);
    if (exchange === 'graph') expect(w.outlook.mailsSentBySync()).toBe(0);
  });

  it("a meeting with attendees changed and deleted in Severa: on-premises its organizer's item follows (SendToNone), Exchange Online leaves it to Outlook and says so", async () => {
    const w = (world = await startE2e({ exchange }));
    await w.cycle();
    const kickoff = severaNamed(w, 'Fabrikam kickoff')[0];
    const where = () => ({ aino: exchangeNamed(w, AINO, 'Fabrikam kickoff').map((i) => i.location), mikko: exchangeNamed(w, MIKKO, 'Fabrikam kickoff').map((i) => i.location), severa: severaNamed(w, 'Fabrikam kickoff').map((a) => a.location) });
    const notesOf = (r: Awaited<ReturnType<E2eWorld['cycle']>>, email: string) => r.users.find((u) => u.email === email)!.notes.join(' ');

    // Changed in Severa. Mikko's copy (an attendee's) is his own to change on both.
    w.severaSim.updateActivity(kickoff.guid, { location: 'Severa room' });
    const changed = await w.cycle();
    expect(changed.users.flatMap((u) => u.errors)).toEqual([]);
    if (exchange === 'ews') {
      expect(where()).toEqual({ aino: ['Severa room'], mikko: ['Severa room'], severa: ['Severa room'] });
      expect(notesOf(changed, AINO)).toBe('');
    } else {
      // Graph has no SendToNone: changing Aino's meeting would mail Mikko. It stays as Outlook has it, Severa keeps its
      // change, and the report says so once.
      expect(where()).toEqual({ aino: ['Fabrikam HQ, Espoo'], mikko: ['Severa room'], severa: ['Severa room'] });
      expect(notesOf(changed, AINO)).toMatch(/"Fabrikam kickoff" was changed in Severa only: .*would mail them, so the sync left it as it is\. Change or delete the meeting in Outlook/);
      expect(notesOf(await w.cycle(), AINO)).toBe('');
    }
    const quiet = await w.cycle();
    expect(quiet.users.flatMap((u) => u.changes)).toEqual([]);

    // Changed by its organizer in Outlook: reaches Severa (and Mikko's copy, by Exchange) on both.
    w.outlook.update(AINO, exchangeNamed(w, AINO, 'Fabrikam kickoff')[0].id, { location: 'Outlook room' });
    await w.cycle();
    expect(where()).toEqual({ aino: ['Outlook room'], mikko: ['Outlook room'], severa: ['Outlook room'] });

    // Deleted in Severa: on-premises the copies go; Exchange Online deletes Mikko's own copy but leaves Aino's meeting,
    // saying so every cycle, and nothing comes back to Severa.
    // (A deletion in Severa is noticed within the reported number of cycles.)
    w.severaSim.deleteActivity(kickoff.guid);
    let last = await w.cycle();
    for (let n = last.severaDeletionLatencyCycles; n > 0; n--) last = await w.cycle();
    if (exchange === 'ews') expect(where()).toEqual({ aino: [], mikko: [], severa: [] });
    else {
      expect(where()).toEqual({ aino: ['Outlook room'], mikko: [], severa: [] });
      expect(notesOf(last, AINO)).toMatch(/"Fabrikam kickoff" was deleted in Severa but stays in Outlook/);
      expect(notesOf(await w.cycle(), AINO)).toMatch(/"Fabrikam kickoff" was deleted in Severa but stays in Outlook/);
      // A change in Outlook beats the deletion: the meeting comes back to Severa, once.
      w.outlook.update(AINO, exchangeNamed(w, AINO, 'Fabrikam kickoff')[0].id, { location: 'Kept in Outlook' });
      await w.cycle();
      expect(severaNamed(w, 'Fabrikam kickoff').map((a) => a.location)).toEqual(['Kept in Outlook']);
      expect(w.outlook.mailsSentBySync()).toBe(0);
    }
  });

  it('reports a skewed Exchange clock', async () => {
    const w = (world = await startE2e({ exchange, users: [AINO] }));
    w.outlook.setClockSkewMs(5 * 60_000);
    const r = await w.cycle();
    expect(Math.abs((r.clockOffsetMs.exchange ?? 0) - 300_000)).toBeLessThan(5_000);
    expect(r.errors).toContainEqual(expect.objectContaining({ code: 'clock-skew' }));
  });
});
