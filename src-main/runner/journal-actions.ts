import type { SecretSource } from '../common/secrets-contract.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import type { JournalEntryView, RestoreResultView } from '../common/ipc-contract.ts';
import { listDeletions, restoreDeletion } from '../sync/deletion-restore.ts';
import { describeError } from './cycle-report-builders.ts';
import { openPeers, withSyncStore } from './engine-cycle.ts';
import type { ConnectorFactory } from './runner-types.ts';

/** The deletion journal for the CLI's `restore` and the window: list, and restore by id. */

export async function listJournalEntries(dataDir: string, email?: string): Promise<JournalEntryView[]> {
  return withSyncStore(dataDir, async (store) =>
    listDeletions(store, { email: email?.trim().toLowerCase(), includeRestored: true }).map((d) => ({
      id: String(d.id),
      email: d.email,
      side: d.side,
      subject: d.kind === 'participation' ? `${d.subject} (participation)` : d.subject,
      start: d.start,
      deletedAt: d.deletedAt,
      restored: d.restoredAt !== null,
    })),
  );
}

export async function restoreJournalEntries(
  deps: { dataDir: string; settings: OrgSettings; secrets: SecretSource; connectors: ConnectorFactory; now: () => number },
  ids: string[],
): Promise<RestoreResultView[]> {
  const wanted = ids.map((id) => ({ id, n: /^\d+$/.test(id.trim()) ? Number(id.trim()) : NaN }));
  const { severa, calendar } = await openPeers(deps, deps.settings);
  return withSyncStore(deps.dataDir, async (store) => {
    const results: RestoreResultView[] = [];
    for (const { id, n } of wanted) {
      if (!Number.isInteger(n) || n < 1) {
        results.push({ id, ok: false, message: `"${id}" is not a journal entry number (see "restore --list").` });
        continue;
      }
      try {
        const r = await restoreDeletion({ severa, calendar, store, now: () => new Date(deps.now()) }, n);
        results.push({ id, ok: true, message: r.message });
      } catch (error) {
        // One entry that cannot come back does not stop the others.
        results.push({ id, ok: false, message: describeError(error) });
      }
    }
    return results;
  });
}
