import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cli/cli-helpers.ts';

/**
 * README's first command line as a newcomer meets it: a clone with nothing beside it (no ../shared with the vendors'
 * API contracts). The repository's files (what a clone holds: tracked and not ignored) are copied into an empty
 * temporary folder, given this checkout's installed node_modules (installing again needs the network and minutes; the
 * install itself is what CI's fresh clone proves), and the demo runs there twice through npm, as the README says.
 * The tests that need the contracts run there too and must say they are skipped, and why.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SCS_NO_KEYCHAIN: '1', CI: process.env.CI, LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let outer: string;
let clone: string;

beforeAll(() => {
  outer = mkdtempSync(join(tmpdir(), 'bare-clone-'));
  clone = join(outer, 'severa-calendar-sync');
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(REPO_ROOT, f)));
  for (const file of files) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(clone, file));
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
});
afterAll(() => rmSync(outer, { recursive: true, force: true }));

describe('a clone with nothing beside it', () => {
  it('has no vendor contracts next to it (the premise of this test)', () => {
    expect(existsSync(join(outer, 'shared'))).toBe(false);
    expect(existsSync(join(clone, 'package.json'))).toBe(true);
  });

  it("runs README's demo twice: the first syncs the demo firm, the second has no changes", async () => {
    const first = await run('npm', ['run', '--silent', 'demo'], clone);
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    expect(first.stderr).not.toMatch(/ENOENT|shared\/|Cannot start/);
    expect(first.stdout).toMatch(/aino\.virtanen@contoso\.example/);
    const second = await run('npm', ['run', '--silent', 'demo'], clone);
    expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
    expect(second.stdout).toMatch(/No changes/);
  }, 240_000);

  it('runs the Exchange Online demo twice as well (npm run demo -- --exchange-online)', async () => {
    const first = await run('npm', ['run', '--silent', 'demo', '--', '--exchange-online'], clone);
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    expect(first.stdout).toMatch(/aino\.virtanen@contoso\.example\s+ok/);
    const second = await run('npm', ['run', '--silent', 'demo', '--', '--exchange-online'], clone);
    expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
    expect(second.stdout).toMatch(/No changes/);
  }, 240_000);

  it('reports the contract tests as skipped, naming the missing document, and passes the rest', async () => {
    const tests = await run('npx', ['vitest', 'run', '--reporter=verbose', 'test/peers/severa/severa-operations.test.ts', 'test/peers/severa/severa-simulator.test.ts', 'test/peers/graph/graph-contract.test.ts'], clone);
    expect(tests.code, `${tests.stdout}\n${tests.stderr}`).toBe(0);
    expect(tests.stdout).toMatch(/skipped: the Severa OpenAPI document is not at .*severa-openapi-subset\.yaml/);
    expect(tests.stdout).toMatch(/graph-openapi-subset\.yaml/);
    expect(tests.stdout).toMatch(/Tests\s+.*\d+ passed.*\d+ skipped/);
  }, 180_000);
});
