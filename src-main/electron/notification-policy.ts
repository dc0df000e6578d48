import type { CycleReport, UserProblem } from '../common/sync-report.ts';

/**
 * Which desktop notifications a finished cycle deserves. Pure: the memory of what was already said goes in and comes
 * out, so an error that persists cycle after cycle is announced once, its end is announced once, and each user's
 * first sync is announced once. Clicking any of them opens the status section.
 */

export interface NotificationMemory {
  /** Problems active after the last cycle, keyed 'org:<code>' or '<email>:<code>'. */
  activeProblems: string[];
  /** Users whose first sync was already announced. */
  firstSyncAnnounced: string[];
}

export const EMPTY_NOTIFICATION_MEMORY: NotificationMemory = { activeProblems: [], firstSyncAnnounced: [] };

export interface NotificationModel {
  kind: 'error' | 'recovery' | 'first-sync';
  title: string;
  body: string;
  /** What a click opens. */
  target: 'status';
}

/** More new problems than this in one cycle are summed up in one notification rather than a burst of them. */
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

export function decideNotifications(
  memory: NotificationMemory,
  report: CycleReport,
): { notifications: NotificationModel[]; memory: NotificationMemory } {
  // A dry run changes nothing and says nothing about whether the sync works.
  if (report.dryRun) return { notifications: [], memory };

  const notifications: NotificationModel[] = [];
  const before = new Set(memory.activeProblems);
  const now = problemsOf(report);
  const nowKeys = new Set(now.map((p) => p.key));

  // Users skipped this cycle (paused, not ready) keep their problems: absence of news is not a recovery.
  const skipped = new Set(report.users.filter((u) => u.outcome === 'skipped').map((u) => u.email));
  const carried = memory.activeProblems.filter((key) => !nowKeys.has(key) && skipped.has(scopeOf(key)));

  const fresh = now.filter((p, i) => !before.has(p.key) && now.findIndex((q) => q.key === p.key) === i);
  if (fresh.length > MAX_SEPARATE_ERRORS) {
    const users = new Set(fresh.map((p) => p.who).filter((w): w is string => w !== null));
    notifications.push({
      kind: 'error',
      title: `Calendar sync: ${fresh.length} new problems`,
      body: `${users.size ? `Affects ${[...users].join(', ')}. ` : ''}Open the status to see each one and its fix.`,
      target: 'status',
    });
  } else {
    for (const p of fresh) {
      notifications.push({
        kind: 'error',
        title: p.who ? `Calendar sync problem for ${p.who}` : 'Calendar sync problem',
        body: [p.problem.message, p.problem.fix].filter(Boolean).join(' '),
        target: 'status',
      });
    }
  }

  // Recovered: a user (or the organization) that had problems and now has none. One problem giving way to another is
  // announced as the new problem, not as a recovery.
  const scopesWithProblems = new Set([...nowKeys].map(scopeOf));
  const resolved = memory.activeProblems.filter((key) => !nowKeys.has(key) && !carried.includes(key) && !scopesWithProblems.has(scopeOf(key)));
  if (resolved.length > 0 && report.outcome !== 'failed') {
    const stillFailing = nowKeys.size + carried.length > 0;
    notifications.push({
      kind: 'recovery',
      title: stillFailing ? 'Calendar sync: a problem is fixed' : 'Calendar sync works again',
      body: stillFailing
        ? `${resolved.length} earlier problem${resolved.length === 1 ? ' is' : 's are'} gone; others remain (see the status).`
        : 'The last cycle finished without errors.',
      target: 'status',
    });
  }

  const announced = new Set(memory.firstSyncAnnounced);
  for (const user of report.users) {
    if (!user.firstSync || announced.has(user.email) || (user.outcome !== 'ok' && user.outcome !== 'partial')) continue;
    const toEx = user.toExchange.created + user.toExchange.updated;
    const toSe = user.toSevera.created + user.toSevera.updated;
    notifications.push({
      kind: 'first-sync',
      title: `First sync finished for ${user.email}`,
      body: `${toEx} item${toEx === 1 ? '' : 's'} to Exchange, ${toSe} to Severa. From now on changes sync automatically.`,
      target: 'status',
    });
    announced.add(user.email);
  }

  // A failed cycle says nothing about problems it did not reach: keep remembering them so their return is not "new".
  const keep = report.outcome === 'failed' ? memory.activeProblems.filter((k) => !nowKeys.has(k)) : carried;
  return {
    notifications,
    memory: { activeProblems: [...new Set([...nowKeys, ...keep])].sort(), firstSyncAnnounced: [...announced].sort() },
  };
}
