import { t } from './i18n.ts';
import type { TextKey } from './i18n.ts';

/**
 * Why the sync changed an entry (ChangeLine.reason), in the current language. The reasons are made by the pure decision
 * table (src-main/sync/sync-decision.ts) as stable English phrases that tests and the store compare; they are said in
 * the reader's language where they are shown: the window's change report and the command line's list. A reason this
 * table does not know is shown as it is.
 */
const REASONS: Record<string, TextKey> = {
  'new in Severa': 'report.reasons.newInSevera',
  'new in Exchange': 'report.reasons.newInExchange',
  'changed in Severa': 'report.reasons.changedInSevera',
  'changed in Exchange': 'report.reasons.changedInExchange',
  'deleted in Severa': 'report.reasons.deletedInSevera',
  'deleted in Exchange': 'report.reasons.deletedInExchange',
  'changed in Exchange after deletion in Severa': 'report.reasons.changedInExchangeAfterDeletion',
  'changed in Severa after deletion in Exchange': 'report.reasons.changedInSeveraAfterDeletion',
  'changed on both sides: merged occurrence by occurrence': 'report.reasons.merged',
  'conflict: Severa changed later': 'report.reasons.conflictSevera',
  'conflict: Exchange changed later': 'report.reasons.conflictExchange',
  'the Exchange series changed its pattern; Severa gets it in its new shape': 'report.reasons.seriesReshaped',
  'finishing an interrupted copy from Exchange': 'report.reasons.recovered',
  'restored from the deletion journal': 'report.reasons.restored',
  'changed in Outlook; the meeting can only change there': 'report.reasons.changedInOutlookOnly',
  'the meeting itself was delivered again; the copy made by the sync gives way': 'report.reasons.copyGivesWay',
};

/** What the writes add to a decision's reason (src-main/sync/user-sync: severa-writes.ts, exchange-writes.ts, write-decisions.ts). */
const SUFFIXES: ReadonlyArray<[string, TextKey]> = [
  [' (removed as participant)', 'report.reasons.removedAsParticipant'],
  ['; an occurrence changed in Severa is kept', 'report.reasons.occurrenceKept'],
  [': takes part again', 'report.reasons.takesPartAgain'],
];

export function reasonText(reason: string | undefined): string {
  if (!reason) return '';
  const key = REASONS[reason];
  if (key) return t(key);
  for (const [suffix, suffixKey] of SUFFIXES) {
    if (reason.endsWith(suffix) && reason.length > suffix.length) return t(suffixKey, { reason: reasonText(reason.slice(0, -suffix.length)) });
  }
  return reason;
}
