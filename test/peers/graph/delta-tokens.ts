/**
 * calendarView/delta: rounds of pages over a window fixed by the first request. Sync states live on the server, as
 * Outlook's do (a cache of limited size per mailbox: the oldest expire, and a client holding one gets 410 Gone,
 * syncStateNotFound); tokens name a state and are signed, so a forged or foreign token is refused (410, resyncRequired).
 * A state remembers which instances (occurrences, exceptions, single events) the client has seen at which version;
 * the next round reports what differs: new and changed instances, `@removed` for those gone from the window, and (as
 * Graph does) `@removed` for events changed or deleted outside the window. Seeded replays and in-page duplicates can be
 * switched on to prove a client copes with both (delta-query-overview: "Replays", and "a single entity ... multiple
 * times in the response").
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Instance, MailboxCalendar, SyncStateData } from './calendar-store.ts';
import { GraphError } from './graph-errors.ts';
import type { GraphResult } from './graph-errors.ts';
import type { EventRequest } from './graph-events.ts';
import { renderInstance, windowOf } from './graph-events.ts';

export interface DeltaSettings {
  key: Buffer;
  cacheSize: number;
  /** Chance (0..1) per round that an unchanged, already seen instance is sent again. */
  replayRate: number;
  /** Chance (0..1) per entry that it appears twice in its page. */
  duplicateRate: number;
  rng: () => number;
}

type Entry = { kind: 'instance'; id: string } | { kind: 'removed'; id: string };

interface TokenPayload {
  m: string;
  s: string;
  w: [number, number];
}

function sign(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest().subarray(0, 16).toString('base64url');
}

export function makeToken(key: Buffer, p: TokenPayload): string {
  const body = Buffer.from(JSON.stringify(p)).toString('base64url');
  return `${body}.${sign(key, body)}`;
}

export function readToken(key: Buffer, token: string): TokenPayload | null {
  const [body, mac] = token.split('.');
  if (!body || !mac) return null;
  const want = Buffer.from(sign(key, body));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
  } catch {
    return null;
  }
}

function store(cal: MailboxCalendar, s: SyncStateData, cacheSize: number): void {
  cal.syncStates.set(s.id, s);
  while (cal.syncStates.size > cacheSize) cal.syncStates.delete(cal.syncStates.keys().next().value!);
}

/** Drops every sync state of a mailbox (a back door: "the token cache was flushed"). */
export function expireSyncStates(cal: MailboxCalendar): void {
  cal.syncStates.clear();
}

function instanceById(cal: MailboxCalendar, id: string): Instance | null {
  const hit = cal.resolve(id);
  if (typeof hit === 'string') return null;
  return hit.originalStartMs === null ? cal.itemInstance(hit.event) : cal.occurrence(hit.event, hit.originalStartMs);
}

/** What changed in the window since `seen`: the entries of a new round. */
function changesSince(cal: MailboxCalendar, window: [number, number], seen: Record<string, string>, seq: number, d: DeltaSettings): Entry[] {
  const current = cal.view(window[0], window[1]);
  const entries: Entry[] = [];
  const inWindow = new Set<string>();
  for (const inst of current) {
    inWindow.add(inst.id);
    if (seen[inst.id] !== inst.stamp) entries.push({ kind: 'instance', id: inst.id });
  }
  for (const id of Object.keys(seen)) if (!inWindow.has(id)) entries.push({ kind: 'removed', id });
  // Graph also reports, as removed, events added, changed or deleted outside the window since the last round.
  const reported = new Set(entries.map((e) => e.id));
  for (const e of cal.events.values()) {
    if (e.lastSeq > seq && !reported.has(e.id) && !current.some((i) => i.master === e)) entries.push({ kind: 'removed', id: e.id });
  }
  for (const t of cal.tombstones) if (t.seq > seq && !reported.has(t.id) && !entries.some((x) => x.id === t.id)) entries.push({ kind: 'removed', id: t.id });
  if (d.replayRate > 0 && d.rng() < d.replayRate) {
    const unchanged = current.filter((i) => seen[i.id] === i.stamp);
    if (unchanged.length) entries.push({ kind: 'instance', id: unchanged[Math.floor(d.rng() * unchanged.length)].id });
  }
  return entries;
}

function linkFor(r: EventRequest, param: '$skiptoken' | '$deltatoken', token: string): string {
  return `${r.url.origin}${r.url.pathname}?${param}=${token}`;
}

/** GET /users/{id}/calendarView/delta (and its microsoft.graph.delta() spelling). */
export function calendarViewDelta(r: EventRequest, d: DeltaSettings): GraphResult {
  for (const unsupported of ['$filter', '$orderby', '$expand', '$search']) {
    if (r.query.has(unsupported)) throw new GraphError(400, 'ErrorInvalidUrlQuery', `The query parameter '${unsupported}' is not supported with change tracking over calendarView.`);
  }
  const skip = r.query.get('$skiptoken');
  const delta = r.query.get('$deltatoken');
  let state: SyncStateData;
  if (skip === undefined && (delta === undefined || delta === '')) {
    const window = windowOf(r);
    state = { id: '', window, seq: r.cal.seq, seen: {}, pending: null, createdMs: r.nowMs };
    state = { ...state, pending: changesSince(r.cal, window, {}, Number.MAX_SAFE_INTEGER, { ...d, replayRate: 0 }) };
  } else {
    const token = (skip ?? delta)!;
    const p = readToken(d.key, token);
    if (!p || p.m !== r.cal.guid) {
      throw new GraphError(410, 'resyncRequired', 'The delta token is no longer valid, and the app must reset the sync state.');
    }
    const found = r.cal.syncStates.get(p.s);
    if (!found || (skip !== undefined) !== (found.pending !== null)) {
      const again = new URL(r.url.pathname, r.url.origin);
      again.searchParams.set('startDateTime', new Date(p.w[0]).toISOString());
      again.searchParams.set('endDateTime', new Date(p.w[1]).toISOString());
      throw new GraphError(410, 'syncStateNotFound', 'The sync state generation is not found.', { Location: `${again.toString().replace(/%24/g, '$')}&$deltatoken=` });
    }
    // A new round starts at the mailbox's current change counter; its changes are those since the last round's.
    state = found.pending !== null ? found : { ...found, seq: r.cal.seq, pending: changesSince(r.cal, found.window, found.seen, found.seq, d) };
  }
  const size = r.maxPageSize ?? r.defaultPageSize;
  const pending = state.pending as Entry[];
  const pageEntries = pending.slice(0, size);
  const rest = pending.slice(size);
  const seen = { ...state.seen };
  const value: Record<string, unknown>[] = [];
  const opt = { timeZone: r.timeZone, bodyType: r.bodyType, select: null, newerProperties: r.newerProperties, annotate: { '@odata.type': '#microsoft.graph.event' } };
  for (const e of pageEntries) {
    const inst = e.kind === 'instance' ? instanceById(r.cal, e.id) : null;
    let item: Record<string, unknown>;
    if (inst && inst.content && e.kind === 'instance') {
      item = renderInstance(inst, opt);
      seen[inst.id] = inst.stamp;
    } else {
      item = { '@odata.type': '#microsoft.graph.event', id: e.id, '@removed': { reason: 'deleted' } };
      delete seen[e.id];
    }
    value.push(item);
    if (d.duplicateRate > 0 && d.rng() < d.duplicateRate) value.push(structuredClone(item));
  }
  const next: SyncStateData = {
    id: randomBytes(9).toString('base64url'),
    window: state.window,
    seq: state.seq,
    seen,
    pending: rest.length ? rest : null,
    createdMs: r.nowMs,
  };
  store(r.cal, next, d.cacheSize);
  const token = makeToken(d.key, { m: r.cal.guid, s: next.id, w: next.window });
  const body: Record<string, unknown> = { '@odata.context': `${r.url.origin}/v1.0/$metadata#Collection(event)`, value };
  if (rest.length) body['@odata.nextLink'] = linkFor(r, '$skiptoken', token);
  else body['@odata.deltaLink'] = linkFor(r, '$deltatoken', token);
  const headers: Record<string, string> = r.maxPageSize !== null ? { 'Preference-Applied': `odata.maxpagesize=${r.maxPageSize}` } : {};
  return { status: 200, body, headers };
}
