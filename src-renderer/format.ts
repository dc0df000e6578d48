import { formatDayTime, t } from '../src-main/common/i18n/i18n.ts';
import type { SideCountsView } from './renderer-types.ts';

/** A moment as "20 Nov, 10:02" in the window's language; '—' when there is none. */
export function when(iso: string | undefined | null): string {
  if (!iso) return t('window.common.none');
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : formatDayTime(d);
}

export function counts(c: SideCountsView | undefined): string {
  if (!c) return t('window.common.none');
  const parts = [c.created && t('window.format.created', { count: c.created }), c.updated && t('window.format.updated', { count: c.updated }), c.deleted && t('window.format.deleted', { count: c.deleted })].filter(Boolean);
  return parts.length ? parts.join(', ') : t('window.format.noChanges');
}

/** "about 40 s left", "about 6 min left", "about 2 h 5 min left". */
export function timeLeft(seconds: number): string {
  if (seconds < 60) return t('window.format.secondsLeft', { seconds: Math.max(5, Math.round(seconds / 5) * 5) });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t('window.format.minutesLeft', { minutes });
  return t('window.format.hoursLeft', { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
}
