/**
 * How long a running cycle still needs, from what it did so far: pure arithmetic on the people finished, the time they
 * took, and the entries written. A long first sync (thousands of entries per person) shows the entries done and a time
 * left that settles as people finish; before the first person is done there is no honest estimate, so none is given.
 */

export interface ProgressSample {
  startedAtMs: number;
  nowMs: number;
  usersDone: number;
  usersTotal: number;
  /** When the person being synced now started (ms), if one is. */
  currentUserStartedAtMs?: number;
}

/** Seconds left, rounded up to whole seconds; undefined before the first person finished or when done. */
export function estimateSecondsLeft(sample: ProgressSample): number | undefined {
  const { startedAtMs, nowMs, usersDone, usersTotal } = sample;
  if (usersDone <= 0 || usersDone >= usersTotal) return undefined;
  const doneUntilMs = sample.currentUserStartedAtMs ?? nowMs;
  const perUserMs = Math.max(0, doneUntilMs - startedAtMs) / usersDone;
  const spentOnCurrentMs = sample.currentUserStartedAtMs !== undefined ? Math.max(0, nowMs - sample.currentUserStartedAtMs) : 0;
  // The person under way counts as half done at worst: its elapsed time is taken off, but never below half a person.
  const leftMs = perUserMs * (usersTotal - usersDone) - Math.min(spentOnCurrentMs, perUserMs / 2);
  return Math.max(1, Math.ceil(leftMs / 1000));
}

// Every sentence this module says, in one place.
const TEXT = {
  seconds: (n: number) => `about ${n} s left`,
  minutes: (n: number) => `about ${n} min left`,
  hours: (h: number, m: number) => `about ${h} h ${m} min left`,
};

/** "about 40 s left", "about 6 min left", "about 2 h 5 min left". */
export function describeTimeLeft(seconds: number): string {
  if (seconds < 60) return TEXT.seconds(Math.max(5, Math.round(seconds / 5) * 5));
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return TEXT.minutes(minutes);
  return TEXT.hours(Math.floor(minutes / 60), minutes % 60);
}
