/**
 * Users side by side within one cycle: up to `concurrency` at once, each reading both sides as soon as it has a place,
 * then writing once it may. At most `writers` users write at a time (default 1: one user's writes and commit after the
 * other's, in list order, while the next users already read: a process killed mid-cycle leaves one user's writes half
 * done, as when users ran one by one). With more writers, a user whose work shares a key (a meeting's UID, a Severa
 * activity) with another's writes after it, in the order of the list, so two users never write the same meeting or
 * activity at the same time; users that share nothing write side by side.
 */

export interface ScheduledUser {
  /** Reads; resolves with the user's keys. Must not throw (a failure is the user's own, kept for finish). */
  read(): Promise<ReadonlySet<string>>;
  /** Writes and commits. Must not throw. */
  finish(): Promise<void>;
}

type Phase = 'waiting' | 'reading' | 'ready' | 'finishing' | 'done';

function shares(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const k of small) if (large.has(k)) return true;
  return false;
}

export async function runUsers(users: readonly ScheduledUser[], concurrency: number, writers = 1): Promise<void> {
  const n = users.length;
  const phase: Phase[] = new Array(n).fill('waiting');
  const keys: Array<ReadonlySet<string> | null> = new Array(n).fill(null);
  const wake: Array<(() => void) | null> = new Array(n).fill(null);
  let next = 0;
  let active = 0;
  const limit = Math.max(1, Math.floor(concurrency) || 1);
  const writeLimit = Math.max(1, Math.floor(writers) || 1);
  let writing = 0;

  /** May user i write now? Every user before it has read; none unfinished before it, nor any writing, shares a key. */
  const mayFinish = (i: number): boolean => {
    if (writing >= writeLimit) return false;
    // One writer: strictly in list order.
    if (writeLimit === 1) {
      for (let j = 0; j < i; j++) if (phase[j] !== 'done') return false;
      return true;
    }
    for (let j = 0; j < n; j++) {
      if (j === i || phase[j] === 'done') continue;
      if (j < i) {
        if (keys[j] === null) return false;
        if (shares(keys[j]!, keys[i]!)) return false;
      } else if (phase[j] === 'finishing' && shares(keys[j]!, keys[i]!)) return false;
    }
    return true;
  };
  const rouse = () => {
    for (let i = 0; i < n; i++) {
      if (phase[i] === 'ready' && wake[i] && mayFinish(i)) {
        const w = wake[i]!;
        wake[i] = null;
        phase[i] = 'finishing';
        writing++;
        w();
      }
    }
  };

  await new Promise<void>((resolveAll) => {
    if (n === 0) return resolveAll();
    let finished = 0;
    const start = (): void => {
      while (active < limit && next < n) {
        const i = next++;
        active++;
        void (async () => {
          phase[i] = 'reading';
          keys[i] = await users[i].read();
          phase[i] = 'ready';
          await new Promise<void>((go) => {
            wake[i] = go;
            rouse();
          });
          await users[i].finish();
          phase[i] = 'done';
          // A finished user's keys are never compared again (mayFinish skips the done).
          keys[i] = null;
          writing--;
          active--;
          finished++;
          if (finished === n) return resolveAll();
          start();
          rouse();
        })();
      }
    };
    start();
  });
}
