import type { ChangeView } from '../src-main/common/ipc-contract.ts';
import { h } from './dom.ts';
import { formatWeekdayDay, t } from '../src-main/common/i18n/i18n.ts';
import { reasonText } from '../src-main/common/i18n/reasons.ts';
import { when } from './format.ts';

/**
 * The per-entry change report of one person: every entry the sync created, updated or deleted, by name, date,
 * direction and reason, newest first. A disclosure, so a card stays short until someone wants the detail.
 */

const COLUMNS = ['entry', 'date', 'what', 'why', 'when'] as const;

/** An all-day entry's date alone; an entry with a time as day and time. */
function entryDate(start: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(start)) return t('window.changes.allDay', { day: formatWeekdayDay(new Date(`${start}T12:00:00`)) });
  return when(start);
}

export function changeReport(changes: ChangeView[], open = false): HTMLElement | null {
  if (changes.length === 0) return null;
  return h(
    'details',
    { class: 'change-report', open },
    h('summary', {}, t('window.changes.summary', { count: changes.length })),
    h(
      'table',
      { class: 'change-table' },
      h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', { scope: 'col' }, t(`window.changes.columns.${c}`))))),
      h(
        'tbody',
        {},
        changes.map((c) =>
          h(
            'tr',
            { 'data-action': c.action, 'data-side': c.side },
            h('td', { class: 'change-subject' }, c.subject),
            h('td', {}, entryDate(c.start)),
            h('td', {}, h('span', { class: `change-action action-${c.action}` }, t(`window.changes.action.${c.action}`)), ' ', c.action === 'delete' ? t(`window.changes.deletedIn.${c.side}`) : t(`window.changes.towards.${c.side}`)),
            h('td', { class: 'muted' }, reasonText(c.reason)),
            h('td', { class: 'muted' }, when(c.at)),
          ),
        ),
      ),
    ),
  );
}
