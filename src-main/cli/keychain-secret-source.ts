import type { SecretSource } from '../common/secrets-contract.ts';
import { KeychainSecretStore } from '../secrets/keychain-secret-store.ts';

const PROBE_TIMEOUT_MS = 3_000;

/**
 * The OS keychain as a SecretSource for the CLI, or null when this machine has none that answers (keytar missing, no
 * Secret Service on a headless server). One probe decides, so a server does not pay a failing D-Bus call per secret.
 */
export async function openKeychainSecretSource(): Promise<SecretSource | null> {
  const store = new KeychainSecretStore();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), PROBE_TIMEOUT_MS);
      timer.unref?.();
    });
    const answer = await Promise.race([store.get('severa-client-secret'), timeout]);
    return answer === 'timeout' ? null : store;
  } catch {
    return null;
  } finally {
    if (timer) clearTimeout(timer);
  }
}
