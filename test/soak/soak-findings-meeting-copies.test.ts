import { describe, expect, it } from 'vitest';
import { EXCHANGES } from '../sync/outlook-back-door.ts';
import { checkAgreement } from './agreement-check.ts';
import { localMs } from './firm-time.ts';
import { problemsOf, settle } from './soak-harness.ts';
import { firmOf, startSyncWorld, TIME_ZONE, type CycleRun } from './sync-world.ts';

/**
 * Soak findings about an attendee's copy of a meeting: the sync's own copy and the one the organizer's change delivers.
 * K40 (long EWS soak, seed 1) and K4, K90 before it ended with a second activity; their plain story, below, does not:
 * in those runs killed cycles fell between the steps, and that part is not cut down yet (docs/safety.md).
 */

describe.each(EXCHANGES)('soak findings: meeting copies on %s', (exchange) => {
  it('an attendee who left a meeting and got the sync\'s copy back has it replaced, not doubled, when the organizer\'s change delivers the meeting again (the plain story of K40)', { timeout: 120_000 }, async () => {
    const [aino, mikko] = firmOf(2);
    const world = await startSyncWorld({ exchange, people: [aino, mikko] });
    try {
      // Mikko invites Aino in Outlook; both sync: one activity, both take part.
      const start = localMs(world.today, 5, 13);
      const meeting = world.outlook.create(mikko.mailbox, {
        subject: 'K40 retro r1',
        start: new Date(start).toISOString(),
        end: new Date(start + 3_600_000).toISOString(),
        timeZone: TIME_ZONE,
        attendees: [aino.mailbox],
      });
      expect((await settle(world, 3)).quiet).toBe(true);
      const k40 = () => world.outlook.items(aino.mailbox).filter((i) => i.subject.startsWith('K40 '));
      expect(k40()).toHaveLength(1);
      // Aino removes the meeting from her calendar (she stays on its attendee list), then Mikko renames it in Severa:
      // a change beats a deletion, so the sync puts its own copy back in Aino's calendar.
      world.outlook.delete(aino.mailbox, k40()[0].id);
      const activity = world.severa.activities().find((a) => String(a.name).startsWith('K40 '))!;
      world.severa.updateActivity(String(activity.guid), { name: 'K40 call r3' });
      const back = await settle(world, 3);
      expect(back.quiet, back.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(k40().map((i) => i.subject)).toEqual(['K40 call r3']);
      // Mikko changes the meeting in Outlook: Exchange delivers it to Aino again.
      world.outlook.update(mikko.mailbox, meeting.id, { subject: 'K40 retro r4' });
      expect(k40().length).toBeGreaterThanOrEqual(1);
      const after = await settle(world, 4);
      expect(after.quiet, after.runs.flatMap(problemsOf).join(' / ')).toBe(true);
      expect(checkAgreement(world, new Map()).details).toEqual({ duplicates: [], losses: [], mismatches: [] });
      expect(reasonsOf(after.runs).filter((r) => r.startsWith('severa: new'))).toEqual([]);
      expect(world.severa.activities().filter((a) => String(a.name).startsWith('K40 '))).toHaveLength(1);
      expect(k40().map((i) => i.subject)).toEqual(['K40 retro r4']);
    } finally {
      await world.close();
    }
  });
});

/** Each change the runs made, as "side: reason". */
function reasonsOf(runs: CycleRun[]): string[] {
  return runs.flatMap((r) => r.report?.users.flatMap((u) => u.changes.map((c) => `${c.side}: ${c.reason}`)) ?? []);
}
