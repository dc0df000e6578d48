import { resolveLanguage, t } from '../common/i18n/i18n.ts';
import { orgSettings, realTimeOf } from '../common/settings-schema.ts';
import type { ExchangeSettings, OrgSettings } from '../common/settings-schema.ts';
import type { ActivityTypeView, AdminSettingsDraft, AppStatusView, ExchangeDraft, FieldIssue, PreferencesView, RunnerStatusView, SetupView } from '../common/ipc-contract.ts';
import { connectionLocation } from '../exchange/exchange-locations.ts';
import type { RunnerStatus } from '../runner/runner-types.ts';
import type { LocalPreferences, SettingsStore } from '../settings/settings-store.ts';
import { statusRows } from './user-status-book.ts';
import type { UserStatusBook } from './user-status-book.ts';

/**
 * The window's views of the stored settings and the runner's status, and the way back from the admin form to stored
 * settings. Pure mappings: no Electron, no I/O beyond the settings store handed in.
 */

export interface ActivityTypeInfo {
  guid: string;
  name: string;
  category: string;
  isActive: boolean;
  isDefault: boolean;
}


const DEFAULT_NETWORK = { proxyMode: 'system', proxyUrl: '', proxyBypass: '', proxyUsername: '' } as const;

/** One stored Exchange connection as the form shows it (never a secret). */
export function exchangeDraftOf(ex: ExchangeSettings): ExchangeDraft {
  if (ex.serverType === 'Office365') {
    return {
      serverType: 'Office365',
      tenantId: ex.tenantId,
      clientId: ex.clientId,
      credential: ex.credential,
      certificateFile: ex.certificateFile ?? '',
      secretExpires: ex.secretExpires ?? '',
      authorityHost: ex.authorityHost,
      graphUrl: ex.graphUrl,
      caFile: ex.caFile ?? '',
    };
  }
  return { serverType: ex.serverType, ewsUrl: ex.ewsUrl, domain: ex.domain, username: ex.username, authMethod: ex.authMethod, allowInsecureHttp: ex.allowInsecureHttp, ...(ex.caFile ? { caFile: ex.caFile } : {}) };
}

/** The stored settings as the admin form shows them (no enrollments, no version, never a secret). */
export function draftOf(settings: OrgSettings): AdminSettingsDraft {
  const network = settings.network ?? DEFAULT_NETWORK;
  return {
    exchange: exchangeDraftOf(settings.exchange),
    secondExchange: settings.secondExchange ? exchangeDraftOf(settings.secondExchange) : null,
    mailboxLocations: { ...settings.mailboxLocations },
    severa: { apiUrl: settings.severa.apiUrl, clientId: settings.severa.clientId, allowInsecureHttp: settings.severa.allowInsecureHttp, ...(settings.severa.caFile ? { caFile: settings.severa.caFile } : {}) },
    network: { proxyMode: network.proxyMode, proxyUrl: network.proxyUrl, proxyBypass: network.proxyBypass, proxyUsername: network.proxyUsername },
    activityTypesToExchange: settings.activityTypesToExchange,
    intervalMinutes: settings.intervalMinutes,
    windowDaysAhead: settings.windowDaysAhead,
    deletionGuard: settings.deletionGuard,
    realTime: realTimeOf(settings),
  };
}

const trimmed = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

/** One connection of the form as it would be stored (checked by the schema afterwards); `existing`: the stored one. */
function exchangeFromDraft(ex: ExchangeDraft, existing: ExchangeSettings | undefined): Record<string, unknown> {
  if (ex.serverType === 'Office365') {
    const before = existing?.serverType === 'Office365' ? existing : undefined;
    const online: Record<string, unknown> = {
      serverType: 'Office365',
      tenantId: ex.tenantId ?? before?.tenantId ?? '',
      clientId: ex.clientId ?? before?.clientId ?? '',
      credential: ex.credential ?? before?.credential ?? 'certificate',
    };
    // Each optional field: as typed when the form sent it (empty clears it), else as stored.
    const optional = (key: 'certificateFile' | 'secretExpires' | 'caFile' | 'authorityHost' | 'graphUrl') => {
      const value = ex[key] !== undefined ? trimmed(ex[key]) : before?.[key];
      if (value !== undefined) online[key] = value;
    };
    for (const key of ['certificateFile', 'secretExpires', 'caFile', 'authorityHost', 'graphUrl'] as const) optional(key);
    return online;
  }
  return {
    serverType: ex.serverType,
    ewsUrl: ex.ewsUrl ?? '',
    domain: ex.domain ?? '',
    username: ex.username ?? '',
    authMethod: ex.authMethod ?? 'ntlm',
    allowInsecureHttp: ex.allowInsecureHttp ?? false,
    ...(trimmed(ex.caFile) ? { caFile: trimmed(ex.caFile) } : {}),
  };
}

/** What the schema cannot see: the two connections together, and per-user choices that need a second one. */
function connectionIssues(settings: OrgSettings): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const second = settings.secondExchange;
  if (second?.serverType === 'Office365' && settings.exchange.serverType === 'Office365') {
    issues.push({ path: 'secondExchange.serverType', message: t('app.views.twoTenants') });
  } else if (second && connectionLocation(second) === connectionLocation(settings.exchange)) {
    issues.push({ path: second.serverType === 'Office365' ? 'secondExchange.tenantId' : 'secondExchange.ewsUrl', message: t('app.views.sameConnection') });
  }
  for (const [email, which] of Object.entries(settings.mailboxLocations)) {
    if (which === 'second' && !second) issues.push({ path: `mailboxLocations.${email}`, message: t('app.views.noSecondConnection') });
  }
  return issues;
}

/** The draft merged into what is stored (enrollments stay), validated by the shared schema; issues point at form fields. */
export function settingsFromDraft(draft: AdminSettingsDraft, existing: OrgSettings | null): { ok: true; settings: OrgSettings } | { ok: false; issues: FieldIssue[] } {
  const { caFile: severaCa, ...severa } = draft.severa;
  const secondExchange =
    draft.secondExchange === undefined ? existing?.secondExchange : draft.secondExchange === null ? undefined : exchangeFromDraft(draft.secondExchange, existing?.secondExchange);
  const candidate: Record<string, unknown> = {
    // What the form does not send stays as stored.
    ...(existing ?? {}),
    schemaVersion: 1,
    exchange: exchangeFromDraft(draft.exchange, existing?.exchange),
    severa: { ...severa, ...(severaCa?.trim() ? { caFile: severaCa.trim() } : {}) },
    network: draft.network ?? existing?.network ?? DEFAULT_NETWORK,
    activityTypesToExchange: [...new Set(draft.activityTypesToExchange)],
    intervalMinutes: draft.intervalMinutes,
    windowDaysAhead: draft.windowDaysAhead,
    enrollments: existing?.enrollments ?? [],
    deletionGuard: draft.deletionGuard ?? existing?.deletionGuard ?? { maxItems: 10, maxPercent: 20 },
    mailboxLocations: draft.mailboxLocations ?? existing?.mailboxLocations ?? {},
  };
  if (secondExchange) candidate.secondExchange = secondExchange;
  else delete candidate.secondExchange;
  if (draft.realTime) candidate.realTime = draft.realTime;
  const parsed = orgSettings.safeParse(candidate);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
  const issues = connectionIssues(parsed.data);
  return issues.length ? { ok: false, issues } : { ok: true, settings: parsed.data };
}

export function activityTypeViews(types: ActivityTypeInfo[]): ActivityTypeView[] {
  return types
    .map((type): ActivityTypeView => {
      const isTask = type.category === 'Task';
      const note = isTask ? t('app.views.projectTask') : !type.isActive ? t('app.views.inactive') : undefined;
      return { guid: type.guid, name: type.name, category: type.category, isActive: type.isActive, isDefault: type.isDefault, syncable: !isTask && type.isActive, ...(note ? { note } : {}) };
    })
    .sort((a, b) => Number(b.syncable) - Number(a.syncable) || a.name.localeCompare(b.name));
}

/** `startsAt`: when automatic sync begins after a delayed start at login (ms), while that is still ahead. */
export function runnerStatusView(status: RunnerStatus, startsAtMs?: number | null): RunnerStatusView {
  const view: RunnerStatusView = { state: status.state, consecutiveFailures: status.consecutiveFailures };
  if (status.lastRunAt) view.lastRunAt = status.lastRunAt;
  if (status.nextRunAt) view.nextRunAt = status.nextRunAt;
  if (status.pausedUntil !== undefined) view.pausedUntil = status.pausedUntil;
  if (status.progress) view.progress = { ...status.progress };
  if (status.waitingFor) view.waitingFor = status.waitingFor;
  if (startsAtMs) view.startsAt = new Date(startsAtMs).toISOString();
  if (status.live) view.live = structuredClone(status.live);
  if (status.audit) view.audit = structuredClone(status.audit);
  return view;
}

/** Where the first-run setup stands, from the stored settings and this desktop's preferences. */
export function setupView(settings: SettingsStore, status?: Pick<RunnerStatus, 'lastRunAt'>): SetupView {
  let org: OrgSettings | null = null;
  try {
    org = settings.loadOrg();
  } catch {
    org = null;
  }
  const local = settings.local();
  const active = (org?.enrollments ?? []).filter((e) => !e.paused);
  return {
    settingsSaved: org !== null,
    connectionTest: local.connectionTest ? (local.connectionTest.ok ? 'passed' : 'failed') : 'not-run',
    anyoneEnrolled: active.length > 0,
    meEnrolled: local.myEmail !== null && active.some((e) => e.email === local.myEmail),
    synced: Boolean(status?.lastRunAt),
  };
}

export function appStatusView(
  status: RunnerStatus,
  book: UserStatusBook,
  enrolled: string[],
  logPath: string | null,
  setup: SetupView,
  startsAtMs?: number | null,
): AppStatusView {
  setup = { ...setup, synced: setup.synced || Boolean(status.lastRunAt) };
  const last = status.lastReport;
  return {
    runner: runnerStatusView(status, startsAtMs),
    users: statusRows(book, enrolled),
    orgErrors: last?.errors ?? [],
    ...(last ? { lastCycle: { startedAt: last.startedAt, finishedAt: last.finishedAt, outcome: last.outcome } } : {}),
    logPath,
    setup,
  };
}

/** What automatic sync waits for in the app: the admin settings, then someone turning on their sync. */
export function waitingForSetup(settings: SettingsStore): 'settings' | 'enrollment' | null {
  let org: OrgSettings | null;
  try {
    org = settings.loadOrg();
  } catch {
    // Stored settings that cannot be used are a problem a cycle reports, not a setup step.
    return null;
  }
  if (!org) return 'settings';
  return org.enrollments.some((e) => !e.paused) ? null : 'enrollment';
}

/** `systemLocales`: the system's languages, most preferred first (Electron's app.getPreferredSystemLanguages()). */
export function preferencesView(local: LocalPreferences, systemLocales: readonly string[]): PreferencesView {
  return {
    notifications: local.notifications,
    startAtLogin: local.startAtLogin,
    startDelayMinutes: local.startDelayMinutes,
    language: local.language,
    activeLanguage: resolveLanguage(local.language, systemLocales),
    systemLanguage: resolveLanguage('system', systemLocales),
  };
}
