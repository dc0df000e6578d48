/**
 * Fault injection shared by the fakes: throw before or after the n-th call of a method (after = the side effect
 * happened, the caller never heard of it), optionally "killing the process": from then on every call on every fake
 * sharing the plan throws, as if the sync had died there. `revive()` starts a fresh process.
 */

export class ProcessKilled extends Error {
  constructor(where: string) {
    super(`process killed (${where})`);
    this.name = 'ProcessKilled';
  }
}

export interface Fault {
  method: string;
  when: 'before' | 'after';
  /** 1-based count of calls of this method since the fault was armed. */
  nth?: number;
  /** Throw this instead of killing the process. */
  error?: () => Error;
  /** Only calls for this mailbox (calendar) count. */
  mailbox?: string;
}

export class FaultPlan {
  private faults: Array<Fault & { seen: number }> = [];
  dead = false;
  fired: string[] = [];

  arm(f: Fault): void {
    this.faults.push({ ...f, seen: 0 });
  }

  clear(): void {
    this.faults = [];
  }

  revive(): void {
    this.dead = false;
    this.faults = [];
  }

  checkAlive(method: string): void {
    if (this.dead) throw new ProcessKilled(`already dead at ${method}`);
  }

  /** Called by a fake around its side effect. */
  at(method: string, when: 'before' | 'after', mailbox?: string): void {
    this.checkAlive(method);
    for (const f of this.faults) {
      if (f.method !== method || f.when !== when) continue;
      if (f.mailbox && f.mailbox !== mailbox) continue;
      f.seen++;
      if (f.seen !== (f.nth ?? 1)) continue;
      this.fired.push(`${method}:${when}`);
      if (f.error) throw f.error();
      this.dead = true;
      throw new ProcessKilled(`${method} ${when}`);
    }
  }
}
