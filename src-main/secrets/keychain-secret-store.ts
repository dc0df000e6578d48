import { createRequire } from 'node:module';
import { SECRET_NAMES } from '../common/secrets-contract.ts';
import type { SecretName, SecretSink, SecretSource } from '../common/secrets-contract.ts';

/**
 * The product's secrets in the OS keychain (keytar: Keychain on macOS, Credential Vault on Windows, Secret Service on
 * Linux), one entry per secret name under one service name. The runner reads through SecretSource; the main process
 * writes through SecretSink on the window's behalf; nothing here logs or returns a value except `get`.
 */

export const KEYCHAIN_SERVICE = 'severa-calendar-sync';

/** The four keytar calls used; injected in tests that must not touch a keychain. */
export interface KeytarApi {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export class KeychainError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeychainError';
    this.fix = fix;
  }
}

const MAX_SECRET_LENGTH = 4096;

function checkName(name: string): asserts name is SecretName {
  if (!(SECRET_NAMES as readonly string[]).includes(name)) throw new KeychainError(`"${name}" is not a secret this app stores.`, `Use one of: ${SECRET_NAMES.join(', ')}.`);
}

/** keytar is a native module: load it only when a keychain is really used, with a clear error when it cannot load. */
function loadKeytar(): KeytarApi {
  try {
    return createRequire(import.meta.url)('keytar') as KeytarApi;
  } catch (error) {
    throw new KeychainError('The keychain module (keytar) could not be loaded.', 'Reinstall the app; on Linux install libsecret (libsecret-1-0).', { cause: error });
  }
}

export class KeychainSecretStore implements SecretSource, SecretSink {
  readonly #service: string;
  #keytar: KeytarApi | undefined;

  constructor(options: { service?: string; keytar?: KeytarApi } = {}) {
    this.#service = options.service ?? KEYCHAIN_SERVICE;
    this.#keytar = options.keytar;
  }

  get service(): string {
    return this.#service;
  }

  async get(name: SecretName): Promise<string | null> {
    checkName(name);
    return this.#call('read', () => this.#api().getPassword(this.#service, name));
  }

  async set(name: SecretName, value: string): Promise<void> {
    checkName(name);
    if (typeof value !== 'string' || value.length === 0) throw new KeychainError('An empty secret cannot be stored.', 'Enter the value, or remove the secret instead.');
    if (value.length > MAX_SECRET_LENGTH) throw new KeychainError(`A secret is at most ${MAX_SECRET_LENGTH} characters.`, 'Check what was pasted.');
    await this.#call('store', () => this.#api().setPassword(this.#service, name, value));
  }

  async delete(name: SecretName): Promise<void> {
    checkName(name);
    await this.#call('remove', () => this.#api().deletePassword(this.#service, name));
  }

  async has(name: SecretName): Promise<boolean> {
    return (await this.get(name)) !== null;
  }

  /** Which secrets are stored, for the window: names and booleans only. */
  async stored(): Promise<Record<SecretName, boolean>> {
    const entries = await Promise.all(SECRET_NAMES.map(async (n) => [n, await this.has(n)] as const));
    return Object.fromEntries(entries) as Record<SecretName, boolean>;
  }

  /** Every stored value, for the IPC router's check that no reply carries one. Never sent anywhere. */
  async values(): Promise<string[]> {
    const values = await Promise.all(SECRET_NAMES.map((n) => this.get(n)));
    return values.filter((v): v is string => v !== null);
  }

  #api(): KeytarApi {
    this.#keytar ??= loadKeytar();
    return this.#keytar;
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof KeychainError) throw error;
      // The keytar message names the D-Bus/Keychain failure, never the value.
      const detail = error instanceof Error ? error.message : String(error);
      throw new KeychainError(
        `Could not ${what} the secret in the system keychain: ${detail}`,
        process.platform === 'linux'
          ? 'Make sure a Secret Service (GNOME Keyring or KWallet) is running and unlocked in your session.'
          : 'Unlock the system keychain and try again.',
        { cause: error },
      );
    }
  }
}
