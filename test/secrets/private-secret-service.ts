import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A real Secret Service for the keychain tests, never the developer's own keyring: under scripts/run-tests.sh the
 * throwaway D-Bus session it made (SCS_TEST_KEYRING=1); otherwise a private D-Bus daemon and gnome-keyring started here.
 */
export interface SecretServiceHandle {
  available: boolean;
  reason?: string;
  stop(): void;
}

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

export async function startSecretService(): Promise<SecretServiceHandle> {
  if (process.env.SCS_TEST_KEYRING === '1' && process.env.DBUS_SESSION_BUS_ADDRESS) return { available: true, stop() {} };
  const missing = ['dbus-daemon', 'gnome-keyring-daemon'].filter((t) => !has(t));
  if (missing.length) return { available: false, reason: `not installed: ${missing.join(', ')} (see scripts/install-test-deps.sh)`, stop() {} };

  const home = mkdtempSync(path.join(os.tmpdir(), 'scs-keyring-'));
  const bus: ChildProcess = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    bus.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    bus.on('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
  });
  process.env.DBUS_SESSION_BUS_ADDRESS = address;
  const env = { ...process.env, XDG_DATA_HOME: home, XDG_RUNTIME_DIR: home, HOME: home };
  const keyring = spawnSync('gnome-keyring-daemon', ['--unlock', '--components=secrets', '--daemonize'], { input: 'test-keyring-password', env, encoding: 'utf8' });
  const pid = /GNOME_KEYRING_PID=(\d+)/.exec(keyring.stdout ?? '')?.[1];
  const stop = () => {
    if (pid) {
      try {
        process.kill(Number(pid));
      } catch {
        /* already gone */
      }
    }
    bus.kill();
    rmSync(home, { recursive: true, force: true });
  };
  if (keyring.status !== 0) {
    stop();
    return { available: false, reason: `gnome-keyring-daemon failed: ${keyring.stderr}`, stop() {} };
  }
  return { available: true, stop };
}
