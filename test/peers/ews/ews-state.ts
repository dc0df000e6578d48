/**
 * The EWS simulator's whole state as one JSON document, so a simulator can stop and a later one carry on as if it had
 * never stopped: the same ItemIds and ChangeKeys, the same answers to SyncFolderItems with a sync state the first one
 * issued (its signing key is part of the state), Deleted Items and Recoverable Items, the id and change counters.
 * Not kept: request counters, fault injection and clock skew (run settings, given to startEwsSimulator again) and NTLM
 * logins bound to connections (clients log in again). Format: README.md, "State snapshots".
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FREE_BUSY, SENSITIVITIES } from './calendar-model.ts';
import { EwsService } from './ews-service.ts';
import type { CalendarState } from './mailbox-calendar.ts';
import { CalendarStateError } from './mailbox-calendar.ts';
import type { ParsedEwsSeed } from './seed.ts';
import { ewsSeedSchema, extendedPropertySchema, patternSchema } from './seed.ts';
import { isValidIana } from './time-zones.ts';

export const EWS_STATE_FORMAT = 'ews-simulator-state';
export const EWS_STATE_VERSION = 1;

export class EwsStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EwsStateError';
  }
}

const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time');
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date (YYYY-MM-DD)');
const count = z.number().int().min(0);
const sensitivity = z.enum(SENSITIVITIES as [string, ...string[]]);
const freeBusy = z.enum(FREE_BUSY as [string, ...string[]]);

const rangeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('NoEnd'), startDate: date }).strict(),
  z.object({ type: z.literal('EndDate'), startDate: date, endDate: date }).strict(),
  z.object({ type: z.literal('Numbered'), startDate: date, count: z.number().int().min(1).max(999) }).strict(),
]);

const overrideSchema = z
  .object({
    originalStart: instant,
    subject: z.string().optional(),
    start: instant.optional(),
    end: instant.optional(),
    location: z.string().optional(),
    body: z.string().optional(),
    bodyType: z.enum(['HTML', 'Text']).optional(),
    sensitivity: sensitivity.optional(),
    legacyFreeBusyStatus: freeBusy.optional(),
    lastModifiedTime: z.string(),
  })
  .strict();

const calendarItemSchema = z
  .object({
    id: z.string().min(1),
    changeKey: z.string().min(1),
    mailbox: z.string().min(3),
    uid: z.string().min(1),
    subject: z.string(),
    start: instant,
    end: instant,
    isAllDay: z.boolean(),
    timeZone: z.string().refine(isValidIana, 'an IANA time zone'),
    location: z.string(),
    body: z.string(),
    bodyType: z.enum(['HTML', 'Text']),
    sensitivity,
    legacyFreeBusyStatus: freeBusy,
    organizer: z.string(),
    requiredAttendees: z.array(z.string()),
    optionalAttendees: z.array(z.string()),
    categories: z.array(z.string()),
    reminderIsSet: z.boolean(),
    reminderMinutesBeforeStart: count,
    recurrence: z.object({ pattern: patternSchema, range: rangeSchema }).strict().nullable(),
    modifiedOccurrences: z.array(overrideSchema),
    deletedOccurrences: z.array(instant),
    extendedProperties: z.array(extendedPropertySchema),
    isCancelled: z.boolean(),
    myResponseType: z.enum(['Unknown', 'Organizer', 'Tentative', 'Accept', 'Decline', 'NoResponseReceived']),
    appointmentSequenceNumber: count,
    dateTimeCreated: z.string(),
    lastModifiedTime: instant,
    calendarItemType: z.enum(['Single', 'RecurringMaster']),
  })
  .strict();

const storedItemSchema = z
  .object({
    number: z.number().int().min(1),
    version: z.number().int().min(1),
    fieldVersions: z.record(z.string(), z.number().int().min(1)).nullable(),
    createdSeq: z.number().int().min(1),
    lastSeq: z.number().int().min(1),
    item: calendarItemSchema,
  })
  .strict();

const calendarStateSchema = z
  .object({
    mailbox: z.string().min(3),
    nextNumber: z.number().int().min(1),
    seq: count,
    journal: z.array(z.number().int().min(1)),
    items: z.array(storedItemSchema),
    deletedItems: z.array(storedItemSchema),
    recoverable: z.array(calendarItemSchema),
    tombstones: z.array(z.object({ number: z.number().int().min(1), id: z.string().min(1), createdSeq: z.number().int().min(1), deletedSeq: z.number().int().min(1) }).strict()),
  })
  .strict();

const { items: _noItems, ...configShape } = ewsSeedSchema.shape;

export const ewsStateSchema = z
  .object({
    format: z.literal(EWS_STATE_FORMAT),
    version: z.literal(EWS_STATE_VERSION),
    /** When the snapshot was taken (informative). */
    savedAt: z.string(),
    /** The seed without its items: time zone, server settings, delegates, mailboxes (with their guids). */
    config: z.object(configShape).strict(),
    /** Key that signs sync states, base64 (32 bytes). */
    syncKey: z.string().refine((s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s, 'base64').length === 32, '32 bytes in base64'),
    calendars: z.array(calendarStateSchema),
  })
  .strict();

export type EwsState = z.input<typeof ewsStateSchema>;

/** Snapshot of a running service (see startEwsSimulator's exportState). */
export function exportEwsState(service: EwsService, nowMs = Date.now()): EwsState {
  const config = structuredClone(service.config);
  // Mailbox guids are written out, so ids keep their meaning even if the derivation from addresses ever changed.
  config.mailboxes = config.mailboxes.map((m) => ({ ...m, guid: service.directory.mailboxByPrimary(m.primarySmtp)!.guid }));
  return {
    format: EWS_STATE_FORMAT,
    version: EWS_STATE_VERSION,
    savedAt: new Date(nowMs).toISOString(),
    config,
    syncKey: service.syncKey.toString('base64'),
    calendars: service.directory.mailboxes.map((mb) => ({ mailbox: mb.primary, ...mb.calendar.exportState() })),
  };
}

/** Checks a snapshot's shape (not yet its cross-references, which restoreEwsService checks) and returns it typed. */
export function validateEwsState(raw: unknown, source = 'state'): z.output<typeof ewsStateSchema> {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const r = raw as Record<string, unknown>;
    if (r.format !== EWS_STATE_FORMAT) {
      throw new EwsStateError(`The EWS simulator ${source} is not an EWS simulator state snapshot (its "format" is ${JSON.stringify(r.format)}, expected "${EWS_STATE_FORMAT}").`);
    }
    if (r.version !== EWS_STATE_VERSION) {
      throw new EwsStateError(`The EWS simulator ${source} has format version ${JSON.stringify(r.version)}; this simulator reads version ${EWS_STATE_VERSION} only.`);
    }
  }
  const parsed = ewsStateSchema.safeParse(raw);
  if (!parsed.success) throw new EwsStateError(`The EWS simulator ${source} is not valid:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** A service holding exactly the snapshot's state. */
export function restoreEwsService(raw: unknown, source = 'state'): EwsService {
  const state = validateEwsState(raw, source);
  let service: EwsService;
  try {
    service = new EwsService({ ...(state.config as Omit<ParsedEwsSeed, 'items'>), items: [] }, Date.now(), Buffer.from(state.syncKey, 'base64'));
  } catch (e) {
    throw new EwsStateError(`The EWS simulator ${source} has an invalid directory: ${(e as Error).message}`);
  }
  const restored = new Set<string>();
  for (const cal of state.calendars) {
    const mb = service.directory.mailboxByPrimary(cal.mailbox);
    if (!mb) throw new EwsStateError(`The EWS simulator ${source} has a calendar for ${cal.mailbox}, which is no mailbox's primary address in its config.`);
    if (restored.has(mb.primary)) throw new EwsStateError(`The EWS simulator ${source} has two calendars for ${mb.primary}.`);
    restored.add(mb.primary);
    const { mailbox: _mailbox, ...calendar } = cal;
    try {
      mb.calendar.restoreState(calendar as CalendarState);
    } catch (e) {
      if (e instanceof CalendarStateError) throw new EwsStateError(`The EWS simulator ${source} is not consistent: ${e.message}.`);
      throw e;
    }
  }
  return service;
}

/** Reads and checks a snapshot file (JSON). */
export function loadEwsState(path: string): EwsState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new EwsStateError(`Cannot read the EWS simulator state file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new EwsStateError(`The EWS simulator state file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return validateEwsState(json, `state file ${path}`) as EwsState;
}
