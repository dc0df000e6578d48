import { SECRET_NAMES } from '../common/secrets-contract.ts';
import type { SecretName, SecretSink, SecretSource } from '../common/secrets-contract.ts';

/**
 * The keychain as the tray app uses it: read once (all names together, when first needed), then served from memory;
 * writes go through to the keychain and update the memory. Without this, every window message (the reply guard asks
 * for every stored value) and every cycle read the keychain again, which on macOS or with a locked keyring means a
 * prompt each time. A read that fails is not remembered, so the next need asks again.
 */

export interface KeychainLike extends SecretSource, SecretSink {}

export class SecretCache implements SecretSource, SecretSink {
  readonly #keychain: KeychainLike;
  #values: Map<SecretName, string | null> | null = null;
  #loading: Promise<Map<SecretName, string | null>> | null = null;

  constructor(keychain: KeychainLike) {
    this.#keychain = keychain;
  }

  /** Reads every secret once; later calls return at once. Rejects (and forgets the attempt) when the keychain fails. */
  load(): Promise<void> {
    return this.#all().then(() => undefined);
  }

  #all(): Promise<Map<SecretName, string | null>> {
    if (this.#values) return Promise.resolve(this.#values);
    this.#loading ??= (async () => {
      try {
        const entries = await Promise.all(SECRET_NAMES.map(async (name) => [name, await this.#keychain.get(name)] as const));
        this.#values = new Map(entries);
        return this.#values;
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }

  async get(name: SecretName): Promise<string | null> {
    return (await this.#all()).get(name) ?? null;
  }

  async set(name: SecretName, value: string): Promise<void> {
    await this.#keychain.set(name, value);
    this.#values?.set(name, value);
  }

  async delete(name: SecretName): Promise<void> {
    await this.#keychain.delete(name);
    this.#values?.set(name, null);
  }

  async has(name: SecretName): Promise<boolean> {
    return (await this.get(name)) !== null;
  }

  async stored(): Promise<Record<SecretName, boolean>> {
    const values = await this.#all();
    return Object.fromEntries(SECRET_NAMES.map((n) => [n, (values.get(n) ?? null) !== null])) as Record<SecretName, boolean>;
  }

  /** Every stored value, for the reply guard; from memory, and an empty list when the keychain cannot be read. */
  async values(): Promise<string[]> {
    try {
      return [...(await this.#all()).values()].filter((v): v is string => v !== null);
    } catch {
      return [];
    }
  }
}
