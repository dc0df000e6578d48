/**
 * The EWS simulator's side of moving mailboxes, over plain HTTP: what a mailbox answers while it moves, while the move
 * completes and after it left; export and import under new ItemIds keeping everything else; mailboxes added at run time;
 * all of it kept in state snapshots.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEwsSimulator } from './ews-simulator.ts';
import type { EwsSimulator, SimCalendarItem } from './ews-simulator.ts';
import { extendedPropertyKey } from './calendar-model.ts';
import { windowsZoneFor } from './time-zones.ts';
import { AINO, AINO_ALIAS, MIKKO, TAG_ID, ews, ewsSeed, startAgedEws } from '../mailbox-move-fixtures.ts';

const sims: EwsSimulator[] = [];
/** Items last changed a week ago, so an import that stamped its own time would show. */
async function start(version?: string): Promise<EwsSimulator> {
  const sim = await startAgedEws(ewsSeed(version));
  sims.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

/**
 * An item as a move must keep it: everything but what the store assigns; extended properties however they are named;
 * the zone as EWS shows it (its Windows id: zones travel as Exchange stores them, so Europe/Helsinki may come back as
 * that zone's representative, Europe/Kiev).
 */
function kept(i: SimCalendarItem): Record<string, unknown> {
  const { id: _id, changeKey: _ck, appointmentSequenceNumber: _seq, extendedProperties, recurrence, timeZone, ...rest } = i;
  const pattern = recurrence ? { firstDayOfWeek: 'Sunday', ...recurrence.pattern } : null;
  return {
    ...rest,
    timeZone: windowsZoneFor(timeZone).id,
    recurrence: recurrence ? { ...recurrence, pattern } : null,
    extendedProperties: extendedProperties.map((p) => [extendedPropertyKey(p), p.propertyType, p.value]),
  };
}

describe('a mailbox being moved', () => {
  it('answers ErrorMailboxMoveInProgress to every mailbox operation while it moves, ErrorMailboxStoreUnavailable while the move completes; others and directory look-ups are unaffected', async () => {
    const sim = await start();
    expect((await ews.getFolder(sim, AINO)).code).toBe('NoError');
    const before = sim.mailbox(AINO).items().length;

    sim.setMailboxState(AINO, 'moving');
    expect(sim.mailboxState(AINO_ALIAS)).toBe('moving');
    const folder = await ews.getFolder(sim, AINO);
    expect([folder.status, folder.code, folder.message['@ResponseClass']]).toEqual([200, 'ErrorMailboxMoveInProgress', 'Error']);
    expect((await ews.getFolder(sim, AINO_ALIAS)).code).toBe('ErrorMailboxMoveInProgress');
    expect((await ews.items(sim, AINO)).code).toBe('ErrorMailboxMoveInProgress');
    expect((await ews.view(sim, AINO, '2030-03-01T00:00:00Z', '2030-05-01T00:00:00Z')).code).toBe('ErrorMailboxMoveInProgress');
    // Aino in her own mailbox, without impersonation, meets the same.
    expect((await ews.getFolder(sim, undefined, { user: 'CONTOSO\\aino.virtanen', password: 'demo-aino-password' })).code).toBe('ErrorMailboxMoveInProgress');
    expect((await ews.resolve(sim, AINO_ALIAS, AINO)).code).toBe('NoError');
    expect((await ews.getFolder(sim, MIKKO)).code).toBe('NoError');

    sim.setMailboxState(AINO, 'completing');
    expect((await ews.getFolder(sim, AINO)).code).toBe('ErrorMailboxStoreUnavailable');
    expect(sim.mailbox(AINO).items()).toHaveLength(before);

    sim.setMailboxState(AINO, 'active');
    expect((await ews.items(sim, AINO)).items).toHaveLength(before);
  });

  it('once moved away: ErrorNonExistentMailbox "No mailbox with such guid." while the address still resolves (a mail user); an unknown address stays a fault; a mailbox that comes back gets new ItemIds', async () => {
    const sim = await start();
    const old = sim.exportMailbox(AINO);
    const oldIds = old.items.map((i) => i.id);
    expect(oldIds).toHaveLength(3);

    sim.setMailboxState(AINO, 'moved-away');
    const gone = await ews.getFolder(sim, AINO_ALIAS);
    expect([gone.status, gone.code, gone.text]).toEqual([200, 'ErrorNonExistentMailbox', 'No mailbox with such guid.']);
    const resolved = await ews.resolve(sim, AINO_ALIAS, MIKKO);
    expect(resolved.code).toBe('NoError');
    expect(resolved.message.ResolutionSet.Resolution[0].Mailbox).toMatchObject({ EmailAddress: AINO, MailboxType: 'Mailbox' });
    const nobody = await ews.getFolder(sim, 'nobody@contoso.example');
    expect([nobody.status, nobody.code, nobody.text]).toEqual([500, 'ErrorNonExistentMailbox', 'The SMTP address has no mailbox associated with it.']);
    expect(sim.mailbox(AINO).items()).toEqual([]);
    // Mikko's copy of the meeting stays where it is: nothing was cancelled.
    expect(sim.mailbox(MIKKO).items().map((i) => `${i.subject}:${i.isCancelled}`)).toContain('Customer meeting:false');

    sim.setMailboxState(AINO, 'active');
    expect(sim.importMailbox(AINO, old)).toBe(3);
    const back = await ews.items(sim, AINO);
    expect(back.items.map((i) => i.Subject).sort()).toEqual(['Customer meeting', 'Dentist', 'Weekly']);
    for (const i of back.items) expect(oldIds).not.toContain(i.ItemId['@Id']);
  });
});

describe('export and import', () => {
  it('an import into another server keeps UIDs, times, zones, series with moved and deleted occurrences, the sync tag, sensitivity, attendees, created and last-modified times; nobody is invited', async () => {
    const from = await start('Exchange2010_SP2');
    const to = await start('Exchange2016');
    to.setMailboxState(AINO, 'moved-away'); // Aino's mailbox on the 2016 server is elsewhere (empty) until the move
    to.setMailboxState(AINO, 'active');
    const mikkoBefore = to.mailbox(MIKKO).items();
    const source = from.mailbox(AINO).items();

    const data = JSON.parse(JSON.stringify(from.exportMailbox(AINO)));
    expect(data.items.find((i: { subject: string }) => i.subject === 'Dentist').extendedProperties).toEqual([{ id: TAG_ID, value: 'activity-42' }]);
    expect(to.importMailbox(AINO_ALIAS, data)).toBe(3);

    const copied = to.mailbox(AINO).items();
    expect(copied.map(kept)).toEqual(source.map(kept));
    expect(copied.map((i) => i.id)).not.toEqual(expect.arrayContaining([source[0].id]));
    expect(to.mailbox(MIKKO).items()).toEqual(mikkoBefore);

    // What a client sees over EWS: the tag finds the entry, its UID and LastModifiedTime are the source's.
    const tagged = await ews.findByTag(to, AINO, 'activity-42');
    expect(tagged.items.map((i) => i.Subject)).toEqual(['Dentist']);
    const dentist = (await ews.items(to, AINO)).items.find((i) => i.Subject === 'Dentist');
    const original = source.find((i) => i.subject === 'Dentist')!;
    expect(dentist).toMatchObject({ UID: original.uid, LastModifiedTime: original.lastModifiedTime, Sensitivity: 'Private' });
    const weekly = (await ews.items(to, AINO)).items.find((i) => i.Subject === 'Weekly');
    expect(weekly.ModifiedOccurrences.Occurrence).toHaveLength(1);
    expect(weekly.DeletedOccurrences.DeletedOccurrence).toHaveLength(1);
  });

  it('refuses data that is not a neutral mailbox, naming what it found', async () => {
    const sim = await start();
    expect(() => sim.importMailbox(AINO, { format: 'something-else' } as never)).toThrow(/Not a calendar-mailbox version 1 export \(format something-else/);
  });
});

describe('mailboxes added at run time', () => {
  const NEW = 'noora.uusi@contoso.example';
  const mailbox = { primarySmtp: NEW, aliases: ['noora@contoso.example'], displayName: 'Noora Uusi', username: 'noora.uusi', password: 'demo-noora-password' };

  it('serves a mailbox added while it runs; impersonation as granted; a taken address is refused; a snapshot keeps it with its state', async () => {
    const sim = await start();
    expect((await ews.getFolder(sim, NEW)).code).toBe('ErrorNonExistentMailbox');
    sim.addMailbox(mailbox, { state: 'moved-away', impersonatedBy: ['svc-limited'] });
    expect((await ews.getFolder(sim, 'noora@contoso.example')).text).toBe('No mailbox with such guid.');
    const limited = { user: 'CONTOSO\\svc-limited', password: 'demo-limited-password' };
    expect((await ews.getFolder(sim, NEW, limited)).text).toBe('No mailbox with such guid.');
    expect((await ews.getFolder(sim, AINO, limited)).code).toBe('ErrorImpersonateUserDenied');
    sim.setMailboxState(NEW, 'active');
    expect((await ews.getFolder(sim, NEW)).code).toBe('NoError');
    expect(() => sim.addMailbox({ ...mailbox, primarySmtp: 'other@contoso.example', username: 'other' })).toThrow(/the address noora@contoso.example belongs to noora.uusi@contoso.example/);
    expect(() => sim.mailboxState('other@contoso.example')).toThrow(/No mailbox/); // nothing half-registered
    expect(() => sim.addMailbox({ ...mailbox, primarySmtp: 'other@contoso.example', aliases: [], username: 'aino.virtanen' })).toThrow(/the login aino.virtanen is taken/);
    expect(() => sim.addMailbox({ ...mailbox, primarySmtp: 'bad' })).toThrow(/primarySmtp/);

    sim.setMailboxState(AINO, 'moving');
    sim.mailbox(NEW).create({ subject: 'First day', start: '2030-05-02T06:00:00Z', end: '2030-05-02T07:00:00Z' });
    const again = await startEwsSimulator({ state: JSON.parse(JSON.stringify(sim.exportState())) });
    sims.push(again);
    expect([again.mailboxState(NEW), again.mailboxState(AINO), again.mailboxState(MIKKO)]).toEqual(['active', 'moving', 'active']);
    expect((await ews.items(again, NEW)).items.map((i) => i.Subject)).toEqual(['First day']);
    expect((await ews.getFolder(again, NEW, limited)).code).toBe('NoError');
    expect((await ews.getFolder(again, AINO)).code).toBe('ErrorMailboxMoveInProgress');
  });
});
