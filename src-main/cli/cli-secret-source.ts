import type { SecretSource } from '../common/secrets-contract.ts';
import { EnvSecretSource, LayeredSecretSource } from '../runner/env-secret-source.ts';

/**
 * The CLI's secrets: the OS keychain when keytar loads and a keychain answers (a desktop), else the environment
 * (a server). The fallback is quiet because on a server the missing keychain is the normal case.
 */
export async function cliSecretSource(env: Record<string, string | undefined>): Promise<SecretSource> {
  const envSource = new EnvSecretSource(env);
  if (env.SCS_NO_KEYCHAIN === '1') return envSource;
  try {
    const { openKeychainSecretSource } = await import('./keychain-secret-source.ts');
    const keychain = await openKeychainSecretSource();
    if (keychain) return new LayeredSecretSource([keychain, envSource]);
  } catch {
    // keytar failed to load (no libsecret, no D-Bus): environment only.
  }
  return envSource;
}
