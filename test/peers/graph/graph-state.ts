/**
 * Building the simulator's data from a seed, and state snapshots: exportGraphState() writes everything the simulator
 * holds (directory and settings, the token-signing key so issued tokens stay valid, the delta key so delta tokens stay
 * valid, every calendar with its change counters, sync states and tombstones, the mail log) as JSON data;
 * buildRuntime({ state }) carries on from it. A snapshot is checked when loaded and the first problem is named.
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseSeedDate, parseSeedDateTime } from '../common/zoned-time.ts';
import type { MailRecord, SyncStateData } from './calendar-store.ts';
import { CalendarStore, timingOf } from './calendar-store.ts';
import { Directory } from './graph-directory.ts';
import type { EventContent, SimEvent } from './graph-model.ts';
import { changeKeyFor, eventId, normalizePropertyId } from './graph-model.ts';
import { expandOccurrences, normalizeRecurrence } from './graph-recurrence.ts';
import type { GraphSeed, GraphSeedEvent } from './graph-seed.ts';
import { GraphSeedError, validateGraphSeed } from './graph-seed.ts';
import { resolveZone, windowsNameOf } from './graph-time.ts';
import { OUTLOOK_LIMITS } from './graph-throttle.ts';
import type { ThrottleLimits } from './graph-throttle.ts';
import { DEFAULT_IDENTITY_SETTINGS, kidOf } from './identity-platform.ts';
import type { IdentitySettings } from './identity-platform.ts';

export interface Runtime {
  config: GraphSeed;
  directory: Directory;
  store: CalendarStore;
  identity: IdentitySettings;
  limits: ThrottleLimits;
  signingKey: KeyObject;
  kid: string;
  deltaKey: Buffer;
  syncStateCacheSize: number;
  defaultPageSize: number;
  latencyMs: number;
}

export interface GraphState {
  format: 'graph-simulator-state';
  version: 1;
  savedAt: string;
  /** The seed without events; relative secret expiry dates made absolute. */
  config: GraphSeed;
  signingKeyPem: string;
  deltaKey: string;
  calendars: Array<{
    user: string;
    nextNumber: number;
    seq: number;
    events: SimEvent[];
    syncStates: SyncStateData[];
    tombstones: Array<{ id: string; seq: number }>;
  }>;
  mail: MailRecord[];
}

export class GraphStateError extends Error {}

function settingsOf(config: GraphSeed): Pick<Runtime, 'identity' | 'limits' | 'syncStateCacheSize' | 'defaultPageSize' | 'latencyMs'> {
  const g = config.graph ?? {};
  return {
    identity: { ...DEFAULT_IDENTITY_SETTINGS, ...(config.identity ?? {}) },
    limits: {
      maxConcurrentPerMailbox: g.maxConcurrentPerMailbox ?? OUTLOOK_LIMITS.maxConcurrentPerMailbox,
      requestsPerWindow: g.requestsPerWindow ?? OUTLOOK_LIMITS.requestsPerWindow,
      windowMs: (g.windowSeconds ?? OUTLOOK_LIMITS.windowMs / 1000) * 1000,
      retryAfterSeconds: g.retryAfterSeconds ?? OUTLOOK_LIMITS.retryAfterSeconds,
    },
    syncStateCacheSize: g.syncStateCacheSize ?? 100,
    defaultPageSize: g.defaultPageSize ?? 10,
    latencyMs: g.latencyMs ?? 0,
  };
}

export function buildRuntime(from: { seed: GraphSeed } | { state: GraphState }): Runtime {
  if ('state' in from) return restore(from.state);
  const seed = from.seed;
  const nowMs = Date.now();
  const config: GraphSeed = { ...structuredClone(seed), events: undefined };
  for (const app of config.apps) for (const s of app.secrets ?? []) if (s.expires) s.expires = new Date(parseSeedDateTime(s.expires, seed.timeZone, nowMs)).toISOString();
  const directory = new Directory(config, nowMs);
  const store = new CalendarStore(directory);
  (seed.events ?? []).forEach((e, i) => seedEvent(store, directory, seed, e, i, nowMs));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { config, directory, store, ...settingsOf(config), signingKey: privateKey, kid: kidOf(createPublicKey(privateKey)), deltaKey: randomBytes(32) };
}

function seedEvent(store: CalendarStore, directory: Directory, seed: GraphSeed, e: GraphSeedEvent, index: number, nowMs: number): void {
  const where = `events.${index} ('${e.subject}')`;
  const fail = (m: string): never => {
    throw new GraphSeedError(`Invalid Graph simulator seed: ${where}: ${m}`);
  };
  const user = directory.userByAnyAddress(e.mailbox) ?? fail(`${e.mailbox} is not a user`);
  const cal = store.calendarOf(user) ?? fail(`${e.mailbox} has no mailbox ("mailbox": false)`);
  const zoneName = e.timeZone ?? seed.timeZone;
  const zone = resolveZone(zoneName) ?? fail(`time zone '${zoneName}' is not known`);
  const at = (v: string, what: string): number => {
    try {
      return parseSeedDateTime(v, zone, nowMs);
    } catch (x) {
      return fail(`${what}: ${(x as Error).message}`);
    }
  };
  const content: EventContent = {
    subject: e.subject,
    bodyType: e.bodyType ?? (e.body && /^\s*</.test(e.body) ? 'html' : 'text'),
    body: e.body ?? '',
    startMs: at(e.start, 'start'),
    endMs: at(e.end, 'end'),
    startZone: windowsNameOf(zoneName),
    endZone: windowsNameOf(zoneName),
    isAllDay: e.isAllDay ?? false,
    location: e.location ?? '',
    sensitivity: (e.sensitivity ?? 'normal') as EventContent['sensitivity'],
    showAs: (e.showAs ?? 'busy') as EventContent['showAs'],
    importance: (e.importance ?? 'normal') as EventContent['importance'],
    categories: e.categories ?? [],
    isReminderOn: e.isReminderOn ?? true,
    reminderMinutesBeforeStart: e.reminderMinutesBeforeStart ?? 15,
    attendees: (e.attendees ?? []).map((a) => (typeof a === 'string' ? { type: 'required' as const, address: a.toLowerCase(), name: directory.userByAnyAddress(a)?.displayName ?? '', response: 'accepted' as const } : { type: a.type ?? 'required', address: a.address.toLowerCase(), name: a.name ?? directory.userByAnyAddress(a.address)?.displayName ?? '', response: 'accepted' as const })),
    extendedProperties: (e.extendedProperties ?? []).map((p) => {
      try {
        return { id: normalizePropertyId(p.id), value: p.value };
      } catch (x) {
        return fail((x as Error).message);
      }
    }),
  };
  if (content.endMs < content.startMs) fail('end is before start');
  let recurrence = null;
  if (e.recurrence) {
    const r = structuredClone(e.recurrence) as { pattern: Record<string, unknown>; range: Record<string, unknown> };
    r.range.startDate = parseSeedDate(String(r.range.startDate), zone, nowMs);
    if (typeof r.range.endDate === 'string') r.range.endDate = parseSeedDate(r.range.endDate, zone, nowMs);
    try {
      recurrence = normalizeRecurrence(r, content.startZone);
    } catch (x) {
      fail((x as Error).message);
    }
  }
  const ev = store.create(cal, content, { uid: e.uid, recurrence, nowMs, via: 'outlook', attendeeResponse: 'accepted' });
  if (!recurrence) {
    if (e.exceptions?.length || e.cancelledOccurrences?.length) fail('exceptions and cancelledOccurrences need a recurrence');
    return;
  }
  const occurrences = expandOccurrences(recurrence, { ...timingOf(ev), durationMs: 0 }, ev.startMs, 8.64e15, 1000);
  const occ = (ref: string | number): number => {
    if (typeof ref === 'number') return occurrences[ref - 1] ?? fail(`occurrence ${ref} is past the end of the series`);
    const t = at(ref, 'originalStart');
    if (!occurrences.includes(t)) fail(`${ref} is not an occurrence of the series`);
    return t;
  };
  const duration = ev.endMs - ev.startMs;
  for (const x of e.exceptions ?? []) {
    const os = occ(x.originalStart);
    const o: Partial<EventContent> = {};
    if (x.subject !== undefined) o.subject = x.subject;
    if (x.location !== undefined) o.location = x.location;
    if (x.body !== undefined) o.body = x.body;
    if (x.sensitivity !== undefined) o.sensitivity = x.sensitivity as EventContent['sensitivity'];
    if (x.showAs !== undefined) o.showAs = x.showAs as EventContent['showAs'];
    if (x.shiftMinutes !== undefined) {
      o.startMs = os + x.shiftMinutes * 60_000;
      o.endMs = o.startMs + duration;
    }
    if (x.start !== undefined) o.startMs = at(x.start, 'exceptions.start');
    if (x.end !== undefined) o.endMs = at(x.end, 'exceptions.end');
    ev.exceptions.push({ originalStartMs: os, overrides: o, version: 1, createdMs: nowMs, modifiedMs: nowMs });
  }
  for (const c of e.cancelledOccurrences ?? []) ev.cancelledOccurrences.push(occ(c));
  ev.cancelledOccurrences.sort((a, b) => a - b);
  const live = [...cal.events.values()].find((x) => x.number === ev.number)!;
  live.exceptions = ev.exceptions;
  live.cancelledOccurrences = ev.cancelledOccurrences;
  cal.touch(live, nowMs);
  store.propagate(live, live.attendees.map((a) => a.address), 'outlook', nowMs, false);
}

export function exportGraphState(rt: Runtime): GraphState {
  return {
    format: 'graph-simulator-state',
    version: 1,
    savedAt: new Date().toISOString(),
    config: structuredClone(rt.config),
    signingKeyPem: rt.signingKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    deltaKey: rt.deltaKey.toString('base64'),
    calendars: [...rt.store.calendars.values()].map((c) => ({
      user: c.user.id,
      nextNumber: c.nextNumber,
      seq: c.seq,
      events: [...c.events.values()].map((e) => structuredClone(e)),
      syncStates: [...c.syncStates.values()].map((s) => structuredClone(s)),
      tombstones: c.tombstones.map((t) => ({ ...t })),
    })),
    mail: rt.store.mail.map((m) => ({ ...m })),
  };
}

function restore(state: GraphState): Runtime {
  if (state?.format !== 'graph-simulator-state' || state.version !== 1) {
    throw new GraphStateError(`Not a Graph simulator state (version 1): found format ${JSON.stringify(state?.format)}, version ${JSON.stringify(state?.version)}.`);
  }
  let config: GraphSeed;
  try {
    config = validateGraphSeed(state.config);
  } catch (e) {
    throw new GraphStateError(`config: ${(e as Error).message}`);
  }
  const directory = new Directory(config);
  const store = new CalendarStore(directory);
  let signingKey: KeyObject;
  try {
    signingKey = createPrivateKey(state.signingKeyPem);
  } catch {
    throw new GraphStateError('signingKeyPem is not a PEM private key.');
  }
  if (!Array.isArray(state.calendars)) throw new GraphStateError('calendars is missing.');
  for (const [i, c] of state.calendars.entries()) {
    const user = directory.userById(String(c.user));
    const cal = user ? store.calendarOf(user) : null;
    if (!cal) throw new GraphStateError(`calendars[${i}]: user ${String(c.user)} has no mailbox in config.`);
    if (!Number.isInteger(c.nextNumber) || !Number.isInteger(c.seq)) throw new GraphStateError(`calendars[${i}]: nextNumber and seq must be integers.`);
    cal.nextNumber = c.nextNumber;
    cal.seq = c.seq;
    for (const [j, e] of (c.events ?? []).entries()) {
      const where = `calendars[${i}] (${user!.mail}): events[${j}] ('${e?.subject}')`;
      if (!e || typeof e.number !== 'number' || e.number >= c.nextNumber) throw new GraphStateError(`${where}: number is missing or not below nextNumber.`);
      if (e.id !== eventId(cal.guid, e.number)) throw new GraphStateError(`${where}: its id does not belong to this mailbox and number.`);
      if (e.changeKey !== changeKeyFor(cal.guid, e.number, e.version)) throw new GraphStateError(`${where}: its changeKey does not match version ${e.version}.`);
      if (e.lastSeq > c.seq) throw new GraphStateError(`${where}: lastSeq ${e.lastSeq} is past the mailbox's seq ${c.seq}.`);
      cal.events.set(e.number, structuredClone(e));
      if (e.transactionId) cal.transactionIds.set(e.transactionId, e.number);
    }
    for (const s of c.syncStates ?? []) cal.syncStates.set(s.id, structuredClone(s));
    cal.tombstones.push(...(c.tombstones ?? []));
  }
  store.mail.push(...(state.mail ?? []));
  return { config, directory, store, ...settingsOf(config), signingKey, kid: kidOf(createPublicKey(signingKey)), deltaKey: Buffer.from(state.deltaKey, 'base64') };
}

export function loadGraphState(path: string): GraphState {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as GraphState;
  } catch (e) {
    throw new GraphStateError(`Cannot read the Graph simulator state ${path}: ${(e as Error).message}`);
  }
}
