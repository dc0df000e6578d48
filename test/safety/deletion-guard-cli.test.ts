import { describe, expect, it } from 'vitest';
import type { JournalEntryView, RestoreResultView } from '../../src-main/common/ipc-contract.ts';
import { checkAgreement } from '../soak/agreement-check.ts';
import { localMs } from '../soak/firm-time.ts';
import { problemsOf, settle } from '../soak/soak-harness.ts';
import { firmOf, startSyncWorld, TIME_ZONE, TYPES, type Person, type SyncWorld } from '../soak/sync-world.ts';

/**
 * The mass-deletion guard, the emptied-side stop, the deletion journal and restore, proven end to end: the real CLI
 * over HTTP against both simulators (the engine's own tests prove the same rules with in-memory fakes).
 */

function severaEntries(world: SyncWorld, owner: Person, count: number): string[] {
  const guids: string[] = [];
  for (let i = 1; i <= count; i++) {
    const start = localMs(world.today, i, 9 + (i % 6));
    const a = world.severa.createActivity({ name: `K${i} planning`, startDateTime: new Date(start).toISOString(), endDateTime: new Date(start + 3_600_000).toISOString(), activityType: { guid: TYPES.meeting }, ownerUser: { guid: owner.severaGuid } });
    guids.push(String(a.guid));
  }
  return guids;
}

function outlookEntries(world: SyncWorld, owner: Person, from: number, count: number): void {
  for (let i = from; i < from + count; i++) {
    const start = localMs(world.today, i, 14);
    world.ews.mailbox(owner.mailbox).create({ subject: `K${i} customer call`, start: new Date(start).toISOString(), end: new Date(start + 1_800_000).toISOString(), timeZone: TIME_ZONE });
  }
}

const subjects = (world: SyncWorld, p: Person) => world.ews.mailbox(p.mailbox).items().map((i) => i.subject).sort();
const severaNames = (world: SyncWorld, p: Person) => world.severa.activities().filter((a) => (a.ownerUser as { guid: string }).guid === p.severaGuid).map((a) => String(a.name)).sort();

async function journal(world: SyncWorld): Promise<JournalEntryView[]> {
  const run = await world.runCli(['restore', '--list', '--json', '--config', world.configPath, '--data-dir', world.dataDir]);
  expect(run.exitCode, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as JournalEntryView[];
}

async function restore(world: SyncWorld, ids: string[]): Promise<RestoreResultView[]> {
  const run = await world.runCli(['restore', ...ids, '--json', '--config', world.configPath, '--data-dir', world.dataDir]);
  expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  return JSON.parse(run.stdout) as RestoreResultView[];
}

describe('mass-deletion guard over HTTP, with the real CLI', () => {
  it('12 of 15 activities deleted in Severa: held and reported until --confirm-deletions, journaled, and restorable', { timeout: 180_000 }, async () => {
    const world = await startSyncWorld({ people: firmOf(1) });
    try {
      const [aino] = world.people;
      const guids = severaEntries(world, aino, 15);
      expect((await settle(world, 3)).quiet).toBe(true);
      expect(subjects(world, aino)).toHaveLength(15);

      for (const guid of guids.slice(0, 12)) world.severa.deleteActivity(guid);
      for (let attempt = 0; attempt < 2; attempt++) {
        const held = await world.runCycle();
        expect(held.exitCode).toBe(1);
        const user = held.report!.users[0];
        expect(user.heldDeletions).toBe(12);
        expect(user.toExchange.deleted).toBe(0);
        expect(user.errors).toContainEqual(expect.objectContaining({ code: 'mass-deletion-held', fix: expect.stringContaining('--confirm-deletions') }));
        expect(subjects(world, aino)).toHaveLength(15);
      }

      const confirmed = await world.runCycle({ confirmDeletions: true });
      expect(confirmed.report!.users[0].toExchange.deleted).toBe(12);
      expect(subjects(world, aino)).toEqual(['K13 planning', 'K14 planning', 'K15 planning']);
      expect(world.ews.mailbox(aino.mailbox).deletedItems()).toHaveLength(12);

      const entries = await journal(world);
      expect(entries.filter((e) => e.side === 'exchange' && !e.restored).map((e) => e.subject).sort()).toEqual(guids.slice(0, 12).map((_, i) => `K${i + 1} planning`).sort());
      const k5 = entries.find((e) => e.subject === 'K5 planning')!;
      expect((await restore(world, [k5.id]))[0].ok).toBe(true);
      expect(subjects(world, aino)).toContain('K5 planning');
      expect((await journal(world)).find((e) => e.id === k5.id)?.restored).toBe(true);

      // The restored entry is synced again like a new one: it ends up on both sides, once.
      const after = await settle(world, 3);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(subjects(world, aino).filter((s) => s === 'K5 planning')).toHaveLength(1);
      expect(severaNames(world, aino).filter((s) => s === 'K5 planning')).toHaveLength(1);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });

  it('12 of 15 entries deleted in Outlook: the Severa deletions are held the same way', { timeout: 180_000 }, async () => {
    const world = await startSyncWorld({ people: firmOf(1) });
    try {
      const [aino] = world.people;
      outlookEntries(world, aino, 1, 15);
      expect((await settle(world, 3)).quiet).toBe(true);
      expect(severaNames(world, aino)).toHaveLength(15);

      const mailbox = world.ews.mailbox(aino.mailbox);
      for (const item of mailbox.items().slice(0, 12)) mailbox.delete(item.id);
      const held = await world.runCycle();
      expect(held.report!.users[0].heldDeletions).toBe(12);
      expect(held.report!.users[0].toSevera.deleted).toBe(0);
      expect(severaNames(world, aino)).toHaveLength(15);

      const confirmed = await world.runCycle({ confirmDeletions: true });
      expect(confirmed.report!.users[0].toSevera.deleted).toBe(12);
      expect(severaNames(world, aino)).toHaveLength(3);
      const entries = (await journal(world)).filter((e) => e.side === 'severa');
      expect(entries).toHaveLength(12);
      expect((await restore(world, [entries[0].id]))[0].ok).toBe(true);
      expect(severaNames(world, aino)).toContain(entries[0].subject);
      const after = await settle(world, 3);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(subjects(world, aino)).toContain(entries[0].subject);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });

  it('an emptied Outlook calendar stops that user instead of emptying Severa; the other user syncs on', { timeout: 180_000 }, async () => {
    const world = await startSyncWorld({ people: firmOf(2) });
    try {
      const [aino, mikko] = world.people;
      outlookEntries(world, mikko, 1, 4);
      outlookEntries(world, aino, 10, 2);
      expect((await settle(world, 3)).quiet).toBe(true);
      expect(severaNames(world, mikko)).toHaveLength(4);

      const mailbox = world.ews.mailbox(mikko.mailbox);
      for (const item of mailbox.items()) mailbox.delete(item.id);
      outlookEntries(world, aino, 20, 1);
      for (let attempt = 0; attempt < 2; attempt++) {
        const stopped = await world.runCycle();
        const m = stopped.report!.users.find((u) => u.email === mikko.severaEmail)!;
        expect(m.outcome).toBe('failed');
        expect(m.errors).toContainEqual(expect.objectContaining({ code: 'side-emptied', fix: expect.stringContaining('--confirm-deletions') }));
        expect(severaNames(world, mikko)).toHaveLength(4);
        expect(stopped.report!.users.find((u) => u.email === aino.severaEmail)!.outcome).toBe('ok');
      }
      expect(severaNames(world, aino)).toContain('K20 customer call');

      const confirmed = await world.runCycle({ confirmDeletions: true });
      expect(confirmed.report!.users.find((u) => u.email === mikko.severaEmail)!.toSevera.deleted).toBe(4);
      expect(severaNames(world, mikko)).toEqual([]);
      expect((await journal(world)).filter((e) => e.email === mikko.severaEmail && e.side === 'severa')).toHaveLength(4);
    } finally {
      await world.close();
    }
  });
});
