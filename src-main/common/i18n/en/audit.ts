/**
 * The agreement audit's sentences (`check --audit`, the window's 'Compare both sides', the automatic audit): each
 * difference's story (when each side was last written, and by whom) and the rule that explains it.
 */
export const audit = {
  story: {
    severaLater: 'last changed in Severa {{severa}}, in Exchange {{exchange}} (Severa later)',
    exchangeLater: 'last changed in Severa {{severa}}, in Exchange {{exchange}} (Exchange later)',
    wroteSevera: 'the sync last wrote it to Severa on {{at}} ({{reason}})',
    wroteExchange: 'the sync last wrote it to Exchange on {{at}} ({{reason}})',
    notWritten: 'the sync has not written it in the recent cycles',
    joined: '{{times}}; {{written}}',
  },
  rules: {
    deletionWaits: 'a deletion waits: held by the deletion guard, or an Outlook meeting Exchange Online cannot delete without mailing its attendees',
    onlineMeeting: 'Exchange Online: a meeting with attendees changes only in Outlook (any change would mail them), so a change made in Severa stays in Severa',
    notToExchange: 'the activity no longer goes to Exchange: {{why}}',
    projectTask: 'project tasks are never synced',
    typeNotSelected: 'activity type not selected for Exchange',
  },
};
