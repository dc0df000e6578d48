import type { SideCountsView } from './renderer-types.ts';

const dateTime = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

export function when(iso: string | undefined | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

export function counts(c: SideCountsView | undefined): string {
  if (!c) return '—';
  const parts = [c.created && `${c.created} new`, c.updated && `${c.updated} changed`, c.deleted && `${c.deleted} deleted`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'no changes';
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "about 40 s left", "about 6 min left", "about 2 h 5 min left". */
export function timeLeft(seconds: number): string {
  if (seconds < 60) return `about ${Math.max(5, Math.round(seconds / 5) * 5)} s left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  return `about ${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}
