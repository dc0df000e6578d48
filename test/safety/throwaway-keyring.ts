import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A D-Bus session bus and gnome-keyring of their own, for one test: only the child processes given `env` talk to it.
 * The test process's own environment is left alone, so other test files (and a developer's real keyring) never see
 * what is stored here.
 */
export interface ThrowawayKeyring {
  /** Environment variables that point a process at this keyring. */
  env: Record<string, string>;
  /** Stores a secret under the product's keychain service name, through the product's keychain module, in a child process. */
  store(name: string, value: string): void;
  stop(): void;
}

const KEYCHAIN_MODULE = fileURLToPath(new URL('../../src-main/secrets/keychain-secret-store.ts', import.meta.url));

export async function startThrowawayKeyring(): Promise<ThrowawayKeyring | { unavailable: string }> {
  const missing = ['dbus-daemon', 'gnome-keyring-daemon'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length) return { unavailable: `not installed: ${missing.join(', ')} (scripts/install-test-deps.sh installs them)` };
  const home = mkdtempSync(join(tmpdir(), 'scs-leak-keyring-'));
  const bus: ChildProcess = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    bus.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    bus.once('exit', (code) => reject(new Error(`dbus-daemon ended (${String(code)}) before giving its address`)));
  });
  const env = { PATH: process.env.PATH ?? '', HOME: home, XDG_DATA_HOME: home, DBUS_SESSION_BUS_ADDRESS: address };
  // In the foreground it stays this process's child, so stop() can end it by its id.
  const keyring: ChildProcess = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  keyring.stdin!.end('throwaway-keyring-password');
  const stop = () => {
    keyring.kill();
    bus.kill();
    rmSync(home, { recursive: true, force: true });
  };
  const ready = await new Promise<string | null>((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve(`no answer in 10 s: ${out}`), 10_000);
    const seen = (d: Buffer) => {
      out += d.toString();
      if (out.includes('GNOME_KEYRING_CONTROL=')) {
        clearTimeout(timer);
        resolve(null);
      }
    };
    keyring.stdout!.on('data', seen);
    keyring.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    keyring.once('exit', (code) => {
      clearTimeout(timer);
      resolve(`it ended (${String(code)}): ${out}`);
    });
  });
  if (ready !== null) {
    stop();
    return { unavailable: `gnome-keyring-daemon did not start: ${ready}` };
  }
  return {
    env,
    store(name, value) {
      const script = `import { KeychainSecretStore } from ${JSON.stringify(KEYCHAIN_MODULE)}; await new KeychainSecretStore().set(process.argv[1], process.argv[2]);`;
      const done = spawnSync(process.execPath, ['--input-type=module', '-e', script, name, value], { env, encoding: 'utf8' });
      if (done.status !== 0) throw new Error(`Storing ${name} in the throwaway keyring failed: ${done.stderr}`);
    },
    stop,
  };
}
