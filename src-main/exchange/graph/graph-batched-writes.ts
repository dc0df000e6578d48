import type { EventFields } from '../../sync/calendar-event.ts';
import { CalendarError, type EventWrite, type EventWriteOutcome, type WriteResult } from '../calendar-connector.ts';
import { eventFieldsProblem } from '../ews/ews-event-validation.ts';
import { GraphClient, type GraphRequest } from './graph-client.ts';
import { graphEventBody, ifMatchFor, type GraphEvent } from './graph-event-mapping.ts';
import type { KnownItem } from './graph-calendar-connector.ts';
import { t } from '../../common/i18n/i18n.ts';

/**
 * The Graph connector's writeEvents: one mailbox's creates and plain-single updates in $batch calls of 20 (in dependsOn
 * chains, at most 4 running at once: GraphClient.batchInChains), everything else one by one through createEvent and
 * updateEvent. Each item's outcome is what createEvent or updateEvent gives for it: the same WriteResult from the
 * answer, the same CalendarError kinds (412 'conflict', 404 'not-found', ...).
 *
 * In a batch: a create that is not a series with changed occurrences (those need writes after the POST), and an update
 * the engine knows was a plain single at its version (UpdateHint.plainSingleAtVersion) that writes no recurrence, unless
 * this cycle's read knows better (another version, attendees, a pattern): then updateEvent decides, as it would alone.
 */

export interface BatchedWritesContext {
  client: GraphClient;
  smtp: string;
  userPath: string;
  /** What the connector knows of the mailbox's items this cycle (kept up to date with what is written here). */
  known: Map<string, KnownItem>;
  /** The POST body of a create (transactionId and sync tag included), as createEvent sends it. */
  createBody(fields: EventFields, syncTag: string): Record<string, unknown>;
  /** The write's answer as a WriteResult, as createEvent and updateEvent make it. */
  writeResult(e: GraphEvent | undefined, what: string): WriteResult;
  /** A write that does not go in a batch. */
  one(write: EventWrite): Promise<WriteResult>;
}

interface Batched {
  index: number;
  request: GraphRequest;
  /** What the connector then knows of the item. */
  written(result: WriteResult): void;
}

/** Errors that are one item's own: after any other, the writes left alone are not tried (the first one's error is theirs). */
const ITEM_CODES = new Set(['not-found', 'conflict', 'other', 'would-notify']);

export async function writeInBatches(ctx: BatchedWritesContext, writes: readonly EventWrite[]): Promise<EventWriteOutcome[]> {
  if (!Array.isArray(writes)) throw new CalendarError('other', 'writeEvents needs a list of writes.');
  const outcomes: Array<EventWriteOutcome | undefined> = new Array(writes.length);
  const batched: Batched[] = [];
  let alone: number[] = [];
  writes.forEach((write, index) => {
    try {
      const b = batchedWrite(ctx, write, index);
      if (b) batched.push(b);
      else alone.push(index);
    } catch (error) {
      if (!(error instanceof CalendarError)) throw error;
      outcomes[index] = { ok: false, error };
    }
  });
  // A single write costs one request either way: it takes the plain path.
  if (batched.length === 1) alone = [...alone, batched.pop()!.index].sort((a, b) => a - b);
  if (batched.length > 0) {
    const answers = await ctx.client.batchInChains(batched.map((b) => b.request));
    answers.forEach((answer, k) => {
      const b = batched[k];
      try {
        if (answer.status >= 400) GraphClient.raise(answer, b.request);
        const result = ctx.writeResult(answer.body as GraphEvent | undefined, b.request.what);
        b.written(result);
        outcomes[b.index] = { ok: true, result };
      } catch (error) {
        if (!(error instanceof CalendarError)) throw error;
        outcomes[b.index] = { ok: false, error };
      }
    });
  }
  let stopped: CalendarError | null = null;
  for (const index of alone) {
    if (stopped) {
      outcomes[index] = { ok: false, error: stopped };
      continue;
    }
    try {
      outcomes[index] = { ok: true, result: await ctx.one(writes[index]) };
    } catch (error) {
      if (!(error instanceof CalendarError)) throw error;
      outcomes[index] = { ok: false, error };
      if (!ITEM_CODES.has(error.code)) stopped = error;
    }
  }
  return outcomes as EventWriteOutcome[];
}

/** The write as a $batch request, checked as createEvent / updateEvent check it; null when it takes the one-by-one path. */
function batchedWrite(ctx: BatchedWritesContext, write: EventWrite, index: number): Batched | null {
  const { smtp, userPath, known } = ctx;
  const fields = write?.fields;
  if (write?.kind === 'create') {
    const problem = eventFieldsProblem(fields);
    if (problem) throw new CalendarError('other', problem);
    if (typeof write.syncTag !== 'string' || write.syncTag.trim() === '') throw new CalendarError('other', 'An item the sync creates needs its sync tag.');
    if (fields.recurrence && fields.exceptions.length > 0) return null;
    const request: GraphRequest = { method: 'POST', url: `${userPath}/events`, mailbox: smtp, body: ctx.createBody(fields, write.syncTag), what: t('report.graph.steps.creating'), operation: 'events/create' };
    return {
      index,
      request,
      written: (r) => void known.set(r.id, { version: r.version, isOrganizer: true, attendees: 0, exceptions: fields.exceptions, recurrence: fields.recurrence }),
    };
  }
  if (write?.kind !== 'update' || write.plainSingleAtVersion !== true || !fields || fields.recurrence !== null || fields.exceptions.length > 0) return null;
  const { id, version } = write;
  if (typeof id !== 'string' || id.trim() === '' || id.length > 2048) return null;
  if (typeof version !== 'string' || version === '') return null;
  if (eventFieldsProblem(fields)) return null;
  // What this cycle read of the item counts first, as in updateEvent: anything but the same plain single is its to judge.
  const current = known.get(id);
  if (current && (current.version !== version || (current.isOrganizer && current.attendees > 0) || current.recurrence || (current.exceptions?.length ?? 0) > 0)) return null;
  const request: GraphRequest = {
    method: 'PATCH',
    url: `${userPath}/events/${encodeURIComponent(id)}`,
    mailbox: smtp,
    headers: { 'If-Match': ifMatchFor(version) },
    body: graphEventBody(fields, { includeRecurrence: false }),
    what: t('report.graph.steps.updating'),
    operation: 'events/update',
    aboutItem: true,
  };
  const base: KnownItem = current ?? { version, isOrganizer: false, attendees: 0 };
  return { index, request, written: (r) => void known.set(id, { ...base, version: r.version, exceptions: [], recurrence: null }) };
}
