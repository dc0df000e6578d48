import type { PairRecord } from '../../store/sync-store.ts';
import type { SideEvent } from '../calendar-event.ts';
import { occurrenceItemId, parseOccurrenceItemId } from '../series-flattening.ts';
import { identityKey } from './item-helpers.ts';
import { indexPairs, type ExchangeView, type StoredPairs } from './read-sides.ts';
import { stagePair, type UserState } from './user-sync-state.ts';

/**
 * Phase 1b, after a mailbox moved (to another server, or between on-premises Exchange and Exchange Online): every item
 * got a new id, so each stored pair is found again in the full read of the new place before anything is decided:
 * by the meeting's UID (kept by a move, shared by every copy), else by the sync's tag (the Severa guid on items the sync
 * created), else by what the item held when last synced (subject and times), each only when exactly one item answers.
 * A pair found keeps everything else it knew, so an item unchanged by the move is unchanged for the sync too; one not
 * found is left as it was (looked up by its old id like any paired item the read did not list: see verifyMissing).
 */
export function relocatePairs(u: UserState, pairs: StoredPairs, view: ExchangeView): { pairs: StoredPairs; found: number; notFound: number; ids: Map<string, string> } {
  const byUid = new Map<string, SideEvent[]>();
  const byTag = new Map<string, SideEvent[]>();
  const byIdentity = new Map<string, SideEvent[]>();
  const add = (index: Map<string, SideEvent[]>, key: string | undefined, e: SideEvent) => {
    if (key) index.set(key, [...(index.get(key) ?? []), e]);
  };
  for (const e of view.changed.values()) {
    add(byUid, e.uid, e);
    add(byTag, e.syncTag, e);
    add(byIdentity, identityKey(e.fields), e);
  }
  const one = (list: SideEvent[] | undefined) => (list?.length === 1 ? list[0] : undefined);
  const taken = new Set<string>();
  // Old id -> new id of the pairs found again (a killed run's intents name the old ones).
  const ids = new Map<string, string>();
  let found = 0;
  let notFound = 0;
  const list = pairs.list.map((p) => {
    const ref = parseOccurrenceItemId(p.exchangeId);
    if (view.changed.has(ref?.seriesId ?? p.exchangeId) || p.exchangeGone) return p;
    const event =
      (p.uid ? one(byUid.get(p.uid)) : undefined) ??
      one(byTag.get(p.severaGuid)) ??
      (ref ? undefined : one(byIdentity.get(identityKey({ subject: p.subject, start: p.start, end: p.end, isAllDay: /^\d{4}-\d{2}-\d{2}$/.test(p.start) }))));
    const newId = event ? (ref ? occurrenceItemId(event.id, ref.key) : event.id) : null;
    if (!event || !newId || taken.has(newId)) {
      notFound++;
      return p;
    }
    taken.add(newId);
    ids.set(p.exchangeId, newId);
    found++;
    const moved: PairRecord = { ...p, exchangeId: newId, uid: p.uid ?? event.uid ?? null };
    stagePair(u, moved);
    return moved;
  });
  return { pairs: indexPairs(list), found, notFound, ids };
}
