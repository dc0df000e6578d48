/**
 * python3-exchangelib (a real EWS client) drives the simulator through every step the issue names; each step's
 * JSON result is checked, and so is the simulator's own state and counters, so both sides are proven.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEwsSeed, startEwsSimulator } from './ews-simulator.ts';
import type { EwsSimulator, SimCalendarItem } from './ews-simulator.ts';
import { ExchangelibDriver } from './exchangelib-driver.ts';

const DEMO = fileURLToPath(new URL('../demo/ews-demo.json', import.meta.url));
const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';

let sim: EwsSimulator;
let py: ExchangelibDriver;

beforeAll(async () => {
  const demo = loadEwsSeed(DEMO);
  sim = await startEwsSimulator({
    seed: {
      ...demo,
      delegates: [...(demo.delegates ?? []), { username: 'svc-limited', password: 'demo-limited-password', impersonation: [AINO] }],
    },
  });
  py = new ExchangelibDriver(sim.url);
});

afterAll(async () => {
  py?.close();
  await sim?.close();
});

function onlyItem(items: SimCalendarItem[], subject: string): SimCalendarItem {
  const found = items.filter((i) => i.subject === subject);
  expect(found, `items titled ${subject}`).toHaveLength(1);
  return found[0];
}

describe('exchangelib against the EWS simulator', () => {
  it('logs in with NTLM (probing auth and version like against a real server) and impersonates a mailbox', async () => {
    const r = await py.ok({ step: 'login', mailbox: AINO });
    expect(r).toMatchObject({ auth_type: 'NTLM', api_version: 'Exchange2016', build: '15.1.2507.39', calendar: 'Calendar' });
    expect(r.item_count).toBe(sim.mailbox(AINO).items().length);
    const c = sim.counters();
    expect(c.byOperation.ConvertId).toBeGreaterThanOrEqual(1); // exchangelib's version probe
    expect(c.byOperation.GetFolder).toBeGreaterThanOrEqual(1);
    expect(c.byMailbox[AINO]).toBeGreaterThanOrEqual(2);
  });

  it('logs in with Basic as the mailbox owner, without impersonation', async () => {
    const r = await py.ok({ step: 'login', auth: 'BASIC', user: 'mikko.lahtinen@contoso.example', password: 'demo-mikko-password', mailbox: MIKKO, access: 'delegate' });
    expect(r.auth_type).toBe('basic');
    expect(r.item_count).toBe(sim.mailbox(MIKKO).items().length);
  });

  it('refuses a wrong password with 401', async () => {
    const r = await py.run({ step: 'login', user: 'CONTOSO\\svc-severa-sync', password: 'not-the-password', mailbox: AINO });
    expect(r).toMatchObject({ ok: false, error: 'UnauthorizedError' });
  });

  it('allows impersonation only where the delegate has the right, and knows which mailboxes exist', async () => {
    const limitedAino = await py.run({ step: 'login', user: 'CONTOSO\\svc-limited', password: 'demo-limited-password', mailbox: AINO });
    expect(limitedAino.ok).toBe(true);
    const limitedMikko = await py.run({ step: 'login', user: 'CONTOSO\\svc-limited', password: 'demo-limited-password', mailbox: MIKKO });
    expect(limitedMikko).toMatchObject({ ok: false, error: 'ErrorImpersonateUserDenied' });
    const userImpersonating = await py.run({ step: 'login', user: 'CONTOSO\\aino.virtanen', password: 'demo-aino-password', mailbox: MIKKO });
    expect(userImpersonating).toMatchObject({ ok: false, error: 'ErrorImpersonateUserDenied' });
    const nobody = await py.run({ step: 'login', mailbox: 'nobody@contoso.example' });
    expect(nobody).toMatchObject({ ok: false, error: 'ErrorNonExistentMailbox' });
  });

  it('resolves a secondary address to the primary one', async () => {
    const r = await py.ok({ step: 'resolve', mailbox: AINO, name: 's.nieminen@contoso.example' });
    expect(r.resolved).toEqual(['sara.nieminen@contoso.example']);
  });

  let created: { id: string; changekey: string };

  it('creates an item that the server then holds with every field', async () => {
    created = (await py.ok({
      step: 'create',
      mailbox: AINO,
      subject: 'Steering group',
      start: '2026-12-01T10:00:00',
      end: '2026-12-01T11:30:00',
      location: 'Room Saimaa',
      html: '<p>Agenda</p>',
      severa_guid: 'severa-guid-1',
    })) as unknown as { id: string; changekey: string };
    const item = onlyItem(sim.mailbox(AINO).items(), 'Steering group');
    expect(item.id).toBe(created.id);
    expect(item.changeKey).toBe(created.changekey);
    // 10:00 in Helsinki in December is 08:00 UTC.
    expect(item).toMatchObject({ start: '2026-12-01T08:00:00Z', end: '2026-12-01T09:30:00Z', location: 'Room Saimaa', bodyType: 'HTML', timeZone: 'Europe/Kiev' });
    expect(item.extendedProperties).toEqual([
      { propertySetId: '8b5e2f1c-3d4a-4c6b-9e7f-5a1d2c3b4e60', propertyName: 'SeveraGuid', propertyType: 'String', value: 'severa-guid-1' },
    ]);
  });

  it('gets the item back, and finds it by its extended property', async () => {
    const r = await py.ok({ step: 'get', mailbox: AINO, id: created.id });
    const sims = onlyItem(sim.mailbox(AINO).items(), 'Steering group');
    expect(r.item).toMatchObject({
      id: created.id,
      subject: 'Steering group',
      start: '2026-12-01T08:00:00Z',
      type: 'Single',
      organizer: AINO,
      severa_guid: 'severa-guid-1',
      body: '<p>Agenda</p>',
      uid: sims.uid,
      last_modified: sims.lastModifiedTime,
    });
    const found = await py.ok({ step: 'find_by_tag', mailbox: AINO, severa_guid: 'severa-guid-1' });
    expect((found.items as Array<{ id: string }>).map((i) => i.id)).toEqual([created.id]);
    const none = await py.ok({ step: 'find_by_tag', mailbox: AINO, severa_guid: 'no-such-guid' });
    expect(none.items).toEqual([]);
  });

  it('updates with the current ChangeKey and refuses a stale one (ErrorIrresolvableConflict)', async () => {
    const before = onlyItem(sim.mailbox(AINO).items(), 'Steering group');
    const upd = await py.ok({ step: 'update', mailbox: AINO, id: created.id, changekey: created.changekey, fields: { subject: 'Steering group (v2)', location: 'Room Päijänne' } });
    const after = onlyItem(sim.mailbox(AINO).items(), 'Steering group (v2)');
    expect(after.location).toBe('Room Päijänne');
    expect(upd.changekey).toBe(after.changeKey);
    expect(after.changeKey).not.toBe(before.changeKey);
    expect(Date.parse(after.lastModifiedTime)).toBeGreaterThan(Date.parse(before.lastModifiedTime));

    const stale = await py.run({ step: 'update', mailbox: AINO, id: created.id, changekey: created.changekey, fields: { subject: 'Lost update' } });
    expect(stale).toMatchObject({ ok: false, error: 'ErrorIrresolvableConflict' });
    expect(sim.mailbox(AINO).items().some((i) => i.subject === 'Lost update')).toBe(false);
    created.changekey = upd.changekey as string;
  });

  it('resolves a stale ChangeKey by field under AutoResolve, never under NeverOverwrite', async () => {
    // "Aino in Outlook" changes the location; a client holding the older ChangeKey then edits another field.
    sim.mailbox(AINO).update(created.id, { location: 'Room Inari' });
    const never = await py.run({ step: 'update', mailbox: AINO, id: created.id, changekey: created.changekey, fields: { subject: 'Steering group (v3)' }, conflict: 'NeverOverwrite' });
    expect(never).toMatchObject({ ok: false, error: 'ErrorIrresolvableConflict' });
    const overlapping = await py.run({ step: 'update', mailbox: AINO, id: created.id, changekey: created.changekey, fields: { location: 'Room Oulu' } });
    expect(overlapping).toMatchObject({ ok: false, error: 'ErrorIrresolvableConflict' });
    const disjoint = await py.ok({ step: 'update', mailbox: AINO, id: created.id, changekey: created.changekey, fields: { subject: 'Steering group (v3)' } });
    const item = onlyItem(sim.mailbox(AINO).items(), 'Steering group (v3)');
    expect(item.location).toBe('Room Inari');
    created.changekey = disjoint.changekey as string;
  });

  it('moves a deleted item to Deleted Items', async () => {
    await py.ok({ step: 'delete', mailbox: AINO, id: created.id, changekey: created.changekey, mode: 'move' });
    expect(sim.mailbox(AINO).items().some((i) => i.id === created.id)).toBe(false);
    const trash = sim.mailbox(AINO).deletedItems();
    expect(trash.map((i) => i.subject)).toContain('Steering group (v3)');
    const gone = await py.run({ step: 'get', mailbox: AINO, id: created.id });
    expect(gone).toMatchObject({ ok: false, error: 'ErrorItemNotFound' });
  });

  it('expands the recurring team meeting in a CalendarView: occurrences, the moved exception, not the deleted one', async () => {
    const master = sim.mailbox(AINO).items().find((i) => i.recurrence !== null)!;
    expect(master.modifiedOccurrences).toHaveLength(1);
    expect(master.deletedOccurrences).toHaveLength(1);
    const startMs = Date.parse(master.start);
    const windowEnd = new Date(startMs + 8 * 7 * 86_400_000).toISOString();
    const r = await py.ok({ step: 'view', mailbox: AINO, start: master.start, end: windowEnd, subject_prefix: 'Weekly team meeting' });
    const items = r.items as Array<{ subject: string; start: string; type: string; uid: string }>;
    const exception = master.modifiedOccurrences[0];
    expect(items).toHaveLength(7); // 8 weeks, one occurrence deleted
    expect(items.filter((i) => i.type === 'Exception')).toEqual([expect.objectContaining({ subject: 'Weekly team meeting (moved)', start: exception.start })]);
    expect(items.filter((i) => i.type === 'Occurrence')).toHaveLength(6);
    expect(items.map((i) => i.start)).not.toContain(master.deletedOccurrences[0]);
    expect(items.map((i) => i.start)).not.toContain(exception.originalStart);
    expect(new Set(items.map((i) => i.uid))).toEqual(new Set([master.uid]));
  });

  it('creates a series, changes one occurrence and deletes another through occurrence ids', async () => {
    const r = await py.ok({ step: 'series', mailbox: AINO, subject: 'Sprint review', start: '2027-01-04T09:00:00', count: 6 });
    const master = onlyItem(sim.mailbox(AINO).items(), 'Sprint review');
    expect(master.calendarItemType).toBe('RecurringMaster');
    expect(master.modifiedOccurrences.map((o) => o.originalStart)).toEqual([r.moved_original_start]);
    expect(master.modifiedOccurrences[0]).toMatchObject({ subject: 'Sprint review (moved)', start: '2027-01-11T08:00:00Z' });
    expect(master.deletedOccurrences).toEqual([r.deleted_start]);
    expect(r.master).toMatchObject({ type: 'RecurringMaster', modified_occurrences: [r.moved_original_start], deleted_occurrences: [r.deleted_start] });
    const view = await py.ok({ step: 'view', mailbox: AINO, start: '2027-01-01T00:00:00Z', end: '2027-03-01T00:00:00Z', subject_prefix: 'Sprint review' });
    expect((view.items as unknown[]).length).toBe(5);
  });

  it('syncs the calendar: initial, then creates, updates and deletes made in Outlook, then nothing', async () => {
    const first = await py.ok({ step: 'sync', mailbox: MIKKO, state: null, max: 2 });
    const changes = first.changes as { create: Array<{ id: string }>; update: unknown[]; delete: string[] };
    const mikkoItems = sim.mailbox(MIKKO).items();
    expect(changes.create.map((c) => c.id).sort()).toEqual(mikkoItems.map((i) => i.id).sort());
    expect(changes.update).toEqual([]);
    expect(sim.counters().byOperation.SyncFolderItems).toBeGreaterThanOrEqual(Math.ceil(mikkoItems.length / 2));

    const outlook = sim.mailbox(MIKKO);
    const added = outlook.create({ subject: 'Dentist (Mikko)', start: '2026-12-03T07:00:00Z', end: '2026-12-03T08:00:00Z', sensitivity: 'Private' });
    const changed = outlook.update(onlyItem(mikkoItems, 'Lunch with Jussi').id, { location: 'Ravintola Savoy' });
    const removed = onlyItem(mikkoItems, 'Contoso intranet: sprint planning');
    outlook.delete(removed.id);

    const second = await py.ok({ step: 'sync', mailbox: MIKKO, state: first.state, max: 512 });
    const delta = second.changes as { create: Array<{ id: string; subject: string }>; update: Array<{ id: string }>; delete: string[] };
    expect(delta.create).toEqual([{ id: added.id, subject: 'Dentist (Mikko)' }]);
    expect(delta.update.map((u) => u.id)).toEqual([changed.id]);
    expect(delta.delete).toEqual([removed.id]);

    const third = await py.ok({ step: 'sync', mailbox: MIKKO, state: second.state, max: 512 });
    expect(third.changes).toMatchObject({ create: [], update: [], delete: [] });
  });

  it('reports ErrorServerBusy with its back-off, and exchangelib retries after it when allowed to', async () => {
    const target = sim.mailbox(MIKKO).items()[0];
    sim.setFaults({ forceNext: { kind: 'serverBusy', count: 1 }, serverBusyBackOffMs: 300, onlyOperations: ['GetItem'] });
    const before = sim.counters().byOperation.GetItem ?? 0;
    const failFast = await py.run({ step: 'server_busy', mailbox: MIKKO, id: target.id, policy: 'failfast' });
    expect(failFast).toMatchObject({ ok: false, error: 'ErrorServerBusy', back_off: 0.3 });
    expect(sim.counters().byOperation.GetItem).toBe(before + 1);

    sim.setFaults({ forceNext: { kind: 'serverBusy', count: 1 }, serverBusyBackOffMs: 300, onlyOperations: ['GetItem'] });
    const tolerant = await py.ok({ step: 'server_busy', mailbox: MIKKO, id: target.id, policy: 'tolerant' });
    expect(tolerant.subject).toBe(target.subject);
    expect(sim.counters().byOperation.GetItem).toBe(before + 3); // the refused try and its retry
    expect(sim.faultsInjected().serverBusy).toBe(2);
    sim.setFaults({});
  });
});
