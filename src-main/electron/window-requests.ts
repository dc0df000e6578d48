import { setLanguage, t } from '../common/i18n/i18n.ts';
import { emailAddress } from '../common/settings-schema.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { UserFacingError } from '../common/ipc-contract.ts';
import type {
  AdminSettingsDraft,
  AppStatusView,
  AuditReportView,
  FilePurpose,
  CheckView,
  IdentityView,
  JournalEntryView,
  MailboxProofKind,
  PersonalSyncView,
  PreferencesView,
  RestoreResultView,
} from '../common/ipc-contract.ts';
import type { SecretName, SecretSink } from '../common/secrets-contract.ts';
import type { CycleReport } from '../common/sync-report.ts';
import type { CheckResult, RunnerStatus } from '../runner/runner-types.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { EventPush, IpcHandlers } from './ipc-router.ts';
import { pauseUntil } from './tray-model.ts';
import type { UserStatusBook } from './user-status-book.ts';
import { activityTypeViews, appStatusView, draftOf, preferencesView, runnerStatusView, settingsFromDraft, setupView } from './window-views.ts';
import type { ActivityTypeInfo } from './window-views.ts';

export { activityTypeViews, appStatusView, draftOf, runnerStatusView, settingsFromDraft } from './window-views.ts';
export type { ActivityTypeInfo } from './window-views.ts';

/**
 * What the main process does for each request of the settings window. No Electron here: the same handlers serve the
 * real window (through ipc-router) and the renderer tests' bridge, over the real SyncRunner.
 */

/** The runner calls the window needs (SyncRunner has them all). */
export interface WindowRunner {
  runNow(opts?: { users?: string[]; confirmDeletions?: boolean }): Promise<CycleReport>;
  pause(untilMs: number | null): void;
  resume(): void;
  status(): RunnerStatus;
  check(opts?: { onResult?: (result: CheckResult, index: number) => void }): Promise<CheckResult[]>;
  triggerSoon?(reason: string): void;
  listDeletions?(email?: string): Promise<JournalEntryView[]>;
  restoreDeletions?(ids: string[]): Promise<RestoreResultView[]>;
  /** The agreement audit (SyncRunner.audit): reads both servers, writes nothing. */
  audit?(users?: readonly string[]): Promise<AuditReportView>;
  /** One schedule tick: applies changed settings (real time on or off) at once instead of at the next minute. */
  tick?(): void;
}

/** Outcome of "prove you own this mailbox": a login to Exchange as the user, without impersonation. */
export type OwnMailboxCheck = { ok: true; primaryAddress?: string } | { ok: false; message: string; fix?: string };

/** Lookups on the two servers, made with the organization settings and the stored secrets. */
export interface PeerLookups {
  listActivityTypes(settings: OrgSettings): Promise<ActivityTypeInfo[]>;
  /** Whether Severa has an active user with this email. */
  findSeveraUser(settings: OrgSettings, email: string): Promise<{ known: boolean; detail: string }>;
  /** The mailbox's primary address when Exchange knows the address (primary or secondary), else null. */
  resolveMailbox(settings: OrgSettings, email: string): Promise<string | null>;
  /** `loginName`: the sign-in name when it is not the typed address (a secondary address is no sign-in name). */
  verifyOwnMailboxLogin(settings: OrgSettings, email: string, password: string, loginName?: string): Promise<OwnMailboxCheck>;
  /**
   * Exchange Online: the person signs in with Microsoft in their own browser (`openBrowser` opens the sign-in page), and
   * the proof holds when the signed-in account's mailbox has `email` (primary or an alias). Nothing of it is kept.
   */
  proveMicrosoftSignIn?(settings: OrgSettings, email: string, openBrowser: (url: string) => Promise<void>): Promise<OwnMailboxCheck>;
}

export interface DeletionJournal {
  list(email?: string): Promise<JournalEntryView[]>;
  restore(ids: string[]): Promise<RestoreResultView[]>;
}

export interface WindowRequestDeps {
  settings: SettingsStore;
  secrets: SecretSink & { stored(): Promise<Record<SecretName, boolean>> };
  runner: WindowRunner;
  peers: PeerLookups;
  /** Every user's last sync (kept current by the app from the runner's reports). */
  userStatus(): UserStatusBook;
  logPath: string | null;
  exportLog(): Promise<string | null>;
  openLog(): Promise<boolean>;
  journal?: DeletionJournal;
  now?: () => number;
  /** YYYY-MM-DD of today in the user's zone: the default sync start date. */
  today?: () => string;
  /** Pushes to the window (createEventPusher); without it, Test connection answers only with the full list. */
  push?: EventPush;
  /** Shows the system's file dialog; resolves to the chosen path or null (cancelled, or no dialog in this host). */
  chooseFile?: (purpose: FilePurpose) => Promise<string | null>;
  /** Opens a sign-in page in the person's own browser (shell.openExternal in the app). */
  openExternal?: (url: string) => Promise<void>;
  /** Carries out this desktop's preferences (the login item); the handlers store them. */
  applyPreferences?: (prefs: PreferencesView) => void;
  /** When automatic sync begins after a delayed start at login (ms), or null. */
  startsAt?: () => number | null;
  /** The system's languages, most preferred first (app.getPreferredSystemLanguages() in the app); none: English. */
  systemLocales?: () => readonly string[];
}


/** The proofs of mailbox ownership the organization's Exchange connections take, the main connection's first. */
export function mailboxProofs(settings: OrgSettings | null): MailboxProofKind[] {
  if (!settings) return ['password'];
  const kinds = [settings.exchange, settings.secondExchange].filter((c) => c !== undefined).map((c): MailboxProofKind => (c.serverType === 'Office365' ? 'microsoft' : 'password'));
  return [...new Set(kinds)];
}

const checkView = (c: CheckResult): CheckView => ({ id: c.id, title: c.title, ok: c.ok, message: c.message, ...(c.fix ? { fix: c.fix } : {}) });

const todayIso = () => new Date().toLocaleDateString('sv-SE');

// ---------- the handlers ----------

export function createWindowRequestHandlers(deps: WindowRequestDeps): IpcHandlers {
  const now = deps.now ?? Date.now;
  const today = deps.today ?? todayIso;
  const runner = deps.runner;
  const systemLocales = () => deps.systemLocales?.() ?? [];
  const journal: DeletionJournal | undefined =
    deps.journal ??
    (runner.listDeletions && runner.restoreDeletions
      ? { list: (email) => runner.listDeletions!(email), restore: (ids) => runner.restoreDeletions!(ids) }
      : undefined);

  const requireSettings = (): OrgSettings => {
    let org: OrgSettings | null;
    try {
      org = deps.settings.loadOrg();
    } catch (error) {
      throw new UserFacingError(error instanceof Error ? error.message : String(error), (error as { fix?: string }).fix);
    }
    if (!org) throw new UserFacingError(t('app.requests.notSaved'), t('app.requests.notSavedFix'));
    return org;
  };

  const enrolledEmails = () => {
    try {
      return deps.settings.loadOrg()?.enrollments.map((e) => e.email) ?? [];
    } catch {
      return [];
    }
  };

  const status = (): AppStatusView => appStatusView(deps.runner.status(), deps.userStatus(), enrolledEmails(), deps.logPath, setupView(deps.settings), deps.startsAt?.() ?? null);
  /** A changed setting or secret makes the last Test connection say nothing about the new ones. */
  const forgetConnectionTest = () => {
    if (deps.settings.local().connectionTest) deps.settings.updateLocal({ connectionTest: null });
  };

  const identityOf = async (settings: OrgSettings, email: string, verifiedPrimary?: string): Promise<IdentityView> => {
    // A failed lookup is not "no mailbox": its reason (say, the delegate's password refused) is what to fix.
    let exchangeProblem: string | null = null;
    const [severa, primary] = await Promise.all([
      deps.peers.findSeveraUser(settings, email).catch((e: unknown) => ({ known: false, detail: t('app.requests.couldNotAskSevera', { why: e instanceof Error ? e.message : String(e) }) })),
      verifiedPrimary !== undefined
        ? Promise.resolve(verifiedPrimary)
        : deps.peers.resolveMailbox(settings, email).catch((e: unknown) => {
            const advice = (e as { advice?: { message?: string } } | null)?.advice;
            exchangeProblem = advice?.message ?? (e instanceof Error ? e.message : String(e));
            return null;
          }),
    ]);
    const exchange = primary
      ? { known: true, primaryAddress: primary, detail: primary === email ? t('app.requests.primary') : t('app.requests.secondary', { primary }) }
      : { known: false, detail: exchangeProblem ? t('app.requests.couldNotAskExchange', { why: exchangeProblem }) : t('app.requests.noMailbox') };
    return { email, severa, exchange };
  };

  const personalView = async (withIdentity: boolean): Promise<PersonalSyncView> => {
    let org: OrgSettings | null = null;
    try {
      org = deps.settings.loadOrg();
    } catch {
      org = null;
    }
    const email = deps.settings.local().myEmail;
    if (!email) return { email: null, enrolled: false, proofs: mailboxProofs(org) };
    const enrollment = org?.enrollments.find((e) => e.email === email);
    const view: PersonalSyncView = { email, enrolled: Boolean(enrollment), proofs: mailboxProofs(org) };
    if (enrollment) Object.assign(view, { syncStartDate: enrollment.syncStartDate, enabledAt: enrollment.enabledAt });
    if (withIdentity && org) view.identity = await identityOf(org, email);
    return view;
  };

  const parseEmail = (typed: string): string => {
    const parsed = emailAddress.safeParse(typed);
    if (!parsed.success) throw new UserFacingError(t('app.requests.notAnEmail', { typed }), t('app.requests.notAnEmailFix'));
    return parsed.data;
  };

  /** The identity, once Severa is known to have an active user with this email (else the refusal). */
  const knownInSevera = async (settings: OrgSettings, email: string): Promise<IdentityView> => {
    const identity = await identityOf(settings, email);
    if (!identity.severa.known) throw new UserFacingError(t('app.requests.notInSevera', { email }), t('app.requests.notInSeveraFix'));
    return identity;
  };

  /** The identity with the mailbox's primary address the proof established. */
  const withPrimary = (identity: IdentityView, primary: string | undefined): IdentityView =>
    primary ? { ...identity, exchange: { known: true, primaryAddress: primary, detail: primary === identity.email ? t('app.requests.primary') : t('app.requests.secondary', { primary }) } } : identity;

  const enroll = (settings: OrgSettings, email: string, syncStartDate: string | undefined, identity: IdentityView): PersonalSyncView => {
    const existing = settings.enrollments.find((e) => e.email === email);
    const enrollment = { email, syncStartDate: syncStartDate ?? existing?.syncStartDate ?? today(), enabledAt: existing?.enabledAt ?? new Date(now()).toISOString(), paused: false };
    deps.settings.saveOrg({ ...settings, enrollments: [...settings.enrollments.filter((e) => e.email !== email), enrollment] });
    deps.settings.updateLocal({ myEmail: email });
    deps.runner.triggerSoon?.('sync enabled');
    return { email, enrolled: true, proofs: mailboxProofs(settings), syncStartDate: enrollment.syncStartDate, enabledAt: enrollment.enabledAt, identity };
  };

  return {
    async 'settings:get'() {
      let settings: AdminSettingsDraft | null = null;
      try {
        const org = deps.settings.loadOrg();
        settings = org ? draftOf(org) : null;
      } catch {
        // Unusable stored settings: the form starts empty and saving replaces them.
        settings = null;
      }
      return { settings, secretsStored: await deps.secrets.stored(), enrolledUsers: enrolledEmails() };
    },

    async 'settings:save'(draft) {
      let existing: OrgSettings | null = null;
      try {
        existing = deps.settings.loadOrg();
      } catch {
        existing = null;
      }
      const result = settingsFromDraft(draft, existing);
      if (!result.ok) return result;
      const saved = deps.settings.saveOrg(result.settings);
      // Only what the connection depends on: choosing activity types or the interval tests nothing anew.
      const connection = (s: OrgSettings | null) =>
        s ? JSON.stringify({ exchange: s.exchange, secondExchange: s.secondExchange ?? null, mailboxLocations: s.mailboxLocations, severa: s.severa, network: s.network }) : null;
      if (connection(existing) !== connection(saved)) forgetConnectionTest();
      // Real time on or off, new connections for the watches: applied now, not at the schedule's next minute.
      deps.runner.tick?.();
      return { ok: true, settings: draftOf(saved) };
    },

    async 'secret:set'({ name, value }) {
      await deps.secrets.set(name, value);
      forgetConnectionTest();
      return { stored: true };
    },
    async 'secret:has'({ name }) {
      return { stored: await deps.secrets.has(name) };
    },
    async 'secret:delete'({ name }) {
      await deps.secrets.delete(name);
      forgetConnectionTest();
      return { stored: false };
    },

    async 'activityTypes:list'() {
      const settings = requireSettings();
      try {
        return activityTypeViews(await deps.peers.listActivityTypes(settings));
      } catch (error) {
        throw new UserFacingError(t('app.requests.typesNotLoaded', { why: error instanceof Error ? error.message : String(error) }), t('app.requests.typesNotLoadedFix'));
      }
    },

    async 'connection:test'(payload) {
      const runId = payload?.runId;
      const push = deps.push;
      // Each check goes to the window as it completes; the reply still carries the whole list, which the window trusts.
      const results = !runId || !push ? await deps.runner.check() : await deps.runner.check({ onResult: (result, index) => void push('connection:check', { runId, index, check: checkView(result) }) });
      // Remembered for the first-run guide: passed or failed, on the settings saved now.
      const configured = results.length > 1 || results[0]?.id !== 'settings';
      if (configured) deps.settings.updateLocal({ connectionTest: { at: new Date(now()).toISOString(), ok: results.every((r) => r.ok) } });
      return results.map(checkView);
    },

    async 'personal:get'() {
      return personalView(true);
    },

    async 'personal:enable'({ email: typed, password, syncStartDate }) {
      const email = parseEmail(typed);
      const settings = requireSettings();
      if (!mailboxProofs(settings).includes('password')) throw new UserFacingError(t('app.requests.noPasswordLogin'), t('app.requests.noPasswordLoginFix'));

      const identity = await knownInSevera(settings, email);
      // The password proves the mailbox is the user's own; it is used for this one login and not kept anywhere.
      // Sign-in names are primary addresses (UPNs): someone whose Severa email is a secondary address signs in as the primary.
      const loginName = identity.exchange.primaryAddress && identity.exchange.primaryAddress !== email ? identity.exchange.primaryAddress : undefined;
      const login = await deps.peers.verifyOwnMailboxLogin(settings, email, password, loginName);
      if (!login.ok) throw new UserFacingError(login.message, login.fix);
      return enroll(settings, email, syncStartDate, withPrimary(identity, login.primaryAddress));
    },

    async 'personal:signInWithMicrosoft'({ email: typed, syncStartDate }) {
      const email = parseEmail(typed);
      const settings = requireSettings();
      if (!mailboxProofs(settings).includes('microsoft') || !deps.peers.proveMicrosoftSignIn) throw new UserFacingError(t('app.requests.noExchangeOnline'), t('app.requests.noExchangeOnlineFix'));
      if (!deps.openExternal) throw new UserFacingError(t('app.requests.noBrowser'), t('app.requests.noBrowserFix'));
      const identity = await knownInSevera(settings, email);
      // The person signs in in their own browser; only the outcome comes back (no token, no account is kept).
      const proof = await deps.peers.proveMicrosoftSignIn(settings, email, deps.openExternal);
      if (!proof.ok) throw new UserFacingError(proof.message, proof.fix);
      return enroll(settings, email, syncStartDate, withPrimary(identity, proof.primaryAddress));
    },

    async 'personal:disable'() {
      const email = deps.settings.local().myEmail;
      if (email) {
        const settings = requireSettings();
        deps.settings.saveOrg({ ...settings, enrollments: settings.enrollments.filter((e) => e.email !== email) });
      }
      deps.settings.updateLocal({ myEmail: null });
      let org: OrgSettings | null = null;
      try {
        org = deps.settings.loadOrg();
      } catch {
        org = null;
      }
      return { email: null, enrolled: false, proofs: mailboxProofs(org) };
    },

    async 'sync:now'() {
      await deps.runner.runNow();
      return status();
    },

    async 'sync:pause'({ mode }) {
      deps.runner.pause(pauseUntil(mode, now()));
      return runnerStatusView(deps.runner.status());
    },

    async 'sync:resume'() {
      deps.runner.resume();
      return runnerStatusView(deps.runner.status());
    },

    async 'status:get'() {
      return status();
    },

    async 'log:export'() {
      return { path: await deps.exportLog() };
    },

    async 'log:open'() {
      return { opened: await deps.openLog() };
    },

    async 'journal:list'({ email }) {
      return journal ? journal.list(email) : [];
    },

    async 'journal:restore'({ ids }) {
      if (!journal) throw new UserFacingError(t('app.requests.noRestore'), t('app.requests.noRestoreFix'));
      return journal.restore(ids);
    },

    async 'deletions:confirm'({ email }) {
      await deps.runner.runNow({ users: [email], confirmDeletions: true });
      return status();
    },

    async 'file:choose'({ purpose }) {
      return { path: deps.chooseFile ? await deps.chooseFile(purpose) : null };
    },

    async 'audit:run'(payload) {
      if (!runner.audit) throw new UserFacingError(t('app.requests.noAudit'), t('app.requests.noAuditFix'));
      requireSettings();
      try {
        return await runner.audit(payload?.email ? [payload.email.toLowerCase()] : undefined);
      } catch (error) {
        const advice = (error as { advice?: { message?: string; fix?: string } } | null)?.advice;
        throw new UserFacingError(t('app.requests.auditFailed', { why: advice?.message ?? (error instanceof Error ? error.message : String(error)) }), advice?.fix ?? t('app.requests.auditFailedFix'));
      }
    },

    async 'preferences:get'() {
      return preferencesView(deps.settings.local(), systemLocales());
    },

    async 'preferences:set'(patch) {
      const next = preferencesView(deps.settings.updateLocal(patch), systemLocales());
      // The main process speaks the new language at once: the tray, notifications and what the handlers say next.
      setLanguage(next.activeLanguage);
      deps.applyPreferences?.(next);
      return next;
    },
  };
}
