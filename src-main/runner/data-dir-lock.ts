import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * One program at a time per sync data folder: the tray app and a command line `sync --watch` pointed at the same folder
 * would otherwise write the same sync state. A lock file holds who took the folder; a lock left by a process that no
 * longer runs (a crash) is taken over.
 */

export const LOCK_FILE = 'sync.lock';

export interface LockHolder {
  pid: number;
  host: string;
  /** 'the tray app', 'the command line (sync --watch)'. */
  program: string;
  since: string;
}

export class DataDirInUseError extends Error {
  readonly dataDir: string;
  readonly holder: LockHolder;
  constructor(dataDir: string, holder: LockHolder) {
    super(`The sync data folder ${dataDir} is in use by ${holder.program} (process ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''}, since ${holder.since}).`);
    this.name = 'DataDirInUseError';
    this.dataDir = dataDir;
    this.holder = holder;
  }
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): LockHolder | null {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return null;
    return { pid: value.pid, host: value.host, program: String(value.program ?? 'another program'), since: String(value.since ?? '') };
  } catch {
    return null;
  }
}

/**
 * Takes the folder for this process, or throws DataDirInUseError naming who has it. A lock of this same process is
 * taken again; one whose process is gone (same computer) is taken over; an unreadable one is replaced.
 */
export function lockDataDir(dataDir: string, program: string, now: () => Date = () => new Date()): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), program, since: now().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      return lockHandle(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder && holder.host === me.host && holder.pid === me.pid) return lockHandle(file);
    if (holder && (holder.host !== me.host || alive(holder.pid))) throw new DataDirInUseError(dataDir, holder);
    // Left behind by a process that is gone, or unreadable: move it aside atomically so two takers cannot both win.
    try {
      renameSync(file, `${file}.stale-${process.pid}`);
      rmSync(`${file}.stale-${process.pid}`, { force: true });
    } catch {
      // Someone else took it over first: try again.
    }
  }
  const holder = readHolder(file);
  if (holder) throw new DataDirInUseError(dataDir, holder);
  throw new Error(`The sync data folder ${dataDir} cannot be locked.`);
}

function lockHandle(file: string): DataDirLock {
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      const holder = readHolder(file);
      if (holder && holder.pid === process.pid && holder.host === hostname()) rmSync(file, { force: true });
    },
  };
}
