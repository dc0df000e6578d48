import { describe, expect, it } from 'vitest';
import { EMPTY_NOTIFICATION_MEMORY, decideAuditNotification, decideNotifications } from '../../src-main/electron/notification-policy.ts';
import { parseEvent } from '../../src-main/common/ipc-contract.ts';
import { runnerStatusView } from '../../src-main/electron/window-views.ts';
import type { LastAudit } from '../../src-main/runner/runner-types.ts';
import type { NotificationMemory, NotificationMode } from '../../src-main/electron/notification-policy.ts';
import type { CycleReport, UserProblem, UserReport } from '../../src-main/common/sync-report.ts';

const zero = { created: 0, updated: 0, deleted: 0 };
const user = (email: string, over: Partial<UserReport> = {}): UserReport => ({
  email, outcome: 'ok', toSevera: zero, toExchange: zero, conflicts: 0, heldDeletions: 0, changes: [], errors: [], notes: [], firstSync: false, ...over,
});
const report = (users: UserReport[], errors: UserProblem[] = [], over: Partial<CycleReport> = {}): CycleReport => ({
  startedAt: '2026-11-20T10:00:00Z', finishedAt: '2026-11-20T10:00:05Z', dryRun: false,
  outcome: errors.length || users.some((u) => u.outcome === 'failed') ? 'partial' : 'ok',
  users, errors, requests: { severa: 1, exchange: 1 }, clockOffsetMs: { severa: null, exchange: null }, severaDeletionLatencyCycles: 1, ...over,
});
const denied: UserProblem = { code: 'impersonation-denied', message: 'The delegate may not open this mailbox.', fix: 'Grant ApplicationImpersonation.' };

/** After a first real sync: what the tests below start from unless they say otherwise. */
const synced: NotificationMemory = { ...EMPTY_NOTIFICATION_MEMORY, realSyncSeen: true };

function run(reports: CycleReport[], memory: NotificationMemory = synced, mode: NotificationMode = 'errors') {
  const all = [];
  for (const r of reports) {
    const out = decideNotifications(memory, r, mode);
    memory = out.memory;
    all.push(out.notifications);
  }
  return all;
}

describe('notification policy', () => {
  it('announces a new error once, not again while it persists, then the recovery once', () => {
    const failing = report([user('sara.nieminen@contoso.example', { outcome: 'failed', errors: [denied] })]);
    const fine = report([user('sara.nieminen@contoso.example')]);
    const [first, second, third, fourth] = run([failing, failing, fine, fine]);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'error', title: 'Calendar sync problem for sara.nieminen@contoso.example', target: 'status' });
    expect(first[0].body).toBe('The delegate may not open this mailbox. Grant ApplicationImpersonation.');
    expect(second).toEqual([]);
    expect(third).toEqual([expect.objectContaining({ kind: 'recovery', title: 'Calendar sync works again' })]);
    expect(fourth).toEqual([]);
  });

  it('a different error for the same user is new', () => {
    const a = report([user('a@contoso.example', { outcome: 'failed', errors: [denied] })]);
    const b = report([user('a@contoso.example', { outcome: 'failed', errors: [{ code: 'no-mailbox', message: 'No mailbox.' }] })]);
    const [, second] = run([a, b]);
    expect(second.map((n) => n.kind)).toEqual(['error']);
  });

  it('does not call a paused (skipped) user recovered', () => {
    const failing = report([user('a@contoso.example', { outcome: 'failed', errors: [denied] })]);
    const skipped = report([user('a@contoso.example', { outcome: 'skipped' })]);
    const [, second, third] = run([failing, skipped, failing]);
    expect(second).toEqual([]);
    expect(third).toEqual([]);
  });

  it('org-level errors count too, and a failed cycle is no recovery', () => {
    const login: UserProblem = { code: 'severa-auth', message: 'Severa refused the client id.' };
    const [first, second] = run([report([], [login], { outcome: 'failed' }), report([], [], { outcome: 'failed' })]);
    expect(first[0]).toMatchObject({ kind: 'error', title: 'Calendar sync problem' });
    expect(second).toEqual([]);
  });

  it('a problem hitting several people is one notification naming them, not one per person', () => {
    const users = ['a', 'b', 'c', 'd', 'e'].map((n) => user(`${n}@contoso.example`, { outcome: 'failed', errors: [denied] }));
    const [first] = run([report(users)]);
    expect(first).toEqual([
      {
        kind: 'error',
        title: 'Calendar sync problem for 5 people',
        body: 'The delegate may not open this mailbox. Affects a@contoso.example, b@contoso.example, c@contoso.example, d@contoso.example and e@contoso.example. Grant ApplicationImpersonation.',
        target: 'status',
      },
    ]);
  });

  it('sums up a burst of different new problems in one notification', () => {
    const codes = ['no-mailbox', 'throttled', 'impersonation-denied', 'bad-item'];
    const users = codes.map((code, i) => user(`${i}@contoso.example`, { outcome: 'failed', errors: [{ code, message: code }] }));
    const [first] = run([report(users)]);
    expect(first).toHaveLength(1);
    expect(first[0].title).toBe('Calendar sync: 4 new problems');
  });

  it("mode 'errors' (the default) keeps quiet about first syncs; 'all' announces each person's first sync once and later changes", () => {
    const first = report([user('leena.makela@contoso.example', { firstSync: true, toExchange: { created: 4, updated: 0, deleted: 0 }, toSevera: { created: 2, updated: 1, deleted: 0 } })]);
    const later = report([user('leena.makela@contoso.example', { toSevera: { created: 0, updated: 1, deleted: 0 } })]);
    expect(run([first, later])).toEqual([[], []]);
    const quiet = report([user('leena.makela@contoso.example')]);
    const [a, b, c] = run([first, later, quiet], synced, 'all');
    expect(a).toEqual([{ kind: 'first-sync', title: 'First sync finished for leena.makela@contoso.example', body: '4 items to Exchange, 3 to Severa. From now on changes sync automatically.', target: 'status' }]);
    expect(b).toEqual([{ kind: 'changes', title: 'Calendar synced', body: '0 entries changed in Exchange, 1 in Severa.', target: 'status' }]);
    expect(c).toEqual([]);
  });

  it("mode 'off' says nothing, yet remembers: turning notifications back on does not replay an old problem", () => {
    const failing = report([user('a@contoso.example', { outcome: 'failed', errors: [denied] })]);
    const off = decideNotifications(synced, failing, 'off');
    expect(off.notifications).toEqual([]);
    expect(decideNotifications(off.memory, failing, 'errors').notifications).toEqual([]);
  });

  it('first run: no notification before a real sync ran (no settings, nobody enrolled), then the first real failure is news', () => {
    const setup = report([], [{ code: 'settings-invalid', message: 'No settings saved yet.', fix: 'Fill in the admin settings.' }], { outcome: 'failed' });
    const nobody = report([], []);
    const failing = report([user('a@contoso.example', { outcome: 'failed', errors: [denied] })]);
    const [a, b, c] = run([setup, nobody, failing], EMPTY_NOTIFICATION_MEMORY);
    expect(a).toEqual([]);
    expect(b).toEqual([]);
    expect(c.map((n) => n.title)).toEqual(['Calendar sync problem for a@contoso.example']);
  });

  it('says nothing for a dry run', () => {
    expect(run([report([user('a@contoso.example', { outcome: 'failed', errors: [denied] })], [], { dryRun: true })])[0]).toEqual([]);
  });
});

describe('the automatic audit\'s notification', () => {
  const difference = (email: string, rule: string | null) => ({ email, subject: 'Workshop', start: '2026-11-21T08:00:00Z', what: 'location' as const, severa: 'Room 1', exchange: 'Room 2', story: 'last changed in Exchange', rule });
  const audit = (differences: LastAudit['differences']): LastAudit => ({
    at: '2026-11-20T10:05:00Z', users: 2, pairs: 10, agreeing: 10 - differences.length, explained: differences.filter((d) => d.rule).length, unexplained: differences.filter((d) => !d.rule).length, differences, failedUsers: [],
  });

  it('is one notification per audit for the differences no rule explains, naming whose they are; none for explained ones or when off', () => {
    const found = audit([difference('aino@contoso.example', null), difference('aino@contoso.example', null), difference('mikko@contoso.example', null), difference('sara@contoso.example', 'a deletion waits')]);
    const n = decideAuditNotification(found);
    expect(n).toMatchObject({ kind: 'error', target: 'status', title: 'Calendar sync: Severa and Exchange differ' });
    expect(n?.body).toBe('The automatic comparison of both sides found 3 differences that no rule explains. Affects aino@contoso.example and mikko@contoso.example. Open the status to see each one and its story.');
    expect(decideAuditNotification(audit([difference('sara@contoso.example', 'a deletion waits')]))).toBeNull();
    expect(decideAuditNotification(audit([]))).toBeNull();
    expect(decideAuditNotification(found, 'off')).toBeNull();
    expect(decideAuditNotification(found, 'all')).not.toBeNull();
  });

  it('the window\'s status carries the last audit through the checked push', () => {
    const last = audit([difference('aino@contoso.example', null)]);
    const view = runnerStatusView({ state: 'idle', consecutiveFailures: 0, scheduled: true, audit: { everyHours: 24, running: false, nextAfter: '2026-11-21T10:00:00.000Z', last } });
    const pushed = parseEvent('status', view);
    expect(pushed.ok && pushed.data.audit).toEqual({ everyHours: 24, running: false, nextAfter: '2026-11-21T10:00:00.000Z', last });
  });
});
