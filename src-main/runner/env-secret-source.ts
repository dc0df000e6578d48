import { SECRET_ENV_VARS } from '../common/secrets-contract.ts';
import type { SecretName, SecretSource } from '../common/secrets-contract.ts';

/** Secrets from environment variables (SCS_EXCHANGE_PASSWORD, ...): the headless server's way. Empty counts as unset. */
export class EnvSecretSource implements SecretSource {
  readonly #env: Record<string, string | undefined>;
  constructor(env: Record<string, string | undefined> = process.env) {
    this.#env = env;
  }
  async get(name: SecretName): Promise<string | null> {
    const variable = SECRET_ENV_VARS[name];
    if (!variable) return null;
    const value = this.#env[variable];
    return value === undefined || value === '' ? null : value;
  }
}

/** Asks each source in turn; the first value wins (keychain first, then environment). */
export class LayeredSecretSource implements SecretSource {
  readonly #sources: SecretSource[];
  constructor(sources: SecretSource[]) {
    this.#sources = sources;
  }
  async get(name: SecretName): Promise<string | null> {
    for (const source of this.#sources) {
      try {
        const value = await source.get(name);
        if (value !== null && value !== '') return value;
      } catch {
        // A keychain that cannot be reached (no D-Bus session on a server) is not an error: the next source answers.
      }
    }
    return null;
  }
}
