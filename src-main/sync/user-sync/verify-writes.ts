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

const NAMES: Record<string, string> = { s: 'subject', a: 'all-day flag', b: 'start', e: 'end', l: 'location', t: 'text', p: 'privacy', r: 'pattern' };

const show = (key: string, v: unknown): string => {
  if (key === 'a') return v ? 'all-day' : 'not all-day';
  if (key === 'p') return v ? 'private' : 'not private';
  if (key === 't') {
    const text = String(v ?? '');
    return text === '' ? 'no text' : `"${text.length > 60 ? `${text.slice(0, 57)}...` : text}"`;
  }
  if (key === 'r') return v ? describeRule(v as Record<string, unknown>) : 'no pattern (a single entry)';
  if (key === 'l' && v === '') return 'no location';
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
};

function describeRule(r: Record<string, unknown>): string {
  const parts = [`${String(r.f).toLowerCase()}${Number(r.i) > 1 ? ` every ${String(r.i)}` : ''}`];
  if (Array.isArray(r.d) && r.d.length) parts.push(`on ${r.d.join(', ')}`);
  if (r.dm) parts.push(`on day ${String(r.dm)}`);
  if (r.wo) parts.push(`on the ${String(r.wo).toLowerCase()} ${String(r.dw)}`);
  parts.push(`from ${String(r.s)}`);
  if (r.c) parts.push(`${String(r.c)} times`);
  if (r.u) parts.push(`until ${String(r.u)}`);
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
    out.push(`${series ? "the series' " : 'the '}${NAMES[key]}: it holds ${show(key, s[key])}, not ${show(key, m[key])}`);
  }
  type X = { o: string; f: Record<string, unknown> | null };
  const mx = new Map((m.x as X[]).map((x) => [x.o, x.f]));
  const sx = new Map((s.x as X[]).map((x) => [x.o, x.f]));
  for (const [at, want] of mx) {
    const have = sx.get(at);
    if (have === undefined) {
      out.push(want === null ? `the deletion of the occurrence of ${at}: ${server} still shows it` : `the change of the occurrence of ${at}: it holds the series' own times and fields${want.b ? ` (it was moved to ${String(want.b)})` : ''}`);
    } else if (JSON.stringify(have) !== JSON.stringify(want)) {
      if (have === null) out.push(`the occurrence of ${at}: it is deleted there`);
      else if (want === null) out.push(`the deletion of the occurrence of ${at}: ${server} keeps it`);
      else {
        const fields = Object.keys(NAMES).filter((k) => JSON.stringify(have[k]) !== JSON.stringify(want[k]));
        out.push(`the occurrence of ${at}: ${fields.map((k) => `its ${NAMES[k]} is ${show(k, have[k])}, not ${show(k, want[k])}`).join('; ')}`);
      }
    }
  }
  for (const [at, have] of sx) {
    if (mx.has(at)) continue;
    out.push(have === null ? `the occurrence of ${at}: it is deleted there, though it was not meant to be` : `the occurrence of ${at}: it was changed there (to ${have.b ? String(have.b) : 'other fields'}), though it was not meant to be`);
  }
  return out;
}

// ---- reporting ----

function sentence(side: SideName, subject: string, where: string, diffs: string[]): { message: string; fix: string } {
  const server = side === 'exchange' ? 'Exchange' : 'Severa';
  return {
    message: `${server} did not store what the sync wrote to "${subject}"${where}: ${diffs.join('; ')}.`,
    fix:
      `The sync recorded what ${server} holds and will not write it again by itself. Change the entry in ${side === 'exchange' ? 'Severa' : 'Outlook'} (or set it right in ${side === 'exchange' ? 'Outlook' : 'Severa'}) to sync it again; ` +
      `if ${server} keeps doing this, ask its administrator to look at the server (series and their changed occurrences are what servers most often store differently).`,
  };
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
  const subject = w.meant.subject.trim() || '(no subject)';
  const where = w.side === 'exchange' ? ` in the calendar of ${u.mailbox}` : '';
  const said = sentence(w.side, subject, where, diffs);
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
    const server = d.side === 'exchange' ? 'Exchange' : 'Severa';
    problem(u, {
      code: 'write-differs',
      message: `Still different since ${d.since.slice(0, 10)}: ${d.message}`,
      fix: `Change "${d.subject}" in ${d.side === 'exchange' ? 'Severa' : 'Outlook'} (or set it right in ${d.side === 'exchange' ? 'Outlook' : 'Severa'}) to sync it again; ${server} kept something other than what the sync wrote.`,
    });
  }
  const next = [...kept, ...s.added];
  if (next.length === 0 && before.length === 0) return;
  u.work.orgValues = [...(u.work.orgValues ?? []), { key: keyOf(u), value: next.length ? next : null }];
}
