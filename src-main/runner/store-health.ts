import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { SyncStore } from '../store/sync-store.ts';
import { SYNC_STORE_FILE } from './engine-cycle.ts';

/**
 * Whether the sync state database can be used, asked once at start so a locked or damaged database is named with its
 * fix before anything runs, instead of failing every cycle.
 */

export type StoreHealth = { ok: true } | { ok: false; kind: 'locked' | 'corrupt' | 'newer' | 'unusable'; file: string; detail: string };

export function syncStoreFile(dataDir: string): string {
  return join(dataDir, SYNC_STORE_FILE);
}

export function checkSyncStore(dataDir: string): StoreHealth {
  const file = syncStoreFile(dataDir);
  try {
    SyncStore.open(file).close();
    return { ok: true };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const text = `${detail} ${String((error as { cause?: { message?: unknown } }).cause?.message ?? '')}`;
    if (/database is locked|SQLITE_BUSY/i.test(text)) return { ok: false, kind: 'locked', file, detail };
    if (/newer version/i.test(text)) return { ok: false, kind: 'newer', file, detail };
    if (/not a database|malformed|SQLITE_CORRUPT|SQLITE_NOTADB|file is encrypted|damaged/i.test(text)) return { ok: false, kind: 'corrupt', file, detail };
    return { ok: false, kind: 'unusable', file, detail };
  }
}

/** Moves a damaged database (and its WAL and shared-memory files) aside; returns where the database went. */
export function setAsideSyncStore(dataDir: string, now: Date): string {
  const file = syncStoreFile(dataDir);
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, '-');
  const target = `${file}.broken-${stamp}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, target + suffix);
  }
  return target;
}
