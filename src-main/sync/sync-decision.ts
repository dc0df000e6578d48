import type { SideName } from '../common/sync-report.ts';

/**
 * The whole two-way policy as one table, in the manner of vdirsyncer: for one item (one Severa activity as one user
 * sees it, and its Exchange counterpart in that user's mailbox), three inputs decide what happens:
 *
 *   - the stored status from the last cycle: is there a pair at all?
 *   - the Severa side now, relative to that status: absent / unchanged / changed
 *   - the Exchange side now, likewise
 *
 * "changed" means the side's normalised content hash differs from the stored one (a new version with the same content is
 * "unchanged": formatting differences never cause ping-pong). Without a pair, a present side is reported as "changed".
 *
 * Pure: no I/O, no clock. The engine feeds it and carries out what it returns.
 */

export type SideNow = 'absent' | 'unchanged' | 'changed';

export interface DecisionInput {
  /** A pair was stored by an earlier cycle. */
  paired: boolean;
  severa: SideNow;
  exchange: SideNow;
  /** Both sides present and their content hashes equal: nothing to copy whatever changed. */
  sameContent: boolean;
  /** Last-update instants (UTC ISO), already corrected for known clock offsets; needed when both sides changed. */
  severaModified?: string;
  exchangeModified?: string;
  /** Without a pair: may this Severa activity go to Exchange (selected activity type, not a project task, inside the window)? */
  severaEligible: boolean;
  /** Without a pair: may this Exchange item go to Severa (inside the window)? Every Exchange entry is otherwise eligible. */
  exchangeEligible: boolean;
  /**
   * Paired, and both sides hold it as a series with a stored per-occurrence base (see series-merge.ts): when both changed,
   * each occurrence and the series' own fields are decided on their own instead of the later side winning whole.
   */
  mergeable?: boolean;
}

export type Decision =
  | { action: 'none'; cell: string }
  /** Keep or create the pair with both sides' current versions; no write on either side. */
  | { action: 'record'; cell: string }
  /** Drop the stored pair; no write (both sides are gone). */
  | { action: 'forget'; cell: string }
  | { action: 'create'; side: SideName; cell: string; reason: string; conflict: boolean }
  | { action: 'update'; side: SideName; cell: string; reason: string; conflict: boolean }
  /** Both sides get what the other changed, part by part (a series, occurrence by occurrence). */
  | { action: 'merge'; cell: string; reason: string }
  | { action: 'delete'; side: SideName; cell: string; reason: string };

/**
 * Which side wins when both changed to different content: the later last-update time.
 * Tie rule (equal instants, or a time missing on both): Severa wins, as the system of record for planning and billing.
 * A side with no known time loses to a side with one.
 */
export function laterSide(severaModified: string | undefined, exchangeModified: string | undefined): SideName {
  const s = severaModified ? Date.parse(severaModified) : Number.NaN;
  const e = exchangeModified ? Date.parse(exchangeModified) : Number.NaN;
  if (Number.isNaN(s) && Number.isNaN(e)) return 'severa';
  if (Number.isNaN(s)) return 'exchange';
  if (Number.isNaN(e)) return 'severa';
  return e > s ? 'exchange' : 'severa';
}

const other = (side: SideName): SideName => (side === 'severa' ? 'exchange' : 'severa');

function conflictUpdate(input: DecisionInput, cell: string): Decision {
  const winner = laterSide(input.severaModified, input.exchangeModified);
  const label = winner === 'severa' ? 'Severa' : 'Exchange';
  return { action: 'update', side: other(winner), cell, reason: `conflict: ${label} changed later`, conflict: true };
}

export function decide(input: DecisionInput): Decision {
  const { severa: s, exchange: e } = input;
  if (!input.paired) {
    // No status: a present side is new (the engine reports it as "changed").
    const sPresent = s !== 'absent';
    const ePresent = e !== 'absent';
    if (!sPresent && !ePresent) return { action: 'none', cell: 'new: both absent' };
    if (sPresent && !ePresent) {
      return input.severaEligible
        ? { action: 'create', side: 'exchange', cell: 'new: only in Severa', reason: 'new in Severa', conflict: false }
        : { action: 'none', cell: 'new: only in Severa, not eligible' };
    }
    if (!sPresent && ePresent) {
      return input.exchangeEligible
        ? { action: 'create', side: 'severa', cell: 'new: only in Exchange', reason: 'new in Exchange', conflict: false }
        : { action: 'none', cell: 'new: only in Exchange, not eligible' };
    }
    // Both exist without a pair (found again after a crash, or matched on a first sync).
    if (input.sameContent) return { action: 'record', cell: 'new: both, same content' };
    return conflictUpdate(input, 'new: both, different content');
  }

  if (s === 'absent' && e === 'absent') return { action: 'forget', cell: 'paired: both absent' };
  if (s === 'absent') {
    // Deleted in Severa. A change on the other side since the last cycle beats the deletion: nothing is lost.
    if (e === 'changed') return { action: 'create', side: 'severa', cell: 'paired: Severa absent, Exchange changed', reason: 'changed in Exchange after deletion in Severa', conflict: true };
    return { action: 'delete', side: 'exchange', cell: 'paired: Severa absent, Exchange unchanged', reason: 'deleted in Severa' };
  }
  if (e === 'absent') {
    if (s === 'changed') return { action: 'create', side: 'exchange', cell: 'paired: Exchange absent, Severa changed', reason: 'changed in Severa after deletion in Exchange', conflict: true };
    return { action: 'delete', side: 'severa', cell: 'paired: Exchange absent, Severa unchanged', reason: 'deleted in Exchange' };
  }
  // Both present. Equal content needs no write, whatever changed (e.g. our own write read back, or the same edit twice).
  if (input.sameContent) return { action: s === 'unchanged' && e === 'unchanged' ? 'none' : 'record', cell: `paired: ${s}/${e}, same content` };
  if (s === 'unchanged' && e === 'unchanged') return { action: 'none', cell: 'paired: unchanged/unchanged' };
  if (s === 'changed' && e === 'unchanged') return { action: 'update', side: 'exchange', cell: 'paired: changed/unchanged', reason: 'changed in Severa', conflict: false };
  if (s === 'unchanged' && e === 'changed') return { action: 'update', side: 'severa', cell: 'paired: unchanged/changed', reason: 'changed in Exchange', conflict: false };
  if (input.mergeable) return { action: 'merge', cell: 'paired: changed/changed, series', reason: 'changed on both sides: merged occurrence by occurrence' };
  return conflictUpdate(input, 'paired: changed/changed');
}

/**
 * A side's state relative to the stored pair: same version -> unchanged without looking further (when the side's versions
 * are exact, like EWS ChangeKeys); a new version with the same content hash -> unchanged (only the version needs
 * recording); otherwise changed. A side whose version is only a coarse timestamp (Severa's lastUpdatedDateTime, in whole
 * seconds) passes `exactVersions: false`: there the content hash decides even when the version looks the same.
 */
export function classifySide(
  stored: { version: string; hash: string } | null,
  now: { version: string; hash: string } | null,
  exactVersions = true,
): SideNow {
  if (!now) return 'absent';
  if (!stored) return 'changed';
  if (exactVersions && stored.version === now.version) return 'unchanged';
  return stored.hash === now.hash ? 'unchanged' : 'changed';
}
