import { emailAddress } from '../common/settings-schema.ts';
import type { OrgSettings } from '../common/settings-schema.ts';
import { UserFacingError } from '../common/ipc-contract.ts';
import type {
  ActivityTypeView,
  AdminSettingsDraft,
  AppStatusView,
  CheckView,
  FieldIssue,
  IdentityView,
  JournalEntryView,
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
  chooseFile?: (purpose: 'ca-certificate') => Promise<string | null>;
  /** Carries out this desktop's preferences (the login item); the handlers store them. */
  applyPreferences?: (prefs: PreferencesView) => void;
  /** When automatic sync begins after a delayed start at login (ms), or null. */
  startsAt?: () => number | null;
}

const OFFICE_365_EXPLANATION =
  'Exchange Online no longer accepts a delegate user name and password (basic authentication and ApplicationImpersonation were removed). ' +
  'It needs an Entra ID app registration with app-only OAuth (Microsoft Graph); that connector comes separately.';

// Sentences of the request handlers, in one place.
const TEXT = {
  couldNotAskExchange: (why: string) => `Could not ask Exchange about this address: ${why}`,
};

const checkView = (c: CheckResult): CheckView => ({ id: c.id, title: c.title, ok: c.ok, message: c.message, ...(c.fix ? { fix: c.fix } : {}) });

const todayIso = () => new Date().toLocaleDateString('sv-SE');

// ---------- the handlers ----------

export function createWindowRequestHandlers(deps: WindowRequestDeps): IpcHandlers {
  const now = deps.now ?? Date.now;
  const today = deps.today ?? todayIso;
  const runner = deps.runner;
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
    if (!org) throw new UserFacingError('The admin settings are not saved yet.', 'An admin fills in the Admin section and saves it first.');
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
      deps.peers.findSeveraUser(settings, email).catch((e: unknown) => ({ known: false, detail: `Could not ask Severa: ${e instanceof Error ? e.message : String(e)}` })),
      verifiedPrimary !== undefined
        ? Promise.resolve(verifiedPrimary)
        : deps.peers.resolveMailbox(settings, email).catch((e: unknown) => {
            const advice = (e as { advice?: { message?: string } } | null)?.advice;
            exchangeProblem = advice?.message ?? (e instanceof Error ? e.message : String(e));
            return null;
          }),
    ]);
    const exchange = primary
      ? { known: true, primaryAddress: primary, detail: primary === email ? 'Exchange knows this address as the primary address.' : `Exchange knows this address as a secondary address of ${primary}.` }
      : { known: false, detail: exchangeProblem ? TEXT.couldNotAskExchange(exchangeProblem) : 'Exchange has no mailbox with this address.' };
    return { email, severa, exchange };
  };

  const personalView = async (withIdentity: boolean): Promise<PersonalSyncView> => {
    const email = deps.settings.local().myEmail;
    if (!email) return { email: null, enrolled: false };
    let org: OrgSettings | null = null;
    try {
      org = deps.settings.loadOrg();
    } catch {
      org = null;
    }
    const enrollment = org?.enrollments.find((e) => e.email === email);
    const view: PersonalSyncView = { email, enrolled: Boolean(enrollment) };
    if (enrollment) Object.assign(view, { syncStartDate: enrollment.syncStartDate, enabledAt: enrollment.enabledAt });
    if (withIdentity && org) view.identity = await identityOf(org, email);
    return view;
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
      return { settings, secretsStored: await deps.secrets.stored() };
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
      const connection = (s: OrgSettings | null) => (s ? JSON.stringify({ exchange: s.exchange, severa: s.severa, network: s.network }) : null);
      if (connection(existing) !== connection(saved)) forgetConnectionTest();
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
        throw new UserFacingError(
          `Could not load the activity types from Severa: ${error instanceof Error ? error.message : String(error)}`,
          'Check the Severa API address, client id and client secret, then load again.',
        );
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
      const parsedEmail = emailAddress.safeParse(typed);
      if (!parsedEmail.success) throw new UserFacingError(`"${typed}" is not an email address.`, 'Enter the email address you use in Severa and Exchange.');
      const email = parsedEmail.data;
      const settings = requireSettings();
      if (settings.exchange.serverType === 'Office365') throw new UserFacingError(OFFICE_365_EXPLANATION, 'Use an on-premises Exchange server type for now.');

      const identity = await identityOf(settings, email);
      if (!identity.severa.known) {
        throw new UserFacingError(`Severa has no active user with the email ${email}.`, 'Use the same email address as your Severa user, or ask the Severa admin to set it on your user.');
      }
      // The password proves the mailbox is the user's own; it is used for this one login and not kept anywhere.
      // Sign-in names are primary addresses (UPNs): someone whose Severa email is a secondary address signs in as the primary.
      const loginName = identity.exchange.primaryAddress && identity.exchange.primaryAddress !== email ? identity.exchange.primaryAddress : undefined;
      const login = await deps.peers.verifyOwnMailboxLogin(settings, email, password, loginName);
      if (!login.ok) throw new UserFacingError(login.message, login.fix);
      const verified = login.primaryAddress ? { ...identity, exchange: { known: true, primaryAddress: login.primaryAddress, detail: login.primaryAddress === email ? 'Exchange knows this address as the primary address.' : `Exchange knows this address as a secondary address of ${login.primaryAddress}.` } } : identity;

      const existing = settings.enrollments.find((e) => e.email === email);
      const enrollment = { email, syncStartDate: syncStartDate ?? existing?.syncStartDate ?? today(), enabledAt: existing?.enabledAt ?? new Date(now()).toISOString(), paused: false };
      deps.settings.saveOrg({ ...settings, enrollments: [...settings.enrollments.filter((e) => e.email !== email), enrollment] });
      deps.settings.updateLocal({ myEmail: email });
      deps.runner.triggerSoon?.('sync enabled');
      return { email, enrolled: true, syncStartDate: enrollment.syncStartDate, enabledAt: enrollment.enabledAt, identity: verified };
    },

    async 'personal:disable'() {
      const email = deps.settings.local().myEmail;
      if (email) {
        const settings = requireSettings();
        deps.settings.saveOrg({ ...settings, enrollments: settings.enrollments.filter((e) => e.email !== email) });
      }
      deps.settings.updateLocal({ myEmail: null });
      return { email: null, enrolled: false };
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
      if (!journal) throw new UserFacingError('Restoring deleted items is not available in this build.', 'Use the command line: severa-calendar-sync restore.');
      return journal.restore(ids);
    },

    async 'deletions:confirm'({ email }) {
      await deps.runner.runNow({ users: [email], confirmDeletions: true });
      return status();
    },

    async 'file:choose'({ purpose }) {
      return { path: deps.chooseFile ? await deps.chooseFile(purpose) : null };
    },

    async 'preferences:get'() {
      return preferencesView(deps.settings.local());
    },

    async 'preferences:set'(patch) {
      const next = preferencesView(deps.settings.updateLocal(patch));
      deps.applyPreferences?.(next);
      return next;
    },
  };
}
