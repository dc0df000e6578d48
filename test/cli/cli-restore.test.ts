import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntryView, RestoreResultView } from '../../src-main/common/ipc-contract.ts';
import type { CycleReport } from '../../src-main/common/sync-report.ts';
import { loadEwsSeed, startEwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { EwsSimulator } from '../peers/ews/ews-simulator.ts';
import { loadSeveraSeed, startSeveraSimulator } from '../peers/severa/severa-simulator.ts';
import type { SeveraSimulator } from '../peers/severa/severa-simulator.ts';
import { runCli } from './cli-helpers.ts';

/** A deletion made by the sync, listed by `restore --list` and brought back by `restore <id>`, all through the CLI. */

const demo = (name: string) => join(import.meta.dirname, '..', 'peers', 'demo', name);

let ews: EwsSimulator;
let severa: SeveraSimulator;
let dir: string;
let args: string[];
const env = { SCS_EXCHANGE_PASSWORD: 'demo-delegate-password', SCS_SEVERA_CLIENT_SECRET: 'demo-client-secret' };
const severaNames = () => severa.activities().map((a) => String(a.name));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-restore-'));
  ews = await startEwsSimulator({ seed: loadEwsSeed(demo('ews-demo.json')), port: 0 });
  severa = await startSeveraSimulator({ seed: loadSeveraSeed(demo('severa-demo.json')), port: 0 });
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      exchange: { serverType: 'Exchange2016', ewsUrl: ews.url, domain: 'CONTOSO', username: 'svc-severa-sync' },
      severa: { apiUrl: severa.baseUrl, clientId: 'demo-client-id' },
      enrollments: [{ email: 'jussi.korhonen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' }],
    }),
  );
  args = ['--config', config, '--data-dir', join(dir, 'data')];
});
afterAll(async () => {
  await Promise.all([ews?.close(), severa?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('severa-calendar-sync restore', () => {
  it('lists a deletion the sync made and brings the item back', async () => {
    const first = await runCli(['sync', '--json', ...args], { env });
    expect((JSON.parse(first.stdout) as CycleReport).users[0].toSevera.created).toBeGreaterThan(0);
    expect(severaNames()).toContain('Code review');

    const empty = await runCli(['restore', '--list', ...args], { env });
    expect(empty.stdout).toContain('The journal holds no deletion.');

    // Jussi deletes "Code review" in Outlook; the next cycle deletes its activity in Severa, journaled first.
    const box = ews.mailbox('jussi.korhonen@contoso.example');
    box.delete(box.items().find((i) => i.subject === 'Code review')!.id);
    const second = await runCli(['sync', '--json', ...args], { env });
    expect((JSON.parse(second.stdout) as CycleReport).users[0].toSevera.deleted).toBe(1);
    expect(severaNames()).not.toContain('Code review');

    const list = await runCli(['restore', '--list', '--json', '--user', 'jussi.korhonen@contoso.example', ...args], { env });
    const entries = JSON.parse(list.stdout) as JournalEntryView[];
    const entry = entries.find((e) => e.subject === 'Code review');
    expect(entry).toMatchObject({ side: 'severa', email: 'jussi.korhonen@contoso.example', restored: false });

    const human = await runCli(['restore', '--list', ...args], { env });
    expect(human.stdout).toMatch(new RegExp(`^${entry!.id}\\s+jussi\\.korhonen@contoso\\.example\\s+Severa`, 'm'));

    const restore = await runCli(['restore', entry!.id, 'x1', '--json', ...args], { env });
    const results = JSON.parse(restore.stdout) as RestoreResultView[];
    expect(results[0]).toMatchObject({ id: entry!.id, ok: true });
    expect(results[1]).toMatchObject({ id: 'x1', ok: false, message: expect.stringContaining('not a journal entry number') });
    expect(restore.code).toBe(1);
    expect(severaNames()).toContain('Code review');

    const again = await runCli(['restore', entry!.id, ...args], { env });
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('already restored');
  });
});
