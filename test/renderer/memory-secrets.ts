import type { SecretName, SecretSink, SecretSource } from '../../src-main/common/secrets-contract.ts';
import { SECRET_NAMES } from '../../src-main/common/secrets-contract.ts';

/** The keychain's stand-in for the window tests (the real keychain is tested in test/secrets): same read and write contracts. */
export class MemorySecrets implements SecretSource, SecretSink {
  readonly values = new Map<SecretName, string>();
  async get(name: SecretName) {
    return this.values.get(name) ?? null;
  }
  async set(name: SecretName, value: string) {
    this.values.set(name, value);
  }
  async delete(name: SecretName) {
    this.values.delete(name);
  }
  async has(name: SecretName) {
    return this.values.has(name);
  }
  async stored() {
    return Object.fromEntries(SECRET_NAMES.map((n) => [n, this.values.has(n)])) as Record<SecretName, boolean>;
  }
}
