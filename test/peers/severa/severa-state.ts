/**
 * The Severa simulator's whole state as one JSON document, so a simulator can stop and a later one carry on as if it had
 * never stopped: the same activities with their guids, timestamps, participants (and participant guids), series
 * exceptions and occurrence guids already handed out, the same `changedSince` answers, and the server clock's offset.
 * Not kept: access and refresh tokens (clients log in again), request counters, rate-limit buckets and fault injection
 * (run settings, given to startSeveraSimulator again). Format: README.md, "State snapshots".
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { SeveraStore } from './activity-store.ts';
import { StoreStateError, type StoreState } from './activity-store-state.ts';
import { recurrenceProblems } from './recurrence-expansion.ts';
import type { RecurrenceSpec } from './recurrence-expansion.ts';
import { seedApiClient } from './severa-seed.ts';
import { assertTimeZone } from '../common/zoned-time.ts';

export const SEVERA_STATE_FORMAT = 'severa-simulator-state';
export const SEVERA_STATE_VERSION = 1;

export class SeveraStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeveraStateError';
  }
}

const guid = z.string().min(1);
const ms = z.number().int();
const category = z.enum(['Personal', 'Absences', 'CalendarEntry', 'SalesEvent', 'Task']);

const userSchema = z
  .object({
    guid,
    firstName: z.string().min(1),
    lastName: z.string().min(1),
    email: z.string().nullable(),
    code: z.string().nullable(),
    title: z.string().nullable(),
    isActive: z.boolean(),
    defaultTypeGuid: guid.nullable(),
    timeZone: z.string(),
    createdMs: ms,
    updatedMs: ms,
  })
  .strict();

const typeSchema = z
  .object({ guid, name: z.string().min(1), category, code: z.string().nullable(), isActive: z.boolean(), isDefault: z.boolean(), createdMs: ms, updatedMs: ms })
  .strict();

/** Kept as the API client sent it (the model's pattern and range); checked by the same rules as a POST. */
const recurrenceSchema = z
  .object({
    frequency: z.enum(['Daily', 'Weekly', 'Monthly', 'Yearly']),
    pattern: z.record(z.string(), z.unknown()).nullable(),
    range: z.record(z.string(), z.unknown()).nullable(),
    lastOccurrenceMs: ms.nullable().optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    for (const message of recurrenceProblems(spec as RecurrenceSpec)) ctx.addIssue({ code: 'custom', message });
  });

const activitySchema = z
  .object({
    seq: z.number().int().min(1),
    gen: z.number().int().min(1),
    guid,
    name: z.string().min(1),
    startMs: ms,
    endMs: ms.nullable(),
    isAllDay: z.boolean(),
    notes: z.string().nullable(),
    location: z.string().nullable(),
    isClosed: z.boolean(),
    typeGuid: guid,
    ownerGuid: guid,
    createdMs: ms,
    updatedMs: ms,
    createdBy: guid.nullable(),
    updatedBy: guid.nullable(),
    kind: z.enum(['None', 'Series', 'Exception']),
    recurrence: recurrenceSchema.nullable(),
    seriesGuid: guid.nullable(),
    originalStartMs: ms.nullable(),
    removedStarts: z.array(ms).nullable(),
    exceptionGuids: z.array(z.tuple([ms, guid])).nullable(),
    participants: z.array(z.object({ guid, userGuid: guid, status: z.enum(['Unknown', 'Invited', 'Accepted', 'Tentative', 'Declined']) }).strict()).nullable(),
    logId: z.number().int().min(1),
  })
  .strict();

export const severaStateSchema = z
  .object({
    format: z.literal(SEVERA_STATE_FORMAT),
    version: z.literal(SEVERA_STATE_VERSION),
    /** When the snapshot was taken (informative). */
    savedAt: z.string(),
    timeZone: z.string(),
    /** Server clock minus real clock when the snapshot was taken (clock skew plus advanceClock). */
    clockOffsetMs: ms,
    apiClients: z.array(seedApiClient.strict()).min(1, 'Give at least one API client.'),
    nextSeq: z.number().int().min(1),
    nextLogId: z.number().int().min(1),
    users: z.array(userSchema),
    activityTypes: z.array(typeSchema),
    activities: z.array(activitySchema),
    occurrences: z.array(z.object({ guid, seriesGuid: guid, startMs: ms }).strict()),
  })
  .strict();

export type SeveraState = z.input<typeof severaStateSchema>;
export type ParsedSeveraState = z.output<typeof severaStateSchema>;
export type ApiClientState = ParsedSeveraState['apiClients'][number];

export function exportSeveraState(store: SeveraStore, apiClients: ApiClientState[], clockOffsetMs: number, nowMs = Date.now()): SeveraState {
  return {
    format: SEVERA_STATE_FORMAT,
    version: SEVERA_STATE_VERSION,
    savedAt: new Date(nowMs).toISOString(),
    timeZone: store.zone,
    clockOffsetMs,
    apiClients: structuredClone(apiClients),
    ...store.exportState(),
  };
}

/** Checks a snapshot's shape (not yet its cross-references, which restoreSeveraStore checks) and returns it typed. */
export function validateSeveraState(raw: unknown, source = 'state'): ParsedSeveraState {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const r = raw as Record<string, unknown>;
    if (r.format !== SEVERA_STATE_FORMAT) {
      throw new SeveraStateError(`The Severa simulator ${source} is not a Severa simulator state snapshot (its "format" is ${JSON.stringify(r.format)}, expected "${SEVERA_STATE_FORMAT}").`);
    }
    if (r.version !== SEVERA_STATE_VERSION) {
      throw new SeveraStateError(`The Severa simulator ${source} has format version ${JSON.stringify(r.version)}; this simulator reads version ${SEVERA_STATE_VERSION} only.`);
    }
  }
  const parsed = severaStateSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new SeveraStateError(`The Severa simulator ${source} is not valid:\n${lines.join('\n')}`);
  }
  const state = parsed.data;
  try {
    assertTimeZone(state.timeZone);
    for (const u of state.users) assertTimeZone(u.timeZone);
  } catch (e) {
    throw new SeveraStateError(`The Severa simulator ${source} is not valid: ${(e as Error).message}`);
  }
  const users = new Set(state.users.map((u) => u.guid));
  for (const c of state.apiClients) {
    if (c.actAsUserGuid && !users.has(c.actAsUserGuid)) throw new SeveraStateError(`The Severa simulator ${source} is not valid: API client ${c.clientId} acts as ${c.actAsUserGuid}, who is not in users.`);
  }
  return state;
}

/** Loads a validated snapshot into an empty store; a reference that does not resolve is refused with the record named. */
export function restoreSeveraStore(store: SeveraStore, state: ParsedSeveraState, source = 'state'): void {
  try {
    store.restoreState(state as StoreState);
  } catch (e) {
    if (e instanceof StoreStateError) throw new SeveraStateError(`The Severa simulator ${source} is not consistent: ${e.message}.`);
    throw e;
  }
}

/** Reads and checks a snapshot file (JSON). */
export function loadSeveraState(path: string): SeveraState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SeveraStateError(`Cannot read the Severa simulator state file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SeveraStateError(`The Severa simulator state file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return validateSeveraState(json, `state file ${path}`) as SeveraState;
}
