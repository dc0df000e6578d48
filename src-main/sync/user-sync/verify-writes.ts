import { t, type TextKey } from '../../common/i18n/i18n.ts';
import type { SideName } from '../../common/sync-report.ts';
import type { PairRecord } from '../../store/sync-store.ts';
import type { EventFields } from '../calendar-event.ts';
import { contentProjection } from '../event-content-hash.ts';
import { problem, type UserState } from './user-sync-state.ts';

/**
 * Verified writes: after a create or an update the sync knows what the server actually holds (the write's answer, or the
 * connector's read-back) and compares it with what it meant to write. A difference is a problem the admin can act on,
 * naming each field ("Exchange did not store the series' subject: it holds "A", not "B""), and the pair records what is
 * really there, so the next cycle neither takes it for agreement nor writes it again by itself (no rewrite loop). Such
 * a difference is said again every cycle until the entry is written again or its pair goes (it is kept with the user's
 * work, committed in the same transaction).
 */

export interface StandingDifference {
  exchangeId: string;
  severaGuid: string;
  side: SideName;
  subject: string;
  /** The problem's message as first reported. */
  message: string;
  since: string;
}

interface VerifyState {
  standing: StandingDifference[] | null;
  /** Entries written or unpaired this cycle (exchangeId and severaGuid): their standing differences are settled. */
  touched: Set<string>;
  added: StandingDifference[];
}

const states = new WeakMap<UserState, VerifyState>();

function stateOf(u: UserState): VerifyState {
  let s = states.get(u);
  if (!s) {
    s = { standing: null, touched: new Set(), added: [] };
    states.set(u, s);
  }
  return s;
}

const keyOf = (u: UserState) => `write-differs:${u.plan.email}`;

function standing(u: UserState): StandingDifference[] {
  const s = stateOf(u);
  if (s.standing === null) {
    const stored = u.ctx.store.getOrgValue<StandingDifference[]>(keyOf(u));
    s.standing = Array.isArray(stored) ? stored : [];
  }
  return s.standing;
}

// ---- comparing ----

const FIELD_KEYS = ['s', 'a', 'b', 'e', 'l', 't', 'p', 'r'] as const;
type FieldKey = (typeof FIELD_KEYS)[number];
const fieldName = (key: string): string => t(`engine.verify.names.${key as FieldKey}`);

const show = (key: string, v: unknown): string => {
  if (key === 'a') return v ? t('engine.verify.allDay') : t('engine.verify.notAllDay');
  if (key === 'p') return v ? t('engine.verify.private') : t('engine.verify.notPrivate');
  if (key === 't') {
    const text = String(v ?? '');
    return text === '' ? t('engine.verify.noText') : `"${text.length > 60 ? `${text.slice(0, 57)}...` : text}"`;
  }
  if (key === 'r') return v ? describeRule(v as Record<string, unknown>) : t('engine.verify.noPattern');
  if (key === 'l' && v === '') return t('engine.verify.noLocation');
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
};

/** A rule's own value (a weekday, an ordinal) in words of the current language; one the catalog lacks as it is. */
function named(group: 'ordinals' | 'days', value: unknown, otherwise: string): string {
  const key = `engine.rule.${group}.${String(value)}` as TextKey;
  const said = t(key);
  return said === key ? otherwise : said;
}

const FREQUENCIES = ['Daily', 'Weekly', 'Monthly', 'Yearly'] as const;

function describeRule(r: Record<string, unknown>): string {
  const f = String(r.f);
  const known = FREQUENCIES.find((k) => k === f);
  const every = Number(r.i) > 1;
  const interval = String(r.i);
  const days = Array.isArray(r.d) && r.d.length ? r.d.map((d) => named('days', d, String(d))).join(', ') : null;
  const parts = [
    known === 'Weekly' && days
      ? t(every ? 'engine.rule.weeklyEveryOn' : 'engine.rule.weeklyOn', { interval, days })
      : known
        ? every
          ? t(`engine.rule.every.${known}`, { interval })
          : t(`engine.rule.frequency.${known}`)
        : `${f.toLowerCase()}${every ? ` every ${interval}` : ''}${days ? ` on ${days}` : ''}`,
  ];
  if (r.dm) parts.push(t('engine.rule.onDay', { day: String(r.dm) }));
  if (r.wo) parts.push(t('engine.rule.onThe', { ordinal: named('ordinals', r.wo, String(r.wo).toLowerCase()), day: named('days', r.dw, String(r.dw)) }));
  parts.push(t('engine.rule.from', { date: String(r.s) }));
  if (r.c) parts.push(t('engine.rule.times', { count: Number(r.c) }));
  if (r.u) parts.push(t('engine.rule.until', { date: String(r.u) }));
  return parts.join(' ');
}

/**
 * What differs between the fields meant and the fields stored, as phrases ("the series' subject: it holds "A", not
 * "B""); empty when the server stored what was meant. Compared as the sync compares both sides (contentProjection):
 * formatting a server introduces never counts.
 */
export function differences(meant: EventFields, stored: EventFields, server: string): string[] {
  const m = contentProjection(meant) as Record<string, unknown>;
  const s = contentProjection(stored) as Record<string, unknown>;
  const series = meant.recurrence !== null;
  const out: string[] = [];
  for (const key of ['s', 'a', 'b', 'e', 'l', 't', 'p', 'r']) {
    if (JSON.stringify(m[key]) === JSON.stringify(s[key])) continue;
    out.push(t(series ? 'engine.verify.seriesField' : 'engine.verify.field', { field: fieldName(key), have: show(key, s[key]), want: show(key, m[key]) }));
  }
  type X = { o: string; f: Record<string, unknown> | null };
  const mx = new Map((m.x as X[]).map((x) => [x.o, x.f]));
  const sx = new Map((s.x as X[]).map((x) => [x.o, x.f]));
  for (const [at, want] of mx) {
    const have = sx.get(at);
    if (have === undefined) {
      out.push(want === null ? t('engine.verify.deletionStillShown', { at, server }) : want.b ? t('engine.verify.moveLost', { at, to: String(want.b) }) : t('engine.verify.changeLost', { at }));
    } else if (JSON.stringify(have) !== JSON.stringify(want)) {
      if (have === null) out.push(t('engine.verify.occurrenceDeleted', { at }));
      else if (want === null) out.push(t('engine.verify.deletionKept', { at, server }));
      else {
        const fields = FIELD_KEYS.filter((k) => JSON.stringify(have[k]) !== JSON.stringify(want[k]));
        const differences = fields.map((k) => t('engine.verify.occurrenceField', { field: fieldName(k), have: show(k, have[k]), want: show(k, want[k]) })).join('; ');
        out.push(t('engine.verify.occurrence', { at, differences }));
      }
    }
  }
  for (const [at, have] of sx) {
    if (mx.has(at)) continue;
    out.push(have === null ? t('engine.verify.deletedUnmeant', { at }) : have.b ? t('engine.verify.movedUnmeant', { at, to: String(have.b) }) : t('engine.verify.changedUnmeant', { at }));
  }
  return out;
}

// ---- reporting ----

function sentence(side: SideName, subject: string, mailbox: string, diffs: string[]): { message: string; fix: string } {
  const differences = diffs.join('; ');
  return side === 'exchange'
    ? { message: t('engine.verify.exchangeNotStored', { subject, mailbox, differences }), fix: t('engine.verify.exchangeFix') }
    : { message: t('engine.verify.severaNotStored', { subject, differences }), fix: t('engine.verify.severaFix') };
}

/**
 * Compares a write's result with what was meant. Returns true when they agree. A difference is reported at once and
 * kept, so later cycles say it again until the entry is written again.
 */
export function verifyWrite(u: UserState, w: { side: SideName; exchangeId: string; severaGuid: string; meant: EventFields; stored: EventFields }): boolean {
  const s = stateOf(u);
  s.touched.add(w.exchangeId);
  s.touched.add(w.severaGuid);
  const diffs = differences(w.meant, w.stored, w.side === 'exchange' ? 'Exchange' : 'Severa');
  if (diffs.length === 0) return true;
  const subject = w.meant.subject.trim() || t('engine.verify.noSubject');
  const said = sentence(w.side, subject, u.mailbox, diffs);
  problem(u, { code: 'write-differs', ...said });
  s.added.push({ exchangeId: w.exchangeId, severaGuid: w.severaGuid, side: w.side, subject, message: said.message, since: u.ctx.now().toISOString() });
  return false;
}

/** An entry whose pair this cycle wrote again or let go: what stood against it is settled. */
export function settleDifference(u: UserState, ...ids: string[]): void {
  const s = stateOf(u);
  for (const id of ids) s.touched.add(id);
}

/**
 * Before the commit: differences that still stand (not written again this cycle) are said again, and the list as it now
 * is goes into the user's work (same transaction as the pairs).
 */
export function finishVerification(u: UserState, storedPairs: readonly PairRecord[]): void {
  if (u.ctx.dryRun) return;
  const s = stateOf(u);
  const before = standing(u);
  // Pairs let go this cycle settle theirs; so does every pair that no longer exists at all.
  const deleted = new Set(u.work.deletePairIds);
  const alive = new Set<string>();
  for (const p of storedPairs) if (p.id === undefined || !deleted.has(p.id)) alive.add(p.exchangeId);
  for (const p of u.work.upsertPairs) alive.add(p.exchangeId);
  const kept = before.filter((d) => alive.has(d.exchangeId) && !s.touched.has(d.exchangeId) && !s.touched.has(d.severaGuid));
  for (const d of kept) {
    problem(u, {
      code: 'write-differs',
      message: t('engine.verify.stillDifferent', { since: d.since.slice(0, 10), message: d.message }),
      fix: t(d.side === 'exchange' ? 'engine.verify.stillExchangeFix' : 'engine.verify.stillSeveraFix', { subject: d.subject }),
    });
  }
  const next = [...kept, ...s.added];
  if (next.length === 0 && before.length === 0) return;
  u.work.orgValues = [...(u.work.orgValues ?? []), { key: keyOf(u), value: next.length ? next : null }];
}
