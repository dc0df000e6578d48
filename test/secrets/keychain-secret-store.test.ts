import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeychainError, KeychainSecretStore } from '../../src-main/secrets/keychain-secret-store.ts';
import { SECRET_NAMES } from '../../src-main/common/secrets-contract.ts';
import type { SecretName } from '../../src-main/common/secrets-contract.ts';
import { startSecretService } from './private-secret-service.ts';
import type { SecretServiceHandle } from './private-secret-service.ts';

let service: SecretServiceHandle;
beforeAll(async () => {
  service = await startSecretService();
  if (!service.available) console.warn(`keychain tests skipped: no Secret Service (${service.reason})`);
});
afterAll(() => service?.stop());

// A service name of its own per run, so parallel runs and a developer's real entries never meet.
const serviceName = `severa-calendar-sync-test-${process.pid}-${Date.now()}`;

describe('keychain secret store against a real Secret Service', () => {
  it('sets, reads, replaces and deletes a secret', async (ctx) => {
    // Skipped only when this machine has no D-Bus/gnome-keyring at all; CI installs both (scripts/install-test-deps.sh).
    if (!service.available) ctx.skip();
    const store = new KeychainSecretStore({ service: serviceName });
    expect(await store.has('exchange-delegate-password')).toBe(false);
    await store.set('exchange-delegate-password', 'demo-delegate-password');
    expect(await store.has('exchange-delegate-password')).toBe(true);
    expect(await store.get('exchange-delegate-password')).toBe('demo-delegate-password');
    await store.set('exchange-delegate-password', 'replaced-päss wörd');
    expect(await store.get('exchange-delegate-password')).toBe('replaced-päss wörd');
    const expected = Object.fromEntries(SECRET_NAMES.map((name) => [name, name === 'exchange-delegate-password']));
    expect(Object.keys(expected).length).toBeGreaterThan(1);
    expect(await store.stored()).toEqual(expected);
    await store.delete('exchange-delegate-password');
    expect(await store.has('exchange-delegate-password')).toBe(false);
    expect(await store.get('exchange-delegate-password')).toBeNull();
    await store.delete('exchange-delegate-password'); // deleting what is gone is fine
  });

  it('keeps secrets of different services apart', async (ctx) => {
    if (!service.available) ctx.skip();
    const a = new KeychainSecretStore({ service: `${serviceName}-a` });
    const b = new KeychainSecretStore({ service: `${serviceName}-b` });
    await a.set('severa-client-secret', 'demo-client-secret');
    expect(await b.get('severa-client-secret')).toBeNull();
    await a.delete('severa-client-secret');
  });

  it('what the window can learn is names and booleans, never a value', async (ctx) => {
    if (!service.available) ctx.skip();
    const store = new KeychainSecretStore({ service: serviceName });
    for (const name of SECRET_NAMES) await store.set(name, `value-of-${name}`);
    const visible = JSON.stringify({ stored: await store.stored(), has: await store.has('severa-client-secret') });
    for (const name of SECRET_NAMES) expect(visible).not.toContain(`value-of-${name}`);
    expect((await store.values()).sort()).toEqual(SECRET_NAMES.map((n) => `value-of-${n}`).sort());
    for (const name of SECRET_NAMES) await store.delete(name);
  });
});

describe('keychain secret store input checks (no keychain needed)', () => {
  const calls: string[] = [];
  const fake = new KeychainSecretStore({
    keytar: {
      getPassword: async (_s, a) => (calls.push(`get ${a}`), null),
      setPassword: async (_s, a) => void calls.push(`set ${a}`),
      deletePassword: async () => {
        throw new Error('Cannot autolaunch D-Bus without X11 $DISPLAY');
      },
    },
  });

  it('refuses unknown names and empty values before touching the keychain', async () => {
    await expect(fake.set('root-password' as SecretName, 'x')).rejects.toBeInstanceOf(KeychainError);
    await expect(fake.set('severa-client-secret', '')).rejects.toThrow(/empty/);
    await expect(fake.set('severa-client-secret', 'x'.repeat(5000))).rejects.toThrow(/at most/);
    expect(calls).toEqual([]);
  });

  it('turns a keychain failure into a plain error with a fix', async () => {
    const error = await fake.delete('severa-client-secret').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeychainError);
    expect((error as KeychainError).message).toMatch(/Could not remove the secret in the system keychain: Cannot autolaunch D-Bus/);
    expect((error as KeychainError).fix).toBeTruthy();
  });
});
