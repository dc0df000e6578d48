import { t } from '../common/i18n/i18n.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { safeCall } from './runner-listeners.ts';
import type { CheckResult, ConnectorFactory, RunnerLog } from './runner-types.ts';
import { settingsIssueLines } from './settings-problems.ts';
import type { CheckOptions, SyncRunnerOptions } from './sync-runner-options.ts';

export interface CheckRunDeps {
  options: Pick<SyncRunnerOptions, 'loadSettings' | 'secrets' | 'checks'>;
  connectors: () => Promise<ConnectorFactory>;
  log: RunnerLog;
  now: () => number;
}

/**
 * The runner's check() (sync-runner.ts): the way to the servers through a proxy, then the activation diagnostics (see
 * activation-checks.ts), each result also reported as it comes when asked.
 */
export async function runChecks(deps: CheckRunDeps, opts: CheckOptions = {}): Promise<CheckResult[]> {
  let reported = 0;
  const report = (result: CheckResult) => {
    const index = reported++;
    if (opts.onResult) safeCall((r: CheckResult) => opts.onResult!(r, index), result, deps.log);
  };
  // Whatever the checks did not report as they went (an early return, a replacement that only returns) is reported here.
  const finish = (results: CheckResult[]) => {
    for (const r of results.slice(reported)) report(r);
    return results;
  };
  let settings: OrgSettings;
  try {
    settings = deps.options.loadSettings();
  } catch (error) {
    return finish([{ id: 'settings', title: t('engine.runner.settingsTitle'), ok: false, message: t('engine.runner.settingsInvalid', { issues: settingsIssueLines(error).join('; ') }), fix: t('engine.runner.checkAgainFix') }]);
  }
  // Which way the servers are reached, when a proxy is on the way; the checks that follow prove that way works.
  const { networkCheck } = await import('./network-check.ts');
  const path = await networkCheck(settings, deps.options.secrets).catch(() => null);
  if (path) report(path);
  const withPath = (results: CheckResult[]) => (path ? [path, ...results] : results);
  if (deps.options.checks) return finish(withPath(await deps.options.checks(settings, report)));
  const { runActivationChecks } = await import('./activation-checks.ts');
  return finish(withPath(await runActivationChecks({ settings, secrets: deps.options.secrets, connectors: await deps.connectors(), log: deps.log, now: deps.now, onResult: report })));
}
