/**
 * State snapshots: a simulator started from another one's exportState() answers every request as the first one would
 * have: the same ItemIds and ChangeKeys, sync states the first one issued still valid (a caught-up one reports no
 * changes), the same CalendarView, Deleted Items, and writes that carry on with the same numbering and conflict checks.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EwsStateError, loadEwsSeed, loadEwsState, startEwsSimulator } from './ews-simulator.ts';
import type { EwsSimulator, EwsState } from './ews-simulator.ts';
import { calendarItemXml, createOne, createXml, itemShape, messages, soap } from './ews-test-client.ts';

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const SARA = 'sara.nieminen@contoso.example';
const MAILBOXES = [AINO, MIKKO, SARA, 'jussi.korhonen@contoso.example', 'leena.makela@contoso.example'];
const DEMO_SEED = fileURLToPath(new URL('../demo/ews-demo.json', import.meta.url));
const TAG = '<t:ExtendedFieldURI PropertySetId="8b5e2f1c-0c1d-4e6a-9a61-5e1f0b0c5e75" PropertyName="SeveraGuid" PropertyType="String"/>';

const syncXml = (state: string | null, max: number) =>
  `<m:SyncFolderItems>${itemShape('IdOnly', '<t:FieldURI FieldURI="item:Subject"/>')}<m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId>` +
  `${state === null ? '' : `<m:SyncState>${state}</m:SyncState>`}<m:MaxChangesReturned>${max}</m:MaxChangesReturned></m:SyncFolderItems>`;

/** Every page from `state` on: the raw answers and the state after the last page. */
async function syncAll(sim: EwsSimulator, mailbox: string, state: string | null, max = 3): Promise<{ pages: string[]; state: string; changes: number }> {
  const pages: string[] = [];
  let changes = 0;
  for (let i = 0; i < 100; i++) {
    const r = await soap(sim.url, syncXml(state, max), { impersonate: mailbox });
    const m = messages(r, 'SyncFolderItems')[0];
    if (m?.ResponseCode !== 'NoError') throw new Error(`SyncFolderItems failed: ${r.text}`);
    pages.push(r.text);
    const c = m.Changes ?? {};
    changes += [c.Create ?? [], c.Update ?? [], c.Delete ?? []].flat().length;
    state = m.SyncState as string;
    if (m.IncludesLastItemInRange === 'true') return { pages, state, changes };
  }
  throw new Error('SyncFolderItems never reached the end');
}

const update = (id: string, changeKey: string, field: string, xml: string, mode = 'AutoResolve') =>
  `<m:UpdateItem ConflictResolution="${mode}" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}" ChangeKey="${changeKey}"/>` +
  `<t:Updates><t:SetItemField><t:FieldURI FieldURI="${field}"/><t:CalendarItem>${xml}</t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`;
const del = (idXml: string, type: string) =>
  `<m:DeleteItem DeleteType="${type}" SendMeetingCancellations="SendToNone"><m:ItemIds>${idXml}</m:ItemIds></m:DeleteItem>`;
const getAll = (ids: string[]) => `<m:GetItem>${itemShape('AllProperties', TAG)}<m:ItemIds>${ids.map((id) => `<t:ItemId Id="${id}"/>`).join('')}</m:ItemIds></m:GetItem>`;
const calendarView = `<m:FindItem Traversal="Shallow">${itemShape('AllProperties')}<m:CalendarView StartDate="${new Date(Date.now() - 40 * 86_400_000).toISOString()}" EndDate="${new Date(Date.now() + 200 * 86_400_000).toISOString()}"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`;

const withoutSavedAt = (s: EwsState) => ({ ...s, savedAt: undefined });

let original: EwsSimulator;
let restored: EwsSimulator;
let exported: EwsState;
/** Per mailbox: a sync state from before the writes below, and one taken after all of them (caught up). */
const behind = new Map<string, string>();
const caughtUp = new Map<string, string>();
/** Aino's sync state in the middle of paging through the changes. */
let midway: string;
let edited: { id: string; changeKeyBefore: string; changeKeyAfter: string };

beforeAll(async () => {
  original = await startEwsSimulator({ seed: loadEwsSeed(DEMO_SEED) });
  for (const m of MAILBOXES) behind.set(m, (await syncAll(original, m, null)).state);

  // Every kind of write: create (tagged), update, the three deletions, an occurrence changed and one deleted, Outlook edits.
  const a = await createOne(original.url, AINO, 'Tagged by the sync', '2026-09-01T09:00:00Z', '2026-09-01T10:00:00Z',
    `<t:ExtendedProperty>${TAG}<t:Value>activity-1</t:Value></t:ExtendedProperty>`);
  const upd = messages(await soap(original.url, update(a.id, a.changeKey, 'calendar:Location', '<t:Location>Room 7</t:Location>'), { impersonate: AINO }), 'UpdateItem')[0];
  edited = { id: a.id, changeKeyBefore: a.changeKey, changeKeyAfter: upd.Items.CalendarItem[0].ItemId['@ChangeKey'] };
  for (const [subject, type] of [['Moved to Deleted Items', 'MoveToDeletedItems'], ['Hard deleted', 'HardDelete'], ['Soft deleted', 'SoftDelete']]) {
    const x = await createOne(original.url, AINO, subject, '2026-09-02T09:00:00Z', '2026-09-02T10:00:00Z');
    expect(messages(await soap(original.url, del(`<t:ItemId Id="${x.id}"/>`, type), { impersonate: AINO }), 'DeleteItem')[0].ResponseCode).toBe('NoError');
  }
  const weekly = original.mailbox(AINO).items().find((i) => i.subject === 'Weekly team meeting')!;
  const occ = (n: number) => `<t:OccurrenceItemId RecurringMasterId="${weekly.id}" InstanceIndex="${n}"/>`;
  const occUpdate = `<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>${occ(6)}<t:Updates><t:SetItemField><t:FieldURI FieldURI="calendar:Location"/><t:CalendarItem><t:Location>Kota</t:Location></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`;
  expect(messages(await soap(original.url, occUpdate, { impersonate: AINO }), 'UpdateItem')[0].ResponseCode).toBe('NoError');
  expect(messages(await soap(original.url, del(occ(7), 'MoveToDeletedItems'), { impersonate: AINO }), 'DeleteItem')[0].ResponseCode).toBe('NoError');
  const lunch = original.mailbox(MIKKO).items().find((i) => i.subject === 'Lunch with Jussi')!;
  original.mailbox(MIKKO).update(lunch.id, { subject: 'Lunch with Jussi and Sara', location: 'Sea Horse' });
  original.mailbox(SARA).create({ subject: 'Dentist (Sara)', start: '2026-09-03T07:00:00Z', end: '2026-09-03T08:00:00Z', sensitivity: 'Private' });

  midway = messages(await soap(original.url, syncXml(behind.get(AINO)!, 1), { impersonate: AINO }), 'SyncFolderItems')[0].SyncState;
  for (const m of MAILBOXES) caughtUp.set(m, (await syncAll(original, m, behind.get(m)!)).state);

  // Through JSON text, as it goes to a file.
  exported = JSON.parse(JSON.stringify(original.exportState())) as EwsState;
  restored = await startEwsSimulator({ state: exported });
}, 60_000);

afterAll(async () => {
  await Promise.all([original?.close(), restored?.close()]);
});

describe('a simulator started from an exported state', () => {
  it('holds the same items with the same ItemIds and ChangeKeys, and the same Deleted Items', () => {
    for (const m of MAILBOXES) {
      expect(restored.mailbox(m).items(), m).toEqual(original.mailbox(m).items());
      expect(restored.mailbox(m).deletedItems(), m).toEqual(original.mailbox(m).deletedItems());
    }
    expect(restored.mailbox(AINO).items().find((i) => i.id === edited.id)?.changeKey).toBe(edited.changeKeyAfter);
    expect(restored.mailbox(AINO).deletedItems().map((i) => i.subject)).toContain('Moved to Deleted Items');
  });

  it('answers GetItem and a CalendarView word for word as the first one', async () => {
    for (const m of MAILBOXES) {
      const ids = original.mailbox(m).items().map((i) => i.id);
      const [a, b] = await Promise.all([soap(original.url, getAll(ids), { impersonate: m }), soap(restored.url, getAll(ids), { impersonate: m })]);
      expect(messages(b, 'GetItem').every((x) => x.ResponseCode === 'NoError')).toBe(true);
      expect(b.text, m).toBe(a.text);
      const [va, vb] = await Promise.all([soap(original.url, calendarView, { impersonate: m }), soap(restored.url, calendarView, { impersonate: m })]);
      expect(vb.text, m).toBe(va.text);
    }
  });

  it('takes the sync states the first one issued: a caught-up one reports no changes', async () => {
    for (const m of MAILBOXES) {
      const r = await syncAll(restored, m, caughtUp.get(m)!);
      expect(r.changes, m).toBe(0);
      expect(r.state, m).toBe(caughtUp.get(m));
    }
  });

  it('gives an older or half-paged sync state the same changes as the first one would', async () => {
    for (const m of MAILBOXES) {
      const [a, b] = await Promise.all([syncAll(original, m, behind.get(m)!, 2), syncAll(restored, m, behind.get(m)!, 2)]);
      expect(b.pages, m).toEqual(a.pages);
    }
    const [a, b] = await Promise.all([syncAll(original, AINO, midway, 1), syncAll(restored, AINO, midway, 1)]);
    expect(b.changes).toBeGreaterThan(0);
    expect(b.pages).toEqual(a.pages);
  });

  it('exports again exactly what it was started from', () => {
    expect(withoutSavedAt(restored.exportState())).toEqual(withoutSavedAt(exported));
  });

  it('carries on writing as the first one would: the next ItemId, ChangeKey checks against the old versions', async () => {
    const create = createXml(calendarItemXml('After the restart', '2026-09-10T09:00:00Z', '2026-09-10T10:00:00Z'));
    const [ca, cb] = await Promise.all([soap(original.url, create, { impersonate: AINO }), soap(restored.url, create, { impersonate: AINO })]);
    expect(messages(cb, 'CreateItem')[0].ResponseCode).toBe('NoError');
    expect(cb.text).toBe(ca.text);
    // A ChangeKey from before the edit: a different field merges (AutoResolve), the same field conflicts.
    const subject = update(edited.id, edited.changeKeyBefore, 'item:Subject', '<t:Subject>Renamed</t:Subject>');
    const location = update(edited.id, edited.changeKeyBefore, 'calendar:Location', '<t:Location>Room 9</t:Location>');
    for (const sim of [original, restored]) {
      expect(messages(await soap(sim.url, subject, { impersonate: AINO }), 'UpdateItem')[0].ResponseCode).toBe('NoError');
      expect(messages(await soap(sim.url, location, { impersonate: AINO }), 'UpdateItem')[0].ResponseCode).toBe('ErrorIrresolvableConflict');
    }
    // A new item's UID is random on a real server too; everything else matches.
    const withoutUid = (sim: EwsSimulator) => sim.mailbox(AINO).items().map((i) => ({ ...i, uid: i.subject === 'After the restart' ? '(random)' : i.uid }));
    expect(withoutUid(restored)).toEqual(withoutUid(original));
  });

  it('is what makes the old sync states valid: a simulator started from the seed again refuses them', async () => {
    const fresh = await startEwsSimulator({ seed: loadEwsSeed(DEMO_SEED) });
    try {
      const r = await soap(fresh.url, syncXml(caughtUp.get(AINO)!, 10), { impersonate: AINO });
      expect(messages(r, 'SyncFolderItems')[0].ResponseCode).toBe('ErrorInvalidSyncStateData');
      expect(fresh.mailbox(AINO).items().map((i) => i.id)).not.toContain(edited.id);
    } finally {
      await fresh.close();
    }
  });
});

describe('a snapshot that cannot be loaded', () => {
  const copy = (): any => structuredClone(exported);
  const refuse = (state: unknown) => startEwsSimulator({ state: state as EwsState });

  it('needs exactly one of seed and state', async () => {
    await expect(startEwsSimulator({})).rejects.toThrow(/either a seed or a state/);
    await expect(startEwsSimulator({ seed: loadEwsSeed(DEMO_SEED), state: exported })).rejects.toThrow(/either a seed or a state/);
  });

  it('names a wrong format or version', async () => {
    await expect(refuse({ ...copy(), version: 2 })).rejects.toThrow(/format version 2; this simulator reads version 1 only/);
    await expect(refuse({ ...copy(), format: 'severa-simulator-state' })).rejects.toThrow(/not an EWS simulator state snapshot/);
    await expect(refuse([])).rejects.toThrow(EwsStateError);
  });

  it('names the field that is missing or wrong', async () => {
    const s = copy();
    delete s.calendars[0].items[0].item.changeKey;
    await expect(refuse(s)).rejects.toThrow(/calendars\[0\]\.items\[0\]\.item\.changeKey/);
    const t = copy();
    t.syncKey = 'short';
    await expect(refuse(t)).rejects.toThrow(/syncKey/);
  });

  it('refuses a snapshot whose ids, ChangeKeys or journal do not fit together', async () => {
    const ck = copy();
    const item = ck.calendars[0].items[1];
    item.version += 1;
    await expect(refuse(ck)).rejects.toThrow(new RegExp(`mailbox ${AINO}: item ${item.number} \\('${item.item.subject}'\\): its ChangeKey does not match`));
    const journal = copy();
    journal.calendars[0].journal.pop();
    await expect(refuse(journal)).rejects.toThrow(/the journal has \d+ entries but seq is \d+/);
    const stranger = copy();
    stranger.calendars[0].mailbox = 'nobody@contoso.example';
    await expect(refuse(stranger)).rejects.toThrow(/calendar for nobody@contoso\.example, which is no mailbox/);
  });

  it('reports a file that is missing or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ews-state-'));
    try {
      writeFileSync(join(dir, 'broken.json'), '{"format": "ews-simulator-state",');
      expect(() => loadEwsState(join(dir, 'broken.json'))).toThrow(/broken\.json is not valid JSON/);
      expect(() => loadEwsState(join(dir, 'missing.json'))).toThrow(/Cannot read the EWS simulator state file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the command line', () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

  /** Starts the CLI, waits for its listening line, runs `during`, then stops it with SIGTERM. */
  function runUntilStopped(args: string[], during: (url: string) => Promise<void>): Promise<{ code: number | null; err: string }> {
    return new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [cli, ...args]);
      let out = '';
      let err = '';
      let started = false;
      p.stderr.on('data', (d: Buffer) => (err += d));
      p.stdout.on('data', (d: Buffer) => {
        out += d;
        const url = /EWS endpoint: (\S+)/.exec(out)?.[1];
        if (url && !started) {
          started = true;
          during(url).then(() => p.kill('SIGTERM'), (e: unknown) => (p.kill('SIGKILL'), reject(e)));
        }
      });
      p.on('close', (code) => resolve({ code, err }));
    });
  }

  it('saves the state on SIGTERM with --save-state and starts from it with --state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ews-state-cli-'));
    const file = join(dir, 'ews-state.json');
    try {
      let created = '';
      const first = await runUntilStopped(['--data', DEMO_SEED, '--save-state', file], async (url) => {
        created = (await createOne(url, AINO, 'Made before the stop', '2026-09-01T09:00:00Z', '2026-09-01T10:00:00Z')).id;
      });
      expect(first.err).toBe('');
      expect(first.code).toBe(0);
      const saved = JSON.parse(readFileSync(file, 'utf8')) as EwsState;
      expect(saved.calendars.find((c) => c.mailbox === AINO)?.items.some((i) => i.item.id === created)).toBe(true);

      const second = await runUntilStopped(['--state', file], async (url) => {
        const r = await soap(url, getAll([created]), { impersonate: AINO });
        expect(messages(r, 'GetItem')[0].Items.CalendarItem[0].Subject).toBe('Made before the stop');
      });
      expect(second.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
