import { formatList, t } from '../common/i18n/i18n.ts';
import type { CycleReport, UserProblem } from '../common/sync-report.ts';
import type { LastAudit } from '../runner/runner-types.ts';

/**
 * Which desktop notifications a finished cycle deserves. Pure: the memory of what was already said goes in and comes
 * out. The person chooses how much they hear (NotificationMode):
 *  - 'errors' (default): one notification per new problem (a problem hitting several people is one notification, not
 *    one each), and one when the problems are gone;
 *  - 'all': that, plus each person's first finished sync and every cycle that changed entries;
 *  - 'off': nothing (the memory still follows, so turning them back on does not replay old problems).
 * Nothing is said before a real sync ran: a cycle that synced nobody (no settings yet, nobody enrolled) is setup,
 * not a failure. Clicking any notification opens the status section.
 */

export type NotificationMode = 'errors' | 'all' | 'off';
export const NOTIFICATION_MODES: readonly NotificationMode[] = ['errors', 'all', 'off'];

export interface NotificationMemory {
  /** Problems active after the last cycle, keyed 'org:<code>' or '<email>:<code>'. */
  activeProblems: string[];
  /** Users whose first sync was already announced. */
  firstSyncAnnounced: string[];
  /** A cycle has synced at least one person: from then on failures are news. */
  realSyncSeen?: boolean;
}

export const EMPTY_NOTIFICATION_MEMORY: NotificationMemory = { activeProblems: [], firstSyncAnnounced: [], realSyncSeen: false };

export interface NotificationModel {
  kind: 'error' | 'recovery' | 'first-sync' | 'changes';
  title: string;
  body: string;
  /** What a click opens. */
  target: 'status';
}

/** More new kinds of problem than this in one cycle are summed up in one notification rather than a burst of them. */
const MAX_SEPARATE_ERRORS = 3;


interface ScopedProblem {
  key: string;
  who: string | null;
  problem: UserProblem;
}

/** 'org' or the user's email: keys are '<scope>:<code>' and neither scope contains a colon. */
const scopeOf = (key: string) => key.slice(0, key.indexOf(':'));

function problemsOf(report: CycleReport): ScopedProblem[] {
  const out: ScopedProblem[] = report.errors.map((p) => ({ key: `org:${p.code}`, who: null, problem: p }));
  for (const user of report.users) {
    for (const p of user.errors) out.push({ key: `${user.email}:${p.code}`, who: user.email, problem: p });
  }
  return out;
}

/** One notification per kind of new problem: the organization's own, or one code shared by the people it hits. */
function errorNotifications(fresh: ScopedProblem[]): NotificationModel[] {
  const groups = new Map<string, ScopedProblem[]>();
  for (const p of fresh) {
    const group = p.who === null ? `org:${p.problem.code}` : `user:${p.problem.code}`;
    groups.set(group, [...(groups.get(group) ?? []), p]);
  }
  if (groups.size > MAX_SEPARATE_ERRORS) {
    const people = [...new Set(fresh.map((p) => p.who).filter((w): w is string => w !== null))];
    return [{ kind: 'error', title: t('app.notifications.burstTitle', { count: groups.size }), body: (people.length ? `${t('app.notifications.affects', { people: formatList(people) })} ` : '') + t('app.notifications.burstOpen'), target: 'status' }];
  }
  return [...groups.values()].map((group) => {
    const first = group[0];
    const people = group.map((p) => p.who).filter((w): w is string => w !== null);
    const title = first.who === null ? t('app.notifications.orgProblem') : people.length === 1 ? t('app.notifications.userProblem', { who: people[0] }) : t('app.notifications.peopleProblem', { count: people.length });
    const parts = [first.problem.message, people.length > 1 ? t('app.notifications.affects', { people: formatList(people) }) : null, first.problem.fix];
    return { kind: 'error', title, body: parts.filter(Boolean).join(' '), target: 'status' };
  });
}

export function decideNotifications(
  memory: NotificationMemory,
  report: CycleReport,
  mode: NotificationMode = 'errors',
): { notifications: NotificationModel[]; memory: NotificationMemory } {
  // A dry run changes nothing and says nothing about whether the sync works.
  if (report.dryRun) return { notifications: [], memory };

  const synced = report.users.some((u) => u.outcome !== 'skipped');
  const realSyncSeen = (memory.realSyncSeen ?? false) || synced;
  // Until a real sync ran, problems are setup still under way (the status shows them), not news, nor remembered.
  if (!realSyncSeen) return { notifications: [], memory: { ...memory, realSyncSeen: false } };
  const notifications: NotificationModel[] = [];
  const before = new Set(memory.activeProblems);
  const now = problemsOf(report);
  const nowKeys = new Set(now.map((p) => p.key));

  // Users skipped this cycle (paused, not ready) keep their problems: absence of news is not a recovery.
  const skipped = new Set(report.users.filter((u) => u.outcome === 'skipped').map((u) => u.email));
  const carried = memory.activeProblems.filter((key) => !nowKeys.has(key) && skipped.has(scopeOf(key)));

  const fresh = now.filter((p, i) => !before.has(p.key) && now.findIndex((q) => q.key === p.key) === i);
  notifications.push(...errorNotifications(fresh));

  // Recovered: a user (or the organization) that had problems and now has none. One problem giving way to another is
  // announced as the new problem, not as a recovery.
  const scopesWithProblems = new Set([...nowKeys].map(scopeOf));
  const resolved = memory.activeProblems.filter((key) => !nowKeys.has(key) && !carried.includes(key) && !scopesWithProblems.has(scopeOf(key)));
  if (resolved.length > 0 && report.outcome !== 'failed') {
    const stillFailing = nowKeys.size + carried.length > 0;
    notifications.push({
      kind: 'recovery',
      title: stillFailing ? t('app.notifications.partlyRecoveredTitle') : t('app.notifications.recoveredTitle'),
      body: stillFailing ? t('app.notifications.partlyRecoveredBody', { count: resolved.length }) : t('app.notifications.recoveredBody'),
      target: 'status',
    });
  }

  const announced = new Set(memory.firstSyncAnnounced);
  let firstSyncs = 0;
  for (const user of report.users) {
    if (!user.firstSync || announced.has(user.email) || (user.outcome !== 'ok' && user.outcome !== 'partial')) continue;
    announced.add(user.email);
    firstSyncs++;
    if (mode !== 'all') continue;
    notifications.push({
      kind: 'first-sync',
      title: t('app.notifications.firstSyncTitle', { email: user.email }),
      body: t('app.notifications.firstSyncBody', { count: user.toExchange.created + user.toExchange.updated, toSevera: user.toSevera.created + user.toSevera.updated }),
      target: 'status',
    });
  }
  if (mode === 'all' && firstSyncs === 0) {
    const sum = (side: 'toExchange' | 'toSevera') => report.users.reduce((n, u) => n + u[side].created + u[side].updated + u[side].deleted, 0);
    const toEx = sum('toExchange');
    const toSe = sum('toSevera');
    if (toEx + toSe > 0) notifications.push({ kind: 'changes', title: t('app.notifications.changesTitle'), body: t('app.notifications.changesBody', { count: toEx, toSevera: toSe }), target: 'status' });
  }

  // A failed cycle says nothing about problems it did not reach: keep remembering them so their return is not "new".
  const keep = report.outcome === 'failed' ? memory.activeProblems.filter((k) => !nowKeys.has(k)) : carried;
  return {
    notifications: mode === 'off' ? [] : notifications,
    memory: { activeProblems: [...new Set([...nowKeys, ...keep])].sort(), firstSyncAnnounced: [...announced].sort(), realSyncSeen },
  };
}

/**
 * The automatic agreement audit's notification: one per audit that found differences no rule explains (however many,
 * whoever they belong to), none for differences a rule explains, none when notifications are off.
 */
export function decideAuditNotification(audit: LastAudit, mode: NotificationMode = 'errors'): NotificationModel | null {
  if (mode === 'off' || audit.unexplained === 0) return null;
  const people = [...new Set(audit.differences.filter((d) => d.rule === null).map((d) => d.email))];
  return {
    kind: 'error',
    title: t('app.notifications.auditTitle'),
    body: `${t('app.notifications.auditBody', { count: audit.unexplained })} ${t('app.notifications.affects', { people: formatList(people) })} ${t('app.notifications.auditOpen')}`,
    target: 'status',
  };
}
