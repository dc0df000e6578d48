import type { SecretSource } from '../common/secrets-contract.ts';
import type { ConnectorFactory } from '../runner/runner-types.ts';

export interface DemoEnvironment {
  configPath: string;
  secrets: SecretSource;
  connectors?: ConnectorFactory;
  stop(): Promise<void>;
}

/** Starts both simulators with the demo firm (wired once the simulators land). */
export async function startDemoEnvironment(_opts: { dataDir: string; log: (line: string) => void }): Promise<DemoEnvironment> {
  throw new Error('The demo simulators are not available in this build yet.');
}
