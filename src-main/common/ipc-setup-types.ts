import { z } from 'zod';

/**
 * The set-up part of the IPC contract (ipc-contract.ts is the contract and re-exports it): Test connection's checks, as
 * the reply lists them and as they are pushed while the run goes on; a person turning on their own sync (who they are
 * on both servers, how they prove the mailbox is theirs); and where the first-run setup stands.
 */

/** Names one Test connection run, so the window can tell that run's live results from any other's. */
export const runIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected a run id of 1 to 64 letters, digits, - or _.');

export interface CheckView {
  id: string;
  title: string;
  ok: boolean;
  message: string;
  fix?: string;
}

/** One check of a running Test connection, pushed as soon as it passed or failed. */
export interface CheckProgressView {
  /** The runId of the 'connection:test' request it belongs to. */
  runId: string;
  /** Its position in that request's final list. */
  index: number;
  check: CheckView;
}

export interface IdentityView {
  /** The address as entered, lower-cased. */
  email: string;
  severa: { known: boolean; detail: string };
  exchange: { known: boolean; primaryAddress?: string; detail: string };
}

/** How a person proves a mailbox is theirs: its password (on-premises Exchange) or a Microsoft sign-in (Exchange Online). */
export type MailboxProofKind = 'password' | 'microsoft';

export interface PersonalSyncView {
  /** The email this desktop's user enabled sync for, if any. */
  email: string | null;
  enrolled: boolean;
  /** The proofs the organization's Exchange takes: one, or both in a hybrid organization. Absent: the password. */
  proofs?: MailboxProofKind[];
  syncStartDate?: string;
  enabledAt?: string;
  identity?: IdentityView;
}

/** Where the first-run setup stands: the window guides through the steps until it is complete. */
export interface SetupView {
  settingsSaved: boolean;
  /** The last Test connection on the current settings. */
  connectionTest: 'not-run' | 'passed' | 'failed';
  anyoneEnrolled: boolean;
  /** Whether this desktop's person turned on their own sync. */
  meEnrolled: boolean;
  /** A cycle has run: the setup worked once, so a later change does not bring the guide back. */
  synced: boolean;
}
