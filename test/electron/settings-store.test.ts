import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Conf from 'conf';
import { describe, expect, it } from 'vitest';
import { CURRENT_SETTINGS_VERSION, migrateSettings } from '../../src-main/settings/settings-migrations.ts';
import { SettingsFileError, SettingsStore } from '../../src-main/settings/settings-store.ts';
import { orgSettings } from '../../src-main/common/settings-schema.ts';
import type { OrgSettings } from '../../src-main/common/settings-schema.ts';

// electron-store is conf with Electron's userData folder as its default cwd; the wrapper is tested on conf itself.
async function storeIn(dir?: string) {
  const cwd = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'scs-settings-')));
  return { cwd, store: new SettingsStore(new Conf<Record<string, unknown>>({ cwd, configName: 'settings', projectName: 'severa-calendar-sync-test' })) };
}

const v0 = {
  exchange: { version: 'Exchange 2013', url: 'https://mail.contoso.example/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync' },
  severa: { clientId: 'demo-client-id' },
  syncIntervalMinutes: 30,
  activityTypeGuids: ['00000000-0000-4000-8000-0000000000b1'],
};

// Parsed, so fields the schema adds with defaults are filled in here too.
const current: OrgSettings = orgSettings.parse({
  schemaVersion: 1,
  exchange: { serverType: 'Exchange2019', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx', domain: 'CONTOSO', username: 'svc-severa-sync', authMethod: 'ntlm', allowInsecureHttp: false },
  severa: { apiUrl: 'https://api.severa.visma.com/rest-api', clientId: 'demo-client-id', allowInsecureHttp: false },
  activityTypesToExchange: [],
  intervalMinutes: 15,
  windowDaysAhead: 365,
  enrollments: [],
  deletionGuard: { maxItems: 10, maxPercent: 20 },
});

describe('settings migrations', () => {
  it('migrates the version-0 layout step by step to the current version', () => {
    const out = migrateSettings(v0);
    expect(out.fromVersion).toBe(0);
    expect(out.applied).toEqual([0]);
    expect(out.settings).toMatchObject({
      schemaVersion: CURRENT_SETTINGS_VERSION,
      exchange: { serverType: 'Exchange2013', ewsUrl: 'https://mail.contoso.example/EWS/Exchange.asmx' },
      intervalMinutes: 30,
      activityTypesToExchange: ['00000000-0000-4000-8000-0000000000b1'],
    });
    expect(out.settings).not.toHaveProperty('syncIntervalMinutes');
    expect(out.settings.exchange).not.toHaveProperty('version');
    expect(v0.exchange).toHaveProperty('version'); // the input is not modified
  });

  it('leaves a current document alone and refuses a newer or broken one', () => {
    expect(migrateSettings(current).applied).toEqual([]);
    expect(() => migrateSettings({ ...current, schemaVersion: 7 })).toThrow(/newer version of the app/);
    expect(() => migrateSettings({ schemaVersion: 'one' })).toThrow(/invalid schemaVersion/);
    expect(() => migrateSettings([1, 2])).toThrow(/not an object/);
  });
});

describe('settings store', () => {
  it('is empty at first, then saves and reloads the organization settings', async () => {
    const { cwd, store } = await storeIn();
    expect(store.loadOrg()).toBeNull();
    expect(() => store.requireOrg()).toThrow(SettingsFileError);
    store.saveOrg(current);
    const again = (await storeIn(cwd)).store;
    expect(again.loadOrg()).toEqual(current);
  });

  it('migrates an old file on load and writes the migrated settings back', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'scs-settings-'));
    await writeFile(path.join(cwd, 'settings.json'), JSON.stringify({ org: { ...v0, severa: { clientId: 'demo-client-id' } } }));
    const { store } = await storeIn(cwd);
    const org = store.loadOrg()!;
    expect(org.exchange.serverType).toBe('Exchange2013');
    expect(org.intervalMinutes).toBe(30);
    const onDisk = JSON.parse(await readFile(path.join(cwd, 'settings.json'), 'utf8'));
    expect(onDisk.org.schemaVersion).toBe(1);
    expect(onDisk.org).not.toHaveProperty('syncIntervalMinutes');
  });

  it('explains invalid stored settings instead of crashing, and does not overwrite them', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'scs-settings-'));
    const broken = { org: { ...current, exchange: { ...current.exchange, ewsUrl: 'ftp://mail' } } };
    await writeFile(path.join(cwd, 'settings.json'), JSON.stringify(broken));
    const { store } = await storeIn(cwd);
    expect(() => store.loadOrg()).toThrow(/exchange\.ewsUrl: Only https:\/\/ addresses/);
    expect(JSON.parse(await readFile(path.join(cwd, 'settings.json'), 'utf8'))).toEqual(broken);
  });

  it('refuses to save settings the schema rejects', async () => {
    const { store } = await storeIn();
    expect(() => store.saveOrg({ ...current, intervalMinutes: 0 })).toThrow();
    expect(store.loadOrg()).toBeNull();
  });

  it('keeps this desktop preferences apart and falls back to defaults when damaged', async () => {
    const { cwd, store } = await storeIn();
    expect(store.local()).toEqual({
      myEmail: null,
      startAtLogin: false,
      startDelayMinutes: 0,
      notifications: 'errors',
      language: 'system',
      notificationMemory: { activeProblems: [], firstSyncAnnounced: [], realSyncSeen: false },
      connectionTest: null,
    });
    store.updateLocal({ myEmail: 'aino.virtanen@contoso.example', startAtLogin: true });
    store.saveOrg(current);
    expect((await storeIn(cwd)).store.local()).toMatchObject({ myEmail: 'aino.virtanen@contoso.example', startAtLogin: true });
    await writeFile(path.join(cwd, 'settings.json'), JSON.stringify({ local: { startAtLogin: 'yes' } }));
    expect((await storeIn(cwd)).store.local().startAtLogin).toBe(false);
  });
});
