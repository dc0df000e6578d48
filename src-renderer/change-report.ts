import type { ChangeView } from '../src-main/common/ipc-contract.ts';
import { h } from './dom.ts';
import { when } from './format.ts';

/**
 * The per-entry change report of one person: every entry the sync created, updated or deleted, by name, date,
 * direction and reason, newest first. A disclosure, so a card stays short until someone wants the detail.
 */

// Every word of the report, in one place.
const TEXT = {
  summary: (n: number) => `Changed entries (${n})`,
  columns: ['Entry', 'Date', 'What the sync did', 'Why', 'When'],
  action: { create: 'Created', update: 'Updated', delete: 'Deleted' } as Record<ChangeView['action'], string>,
  towards: { exchange: 'in Exchange (from Severa)', severa: 'in Severa (from Exchange)' } as Record<ChangeView['side'], string>,
  deletedIn: { exchange: 'in Exchange', severa: 'in Severa' } as Record<ChangeView['side'], string>,
  allDay: 'all day',
};

const dayOnly = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });

/** An all-day entry's date alone; an entry with a time as day and time. */
function entryDate(start: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(start)) return `${dayOnly.format(new Date(`${start}T12:00:00`))}, ${TEXT.allDay}`;
  return when(start);
}

export function changeReport(changes: ChangeView[], open = false): HTMLElement | null {
  if (changes.length === 0) return null;
  return h(
    'details',
    { class: 'change-report', open },
    h('summary', {}, TEXT.summary(changes.length)),
    h(
      'table',
      { class: 'change-table' },
      h('thead', {}, h('tr', {}, TEXT.columns.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        changes.map((c) =>
          h(
            'tr',
            { 'data-action': c.action, 'data-side': c.side },
            h('td', { class: 'change-subject' }, c.subject),
            h('td', {}, entryDate(c.start)),
            h('td', {}, h('span', { class: `change-action action-${c.action}` }, TEXT.action[c.action]), ' ', c.action === 'delete' ? TEXT.deletedIn[c.side] : TEXT.towards[c.side]),
            h('td', { class: 'muted' }, c.reason ?? ''),
            h('td', { class: 'muted' }, when(c.at)),
          ),
        ),
      ),
    ),
  );
}
