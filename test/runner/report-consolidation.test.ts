import { describe, expect, it } from 'vitest';
import type { CycleReport, UserProblem, UserReport } from '../../src-main/common/sync-report.ts';
import { consolidateReport, usersStoppedByOrganization, withFix } from '../../src-main/runner/report-consolidation.ts';
import { describeTimeLeft, estimateSecondsLeft } from '../../src-main/runner/progress-estimate.ts';

const user = (email: string, outcome: UserReport['outcome'], errors: UserProblem[], firstSync = true): UserReport => ({
  email,
  outcome,
  toSevera: { created: 0, updated: 0, deleted: 0 },
  toExchange: { created: 0, updated: 0, deleted: 0 },
  conflicts: 0,
  heldDeletions: 0,
  changes: [],
  errors,
  notes: [],
  firstSync,
});

const report = (users: UserReport[], errors: UserProblem[] = []): CycleReport => ({
  startedAt: '2026-05-04T08:00:00Z',
  finishedAt: '2026-05-04T08:00:05Z',
  dryRun: false,
  outcome: 'failed',
  users,
  errors,
  requests: { severa: 1, exchange: 5 },
  clockOffsetMs: { severa: 0, exchange: null },
  severaDeletionLatencyCycles: 1,
});

const delegateRefused: UserProblem = { code: 'exchange-auth', message: "Exchange refused the delegate account's login.", fix: 'Check the delegate user name, domain and password in the settings.' };

describe('consolidateReport', () => {
  it('an organization-wide problem (the delegate login) is reported once, not once per user it stopped', () => {
    const emails = ['a', 'b', 'c', 'd', 'e'].map((n) => `${n}@contoso.example`);
    const out = consolidateReport(report(emails.map((e) => user(e, 'failed', [delegateRefused]))));
    expect(out.errors).toEqual([delegateRefused]);
    expect(out.users.every((u) => u.errors.length === 0)).toBe(true);
    expect(usersStoppedByOrganization(out)).toEqual(emails);
  });

  it('the same problem word for word for several failed users is one problem; problems naming one mailbox stay with it', () => {
    const severaDown: UserProblem = { code: 'severa-auth', message: "Severa refused the API client's login while reading.", fix: 'Check the client id and secret.' };
    const denied = (m: string): UserProblem => ({ code: 'impersonation-denied', message: `The delegate account may not open the mailbox ${m}.`, fix: 'Give it the role.' });
    const out = consolidateReport(
      report([user('a@x.example', 'failed', [denied('a@x.example')]), user('b@x.example', 'failed', [denied('b@x.example')]), user('c@x.example', 'failed', [severaDown]), user('d@x.example', 'failed', [severaDown])]),
    );
    expect(out.errors).toEqual([severaDown]);
    expect(out.users.map((u) => u.errors.map((e) => e.code))).toEqual([['impersonation-denied'], ['impersonation-denied'], [], []]);
  });

  it("pointers at the report's own problem ('Nothing was synced: Severa could not be read') are dropped", () => {
    const cause: UserProblem = { code: 'severa-unavailable', message: 'Severa could not be reached while reading users.', fix: 'Check the network.' };
    const pointer: UserProblem = { code: 'severa-unavailable', message: 'Nothing was synced: Severa could not be read.', fix: 'Check the network.' };
    const out = consolidateReport(report([user('a@x.example', 'failed', [pointer]), user('b@x.example', 'failed', [pointer])], [cause]));
    expect(out.errors).toEqual([cause]);
    expect(out.users.every((u) => u.errors.length === 0)).toBe(true);
  });

  it('every problem gets a fix line; a failed user is never first-synced; the input is left as it was', () => {
    const bare: UserProblem = { code: 'exchange-error', message: 'Working on the mailbox a@x.example failed: boom' };
    const input = report([user('a@x.example', 'failed', [bare]), user('b@x.example', 'ok', [], true)], [{ code: 'clock-unknown', message: 'The clock is unknown.' }]);
    const out = consolidateReport(input);
    expect(out.users[0].errors[0].fix).toMatch(/Test connection/);
    expect(out.errors[0].fix).toMatch(/\S/);
    expect(out.users.map((u) => u.firstSync)).toEqual([false, true]);
    expect(input.users[0].firstSync).toBe(true);
    expect(input.users[0].errors[0].fix).toBeUndefined();
    expect(withFix({ code: 'x', message: 'y', fix: 'keep' }).fix).toBe('keep');
  });
});

describe('time left of a running cycle', () => {
  it('none before the first person is done, then the mean per person times those left, less what the current one spent', () => {
    expect(estimateSecondsLeft({ startedAtMs: 0, nowMs: 300_000, usersDone: 0, usersTotal: 4 })).toBeUndefined();
    expect(estimateSecondsLeft({ startedAtMs: 0, nowMs: 240_000, usersDone: 1, usersTotal: 4, currentUserStartedAtMs: 240_000 })).toBe(720);
    expect(estimateSecondsLeft({ startedAtMs: 0, nowMs: 300_000, usersDone: 1, usersTotal: 4, currentUserStartedAtMs: 240_000 })).toBe(660);
    // The current person counts as half done at most.
    expect(estimateSecondsLeft({ startedAtMs: 0, nowMs: 1_000_000, usersDone: 1, usersTotal: 4, currentUserStartedAtMs: 240_000 })).toBe(600);
    expect(estimateSecondsLeft({ startedAtMs: 0, nowMs: 100, usersDone: 4, usersTotal: 4 })).toBeUndefined();
  });

  it('reads as seconds, minutes or hours', () => {
    expect(describeTimeLeft(12)).toBe('about 10 s left');
    expect(describeTimeLeft(400)).toBe('about 7 min left');
    expect(describeTimeLeft(7500)).toBe('about 2 h 5 min left');
  });
});
