import type { SecretSource } from '../common/secrets-contract.ts';
import type { CycleFunction } from './sync-runner.ts';
import type { ConnectorFactory, RunnerLog } from './runner-types.ts';

/** The default cycle: the sync engine over the connectors and the store in the data dir (wired once the engine lands). */
export function createEngineCycle(_deps: { dataDir: string; secrets: SecretSource; connectors: ConnectorFactory; log: RunnerLog; now: () => number }): CycleFunction {
  return async () => {
    throw new Error('The sync engine is not available in this build yet.');
  };
}
