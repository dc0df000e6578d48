import { afterEach, describe, expect, it } from 'vitest';
import { startE2e, type E2eWorld } from './e2e-harness.ts';
import { EXCHANGES, type ExchangeKind } from './outlook-back-door.ts';

/**
 * Crash safety over real HTTP with the real connectors: the sync is "killed" (every later call fails, nothing more is
 * committed) just before or just after a side effect on either server; a fresh run then finishes the job. Both servers
 * must end exactly as after a run that never crashed: no duplicate, no loss. On both Exchanges (EWS and Graph).
 */

const MAILBOXES = ['aino.virtanen@contoso.example', 'mikko.lahtinen@contoso.example', 'sara.nieminen@contoso.example', 'jussi.korhonen@contoso.example', 'leena.makela@contoso.example'];

let world: E2eWorld | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

interface Act { guid: string; name: string; recurrenceType: string; startDateTime: string; ownerUser: { guid: string }; location: string | null }

function state(w: E2eWorld) {
  const severa = (w.severaSim.activities() as unknown as Act[])
    .map((a) => `${a.recurrenceType}|${a.name}|${Date.parse(a.startDateTime)}|${a.ownerUser.guid}|${a.location ?? ''}|${w.severaSim.store.participantsOf(a.guid).participants.map((p) => p.userGuid).sort().join(',')}`)
    .sort();
  const exchange = MAILBOXES.flatMap((m) => w.outlook.items(m).map((i) => `${m}|${i.subject}|${Date.parse(i.start)}|${i.location}|${i.exceptions.length}|${i.cancelledOccurrences.length}`)).sort();
  // Graph: the mails the sync made Exchange Online send (none, ever); EWS keeps no mail log (null).
  return { severa, exchange, mails: w.outlook.mailsSentBySync() };
}

/** The story: a first sync, then edits and deletions on both sides and a second sync. `crash` arms a fault in one of them. */
async function story(exchange: ExchangeKind, crash?: { phase: 1 | 2; method: string; when: 'before' | 'after'; nth: number }) {
  const w = (world = await startE2e({ exchange }));
  w.options.reconcileSliceSize = 5;
  const arm = (phase: 1 | 2) => {
    if (crash?.phase === phase) w.faults.arm({ method: crash.method, when: crash.when, nth: crash.nth });
  };
  const runPhase = async (phase: 1 | 2) => {
    arm(phase);
    await w.cycle();
    if (crash?.phase === phase) {
      expect(w.faults.fired, `${crash.method} ${crash.when} #${crash.nth} should fire`).toHaveLength(1);
      w.faults.revive();
      await w.cycle();
    }
  };
  await runPhase(1);
  const acts = w.severaSim.activities() as unknown as Act[];
  w.severaSim.updateActivity(acts.find((a) => a.name === 'Budget review')!.guid, { location: 'Board room' });
  w.severaSim.deleteActivity(acts.find((a) => a.name === 'Architecture workshop')!.guid);
  const lunch = w.outlook.items(MAILBOXES[1]).find((i) => i.subject === 'Lunch with Jussi')!;
  w.outlook.update(MAILBOXES[1], lunch.id, { location: 'Savoy' });
  const review = w.outlook.items(MAILBOXES[3]).find((i) => i.subject === 'Code review')!;
  w.outlook.delete(MAILBOXES[3], review.id);
  await runPhase(2);
  await w.cycle();
  const result = state(w);
  await w.close();
  world = null;
  return result;
}

describe.each(EXCHANGES)('e2e crash safety over HTTP on %s', (exchange) => {
  it('killed before or after a write on either server, the next run ends in the same state as an uninterrupted one', async () => {
    const expected = await story(exchange);
    expect(expected.severa.filter((s) => s.includes('|Fabrikam kickoff|'))).toHaveLength(1);
    expect(expected.mails).toBe(exchange === 'graph' ? 0 : null);
    // EWS and Graph write a user's creates and single-item updates in one batch (writeEvents).
    const [create, update] = ['writeEvents', 'writeEvents'];
    const points = [
      { phase: 1, method: create, when: 'after', nth: 3 },
      { phase: 1, method: 'createActivity', when: 'after', nth: 2 },
      { phase: 1, method: 'addParticipant', when: 'before', nth: 1 },
      { phase: 2, method: 'patchActivity', when: 'after', nth: 1 },
      { phase: 2, method: update, when: 'after', nth: 1 },
      { phase: 2, method: 'deleteEvent', when: 'after', nth: 1 },
      { phase: 2, method: 'deleteActivity', when: 'after', nth: 1 },
    ] as const;
    for (const p of points) {
      expect(await story(exchange, p), `${p.method} ${p.when} #${p.nth}`).toEqual(expected);
    }
  });
});
