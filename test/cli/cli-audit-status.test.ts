import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerStateFile } from '../../src-main/runner/runner-state-file.ts';
import { runCli } from './cli-helpers.ts';

/** `status` says when the automatic agreement audit last ran and how it went (a real process over a saved status). */

let dir: string;
const settings = (extra: Record<string, unknown> = {}) => ({
  exchange: { serverType: 'Exchange2016', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync' },
  severa: { clientId: 'demo-client-id' },
  enrollments: [{ email: 'aino.virtanen@contoso.example', syncStartDate: '2026-01-01', enabledAt: '2026-01-01T00:00:00Z' }],
  ...extra,
});
const story = 'last changed in Severa 2026-11-20 06:22 UTC, in Exchange 2026-11-20 07:01 UTC (Exchange later)';
const state: RunnerStateFile = {
  consecutiveFailures: 0,
  lastRunAt: '2026-11-20T06:04:00.000Z',
  auditCountsFrom: '2026-11-20T06:04:30.000Z',
  lastAudit: {
    at: '2026-11-20T06:05:00.000Z', users: 1, pairs: 7, agreeing: 5, explained: 1, unexplained: 1,
    differences: [
      { email: 'aino.virtanen@contoso.example', subject: 'Workshop', start: '2026-11-23T07:00:00Z', what: 'location', severa: 'Room 1', exchange: 'Room 2', story, rule: null },
      { email: 'aino.virtanen@contoso.example', subject: 'Board', start: '2026-11-24T07:00:00Z', what: 'missing in Exchange', severa: 'Board', exchange: null, story, rule: 'a deletion waits' },
    ],
    failedUsers: [{ email: 'mikko.lahtinen@contoso.example', error: 'The mailbox could not be opened.' }],
  },
};
const dataDir = (name: string, config: object, runnerState?: RunnerStateFile) => {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'config.json'), JSON.stringify(config));
  if (runnerState) writeFileSync(join(path, 'runner-state.json'), JSON.stringify(runnerState));
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-audit-status-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('status and the automatic audit', () => {
  it('prints the last audit: its counts, who could not be audited, each difference no rule explains with its story, and when the next comes', async () => {
    const path = dataDir('audited', settings(), state);
    const run = await runCli(['status', '--data-dir', path]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Last audit:'));
    expect(lines.slice(at, at + 5)).toEqual([
      'Last audit: 2026-11-20T06:05:00.000Z: 5 of 7 synced entries agree; 2 differences, 1 not explained by a rule',
      '  mikko.lahtinen@contoso.example: could not be audited: The mailbox could not be opened.',
      '  aino.virtanen@contoso.example: "Workshop" (2026-11-23 07:00): location: Severa "Room 1", Exchange "Room 2"',
      `    ${story}`,
      'Next audit: after a scheduled cycle from 2026-11-21T06:04:30.000Z on',
    ]);
    const json = JSON.parse((await runCli(['status', '--json', '--data-dir', path])).stdout);
    expect(json.audit).toEqual({ everyHours: 24, running: false, nextAfter: '2026-11-21T06:04:30.000Z', last: state.lastAudit });
    const finnish = await runCli(['status', '--language', 'fi', '--data-dir', path]);
    expect(finnish.stdout).toContain('Viimeisin tarkastus: 2026-11-20T06:05:00.000Z: 5/7 synkronoidusta merkinnästä täsmää molemmilla puolilla; 2 eroa, joista 1 ei selity millään säännöllä');
  });

  it('says when the first audit comes, or that it is off', async () => {
    const never = await runCli(['status', '--data-dir', dataDir('new', settings(), { consecutiveFailures: 0, auditCountsFrom: '2026-11-20T06:04:30.000Z' })]);
    expect(never.stdout).toContain('Last audit: never; the first follows a scheduled cycle from 2026-11-21T06:04:30.000Z on');
    const fresh = await runCli(['status', '--data-dir', dataDir('fresh', settings({ audit: { everyHours: 12 } }))]);
    expect(fresh.stdout).toContain('Last audit: never; the first follows the first scheduled cycle by 12 hours');
    const off = await runCli(['status', '--data-dir', dataDir('off', settings({ audit: { everyHours: 0 } }))]);
    expect(off.stdout).toContain('Agreement audit: off (settings audit.everyHours is 0)');
  });
});
