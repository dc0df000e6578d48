import { describe, expect, it } from 'vitest';
import { checkAgreement } from '../soak/agreement-check.ts';
import { problemsOf, settle } from '../soak/soak-harness.ts';
import { SeededRandom } from '../soak/seeded-random.ts';
import { SoakWorkload, type EditKind } from '../soak/soak-workload.ts';
import { localMs } from '../soak/firm-time.ts';
import { firmOf, startSyncWorld, TIME_ZONE, TYPES, type KillPlan, type SyncWorld } from '../soak/sync-world.ts';

/**
 * Crash safety, proven with real processes: the sync (the real CLI, a child process) is killed with SIGKILL after its
 * N-th write request, for every N from the first write of the cycle to the last, and the next cycles must finish with
 * no duplicate, no loss and both sides in agreement.
 *
 * "after-server" kills are the dangerous ones: the server carried the write out, the sync never heard back, so only the
 * intent written before the write and the tag on the item let the next run find it again instead of writing it twice.
 * "before-server" kills leave a written intent whose write never happened.
 */

/** What users did before the first sync: entries on both sides, a twin typed on both, a meeting, series. */
const BEFORE_FIRST_SYNC: EditKind[] = ['both.twin', 'ex.create', 'ex.create', 'ex.meeting', 'ex.series', 'sv.create', 'sv.create', 'sv.participants', 'sv.series', 'sv.create'];
/** What users did between the first sync and the killed one: changes, deletions (journaled), occurrences, new entries. */
const BETWEEN_SYNCS: EditKind[] = ['ex.update', 'ex.update', 'sv.update', 'sv.update', 'ex.delete', 'sv.delete', 'ex.occurrence', 'sv.occurrence', 'ex.create', 'sv.create', 'sv.addParticipant'];

type Phase = 'first sync' | 'incremental sync';

interface Scenario {
  world: SyncWorld;
  workload: SoakWorkload;
}

/** The same firm, the same edits (seeded) every time, up to the cycle that is to be killed. */
async function scenario(phase: Phase): Promise<Scenario> {
  const world = await startSyncWorld({ people: firmOf(2) });
  try {
    const workload = new SoakWorkload(world, new SeededRandom(11), { series: true });
    // Enough entries per user that the deletions below are ordinary edits, not an emptied side.
    for (const kind of BEFORE_FIRST_SYNC) workload.edit(kind);
    if (phase === 'incremental sync') {
      const first = await settle(world, 4, workload);
      if (!first.quiet) throw new Error(`The sync before the killed one did not settle: ${first.runs.flatMap(problemsOf).join(' / ')}`);
      for (const kind of BETWEEN_SYNCS) workload.edit(kind);
    }
    return { world, workload };
  } catch (error) {
    await world.close();
    throw error;
  }
}

interface KillOutcome {
  n: number;
  at: string;
  quiet: boolean;
  duplicates: number;
  losses: number;
  mismatches: number;
  details: string[];
}

async function killAndRecover(phase: Phase, plan: KillPlan): Promise<KillOutcome> {
  const { world, workload } = await scenario(phase);
  try {
    const killed = await world.runCycle({ kill: plan });
    if (!killed.killed) return { n: plan.n, at: 'the cycle ended before this write', quiet: true, duplicates: 0, losses: 0, mismatches: 0, details: [] };
    const after = await settle(world, 5);
    const verdict = checkAgreement(world, workload.entries);
    return {
      n: plan.n,
      at: `${killed.killedAt!.side} ${killed.killedAt!.operation}`,
      quiet: after.quiet,
      duplicates: verdict.duplicates,
      losses: verdict.losses,
      mismatches: verdict.mismatches,
      details: [...verdict.details.duplicates, ...verdict.details.losses, ...verdict.details.mismatches, ...(after.quiet ? [] : after.runs.flatMap(problemsOf))],
    };
  } finally {
    await world.close();
  }
}

/** The writes an uninterrupted cycle makes, and proof that, uninterrupted, it ends in agreement. */
async function writesOfCleanCycle(phase: Phase): Promise<{ writes: string[] }> {
  const { world, workload } = await scenario(phase);
  try {
    const from = world.control.seq;
    const run = await world.runCycle();
    const writes = world.control.seen.filter((r) => r.seq > from && r.isWrite).map((r) => `${r.side} ${r.operation}`);
    expect(run.report, run.stderr).not.toBeNull();
    const after = await settle(world, 4);
    const verdict = checkAgreement(world, workload.entries);
    expect({ quiet: after.quiet, problems: after.runs.flatMap(problemsOf), ...verdict.details }).toEqual({ quiet: true, problems: [], duplicates: [], losses: [], mismatches: [] });
    return { writes };
  } finally {
    await world.close();
  }
}

async function killAtEveryWrite(phase: Phase, mode: KillPlan['mode']): Promise<void> {
  const { writes } = await writesOfCleanCycle(phase);
  // A cycle that writes nothing would make this test vacuous.
  expect(writes.length).toBeGreaterThan(3);
  const outcomes: KillOutcome[] = [];
  for (let n = 1; n <= writes.length; n++) outcomes.push(await killAndRecover(phase, { count: 'write', n, mode }));
  const killedSomewhere = outcomes.filter((o) => o.at !== 'the cycle ended before this write');
  expect(killedSomewhere.length).toBeGreaterThanOrEqual(writes.length - 1);
  const bad = outcomes.filter((o) => !o.quiet || o.duplicates > 0 || o.losses > 0 || o.mismatches > 0);
  expect(bad, `kills with damage (${mode}): ${JSON.stringify(bad, null, 2)}`).toEqual([]);
}

describe('killed at every write of a cycle, the next cycles end with no duplicate and no loss', () => {
  it('first sync, killed after the server carried out the N-th write', { timeout: 600_000 }, async () => {
    await killAtEveryWrite('first sync', 'after-server');
  });

  it('first sync, killed just before the N-th write reached the server', { timeout: 600_000 }, async () => {
    await killAtEveryWrite('first sync', 'before-server');
  });

  it('incremental sync with updates, deletions, occurrences and new entries, killed after the server carried out the N-th write', { timeout: 600_000 }, async () => {
    await killAtEveryWrite('incremental sync', 'after-server');
  });
});

describe('a copy re-created in Exchange, killed before the sync recorded it', () => {
  it('is found again by its tag instead of being created a second time', { timeout: 120_000 }, async () => {
    const world = await startSyncWorld({ people: firmOf(1) });
    try {
      const aino = world.people[0];
      const guids: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const start = localMs(world.today, 2 + i, 10);
        const created = world.severa.createActivity({ name: `K${i} planning r1`, startDateTime: new Date(start).toISOString(), endDateTime: new Date(start + 3_600_000).toISOString(), activityType: { guid: TYPES.meeting }, ownerUser: { guid: aino.severaGuid } });
        guids.push(String(created.guid));
      }
      expect((await settle(world, 3)).quiet).toBe(true);
      // Aino renames K1 in Severa and deletes its copy in Outlook: the change wins over the deletion, so the sync
      // creates the copy again, and is killed once Exchange has created it.
      world.severa.updateActivity(guids[0], { name: 'K1 planning r2' });
      const mailbox = world.ews.mailbox(aino.mailbox);
      for (const item of mailbox.items().filter((i) => i.subject.startsWith('K1 '))) mailbox.delete(item.id);
      const killed = await world.runCycle({ kill: { count: 'write', n: 1, mode: 'after-server' } });
      expect(killed.killedAt?.operation).toBe('CreateItem');
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(mailbox.items().filter((i) => i.subject.startsWith('K1 ')).map((i) => i.subject)).toEqual(['K1 planning r2']);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });

  it("an update the killed run made is not mistaken for a user's change when the entry is then deleted in Severa", { timeout: 120_000 }, async () => {
    const world = await startSyncWorld({ people: firmOf(1) });
    try {
      const aino = world.people[0];
      const guids: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const start = localMs(world.today, 2 + i, 10);
        const created = world.severa.createActivity({ name: `K${i} planning r1`, startDateTime: new Date(start).toISOString(), endDateTime: new Date(start + 3_600_000).toISOString(), activityType: { guid: TYPES.meeting }, ownerUser: { guid: aino.severaGuid } });
        guids.push(String(created.guid));
      }
      expect((await settle(world, 3)).quiet).toBe(true);
      // Aino edits K1's notes in Severa; the sync copies them to Exchange and is killed before recording that.
      world.severa.updateActivity(guids[0], { notes: 'Agenda attached.' });
      const killed = await world.runCycle({ kill: { count: 'write', n: 1, mode: 'after-server' } });
      expect(killed.killedAt?.operation).toBe('UpdateItem');
      // Then she deletes K1 in Severa: it must go from Exchange too, not come back from the sync's own copy.
      world.severa.deleteActivity(guids[0]);
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.severa.activities().map((a) => String(a.name)).sort()).toEqual(['K2 planning r1', 'K3 planning r1']);
      expect(world.ews.mailbox(aino.mailbox).items().map((i) => i.subject).sort()).toEqual(['K2 planning r1', 'K3 planning r1']);
    } finally {
      await world.close();
    }
  });

  it('an activity created just before a kill and changed by its owner before the next run is still recognised, not doubled', { timeout: 120_000 }, async () => {
    const world = await startSyncWorld({ people: firmOf(1) });
    try {
      const mikko = world.people[0];
      const mailbox = world.ews.mailbox(mikko.mailbox);
      for (let i = 2; i <= 3; i++) {
        const start = localMs(world.today, 5 + i, 9);
        mailbox.create({ subject: `K${i} anchor`, start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), timeZone: TIME_ZONE });
      }
      expect((await settle(world, 3)).quiet).toBe(true);
      // Mikko's new Outlook entry: the sync creates its activity and is killed before it hears back.
      const start = localMs(world.today, 4, 9);
      mailbox.create({ subject: 'K1 retro', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), timeZone: TIME_ZONE });
      const killed = await world.runCycle({ kill: { count: 'write', n: 1, mode: 'after-server' } });
      expect(killed.killedAt?.operation).toBe('POST /v1/activities');
      // Before the next run Mikko finds the activity in Severa and moves it an hour later.
      const created = world.severa.activities().find((a) => String(a.name).startsWith('K1 '))!;
      world.severa.updateActivity(String(created.guid), { startDateTime: new Date(start + 3_600_000).toISOString(), endDateTime: new Date(start + 7_200_000).toISOString() });
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K1 '))).toHaveLength(1);
      expect(mailbox.items().filter((i) => i.subject.startsWith('K1 '))).toHaveLength(1);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
    } finally {
      await world.close();
    }
  });
});
