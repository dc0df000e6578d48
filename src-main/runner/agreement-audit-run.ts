import type { SecretSource } from '../common/secrets-contract.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { auditAgreement, type AuditReport } from '../sync/agreement-audit.ts';
import { openPeers, withSyncStore } from './engine-cycle.ts';
import type { ConnectorFactory } from './runner-types.ts';

/**
 * The agreement audit (src-main/sync/agreement-audit.ts) over the configured servers and the sync store in the data dir,
 * for every enrolled user or the ones named. Read-only on both servers and on the store.
 */
export async function runAgreementAudit(
  deps: { settings: OrgSettings; secrets: SecretSource; connectors: ConnectorFactory; dataDir: string; now: () => number },
  users?: readonly string[],
): Promise<AuditReport> {
  const wanted = users?.map((u) => u.toLowerCase());
  const enrolled = deps.settings.enrollments.filter((e) => !wanted || wanted.includes(e.email)).map((e) => ({ email: e.email }));
  const { severa, calendar } = await openPeers(deps, deps.settings);
  return withSyncStore(deps.dataDir, (store) =>
    auditAgreement({ severa, calendar, store, now: () => new Date(deps.now()) }, { users: enrolled, activityTypesToExchange: deps.settings.activityTypesToExchange }),
  );
}
