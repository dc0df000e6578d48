import { randomUUID } from 'node:crypto';
import type { EventFields, RecurrenceRule, SideEvent } from '../../sync/calendar-event.ts';
import { CalendarError, type CalendarChanges, type CalendarConnector, type ChangeWatch, type ChangeWatchEvents, type EventWrite, type EventWriteOutcome, type SyncChangesOptions, type UpdateHint, type WatchChangesOptions, type WriteResult } from '../calendar-connector.ts';
import { eventFieldsProblem } from '../ews/ews-event-validation.ts';
import { writeInBatches } from './graph-batched-writes.ts';
import { GraphChangeWatch, type GraphWatchOptions } from './graph-change-watch.ts';
import { GraphClient, type GraphRequest } from './graph-client.ts';
import { graphErrorOf } from './graph-errors.ts';
import { graphEventBody, ifMatchFor, readGraphEvent, SYNC_TAG_PROPERTY_ID, versionOf, type GraphEvent, type ReadGraphEvent } from './graph-event-mapping.ts';
import { eventRequest, readSeries, writeExceptions, type SeriesInstance } from './graph-series.ts';
import { decodeSyncState, encodeSyncState, OccurrenceIndex, type GraphSyncState } from './graph-sync-state.ts';
import { t } from '../../common/i18n/i18n.ts';

/**
 * Exchange Online through Microsoft Graph, app-only, behind the same CalendarConnector as EWS.
 *
 * Changes come from `calendarView/delta` over the sync window (a no-change cycle is one request per mailbox). A changed
 * single the sync already pairs (SyncChangesOptions.pairedIds) is taken as delta gave it: delta has every property but
 * the sync tag, which only an unpaired item needs. Other changed items are read in $batch calls, with the sync tag (the
 * same MAPI named property EWS writes), series as their master plus exceptions. Writes never carry attendees, and an
 * organizer's meeting that has attendees is never changed or deleted (Graph would mail them: there is no SendToNone);
 * those throw 'would-notify', which is why an update reads the item first, unless this cycle read it already or the
 * engine knows it was a plain single at the version written (UpdateHint). Creates carry a transactionId (a retried
 * POST is not a second event), updates and deletes an If-Match (a stale version is a 'conflict'). writeEvents sends
 * creates and plain-single updates 20 to a $batch (graph-batched-writes.ts).
 */

export interface SyncWindow {
  /** The earliest sync start date of the enrolled users (YYYY-MM-DD). */
  startDate: string;
  /** How far ahead the engine looks, in days. */
  daysAhead: number;
}

export interface GraphConnectorOptions {
  client: GraphClient;
  window: SyncWindow;
  /** Zone assumed for events whose zone the server does not name (default: this computer's). */
  defaultTimeZone?: string;
  /** Delta page size asked for (Prefer: odata.maxpagesize; default 200). */
  deltaPageSize?: number;
  now?: () => Date;
  /** The change watch's settings (watchChanges; see graph-change-watch.ts). */
  watch?: GraphWatchOptions;
}

const DAY = 86_400_000;
/** A new window reaches this far past what the engine needs, so delta restarts only about once a month. */
const WINDOW_SLACK_DAYS = 30;
/** Prefetched delta pages with more changes than this are not kept until their mailbox's turn (prefetchChanges). */
const PREFETCH_KEEP_MAX = 20;
/** Mailboxes whose delta pages prefetchChanges asks for at once (5 $batch calls of 20). */
const PREFETCH_SLICE = 100;
const TAG_EXPAND = `singleValueExtendedProperties($filter=id eq '${SYNC_TAG_PROPERTY_ID}')`;
const EMAIL_RE = /^[^\s@<>()"',;:\\]+@[^\s@<>()"',;:\\]+\.[^\s@<>()"',;:\\]+$/;

function checkMailbox(mailbox: string): string {
  if (typeof mailbox !== 'string' || !EMAIL_RE.test(mailbox.trim())) throw new CalendarError('no-mailbox', `"${String(mailbox)}" is not a mailbox address.`);
  return mailbox.trim().toLowerCase();
}

function checkId(id: string): string {
  if (typeof id !== 'string' || id.trim() === '' || id.length > 2048) throw new CalendarError('other', `"${String(id).slice(0, 80)}" is not a Graph event id.`);
  return id;
}

type DeltaPage = { value?: GraphEvent[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };

/**
 * Whether a delta item carries every property the mapping reads (delta returns what GET calendarView returns); a server
 * that differs and sends less has its items read by id instead of taking missing properties for empty ones.
 */
function deltaItemComplete(e: GraphEvent): boolean {
  const time = (t: GraphEvent['start']) => typeof t?.dateTime === 'string' && t.dateTime !== '';
  return (
    e.type === 'singleInstance' &&
    typeof e.subject === 'string' &&
    time(e.start) &&
    time(e.end) &&
    typeof e.isAllDay === 'boolean' &&
    typeof e.body?.content === 'string' &&
    'location' in e &&
    typeof e.sensitivity === 'string' &&
    Array.isArray(e.attendees) &&
    typeof e.isOrganizer === 'boolean' &&
    typeof e.lastModifiedDateTime === 'string' &&
    versionOf(e) !== ''
  );
}

/** What the connector remembers of an item it read, so a write right after needs no second read. */
export interface KnownItem {
  version: string;
  isOrganizer: boolean;
  attendees: number;
  /** A series' exceptions as read. */
  exceptions?: EventFields['exceptions'];
  recurrence?: RecurrenceRule | null;
}

export class GraphCalendarConnector implements CalendarConnector {
  readonly #client: GraphClient;
  readonly #window: SyncWindow;
  readonly #defaultTimeZone: string;
  readonly #pageSize: number;
  readonly #now: () => Date;
  readonly #watchOptions: GraphWatchOptions;
  /** mailbox -> the /users/{…} segment that reaches it (the address itself, or the user id when the address is not the UPN). */
  readonly #userPaths = new Map<string, string>();
  /** Per mailbox: the first delta page prefetchChanges read, for the sync state it was read from. */
  readonly #prefetched = new Map<string, { syncState: string; page: DeltaPage }>();
  /** Per mailbox: what was read of its items since its last syncChanges. */
  readonly #known = new Map<string, Map<string, KnownItem>>();

  constructor(options: GraphConnectorOptions) {
    this.#client = options.client;
    this.#window = options.window;
    this.#defaultTimeZone = options.defaultTimeZone ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
    this.#pageSize = options.deltaPageSize ?? 200;
    this.#now = options.now ?? (() => new Date());
    this.#watchOptions = options.watch ?? {};
  }

  clockOffsetMs(): number | null {
    return this.#client.clockOffsetMs();
  }

  recurrenceProblem(): string | null {
    return null;
  }

  // ---- addressing ----

  async #userPath(mailbox: string): Promise<string> {
    const known = this.#userPaths.get(mailbox);
    if (known) return known;
    const user = await this.#findUser(mailbox);
    const path = `/users/${encodeURIComponent(user?.id ?? mailbox)}`;
    this.#userPaths.set(mailbox, path);
    return path;
  }

  /** The directory user with this address (UPN, primary or an alias); null when none, or more than one, has it. */
  async #findUser(email: string): Promise<{ id: string; mail: string | null } | null> {
    const what = t('report.graph.steps.findingMailbox');
    type User = { id?: string; mail?: string | null; userPrincipalName?: string; proxyAddresses?: string[] };
    const select = '$select=id,mail,userPrincipalName,proxyAddresses';
    const direct = await this.#client.request<User>({ method: 'GET', url: `/users/${encodeURIComponent(email)}?${select}`, mailbox: null, what, operation: 'users/get', accept: [404] });
    if (direct.status === 200 && direct.body?.id) return { id: direct.body.id, mail: direct.body.mail?.toLowerCase() ?? null };
    const quoted = email.replace(/'/g, "''");
    const filter = `proxyAddresses/any(x:x eq 'smtp:${quoted}') or mail eq '${quoted}'`;
    const found = await this.#client.request<{ value?: User[] }>({ method: 'GET', url: `/users?$filter=${encodeURIComponent(filter)}&${select}`, mailbox: null, what, operation: 'users/list' });
    const users = (found.body?.value ?? []).filter((u) => typeof u.id === 'string');
    return users.length === 1 ? { id: users[0].id!, mail: users[0].mail?.toLowerCase() ?? null } : null;
  }

  async resolveMailbox(email: string): Promise<string | null> {
    if (typeof email !== 'string' || !EMAIL_RE.test(email.trim())) return null;
    const wanted = email.trim().toLowerCase();
    const user = await this.#findUser(wanted);
    if (!user) return null;
    const mailbox = user.mail ?? wanted;
    this.#userPaths.set(mailbox, `/users/${encodeURIComponent(user.id)}`);
    return mailbox;
  }

  // ---- reading ----

  #windowFor(state: GraphSyncState | null): { windowStart: string; windowEnd: string; restart: boolean } {
    const needStart = Date.parse(`${this.#window.startDate}T00:00:00Z`) - DAY;
    const needEnd = this.#now().getTime() + (this.#window.daysAhead + 1) * DAY;
    if (state && Date.parse(state.windowStart) <= needStart && Date.parse(state.windowEnd) >= needEnd) {
      return { windowStart: state.windowStart, windowEnd: state.windowEnd, restart: false };
    }
    const end = Math.ceil((needEnd + WINDOW_SLACK_DAYS * DAY) / DAY) * DAY;
    return { windowStart: new Date(needStart).toISOString(), windowEnd: new Date(end).toISOString(), restart: true };
  }

  #ctx(mailbox: string, userPath: string, what: string, windowEndMs?: number) {
    return {
      client: this.#client,
      userPath,
      mailbox,
      read: { defaultTimeZone: this.#defaultTimeZone },
      windowEndMs: windowEndMs ?? this.#now().getTime() + (this.#window.daysAhead + WINDOW_SLACK_DAYS) * DAY,
      what,
    };
  }

  #knownIn(mailbox: string): Map<string, KnownItem> {
    let known = this.#known.get(mailbox);
    if (!known) {
      known = new Map();
      this.#known.set(mailbox, known);
    }
    return known;
  }

  #remember(mailbox: string, read: ReadGraphEvent, extra: Partial<KnownItem> = {}): void {
    this.#knownIn(mailbox).set(read.event.id, { version: read.event.version, isOrganizer: read.isOrganizer, attendees: read.event.fields.attendees.length, ...extra });
  }

  /**
   * Reads items by id in $batch calls: singles as they are, series completed with their exceptions. Returns what was
   * found, the ids that are gone (404), and occurrences met (whose master the caller may need).
   */
  async #readItems(mailbox: string, userPath: string, ids: readonly string[], what: string, windowEndMs?: number, index?: OccurrenceIndex) {
    const ctx = this.#ctx(mailbox, userPath, what, windowEndMs);
    const found: SideEvent[] = [];
    const missing: string[] = [];
    const occurrences: ReadGraphEvent[] = [];
    if (ids.length === 0) return { found, missing, occurrences };
    const requests: GraphRequest[] = ids.map((id) => eventRequest(ctx, id, TAG_EXPAND));
    const answers = await this.#client.batch(requests);
    const masters: ReadGraphEvent[] = [];
    answers.forEach((answer, i) => {
      // An id Graph calls malformed names no item here (an EWS ItemId, kept from before the mailbox moved to Exchange
      // Online): not there, as the EWS connector takes ErrorInvalidIdMalformed.
      if (answer.status === 404 || (answer.status === 400 && graphErrorOf(answer.body)?.code === 'ErrorInvalidIdMalformed')) return void missing.push(ids[i]);
      if (answer.status >= 400) GraphClient.raise(answer, requests[i]);
      const read = readGraphEvent(answer.body as GraphEvent, ctx.read);
      if (read.type === 'seriesMaster' && read.event.fields.recurrence) masters.push(read);
      else if (read.type === 'occurrence' || read.type === 'exception') occurrences.push(read);
      else {
        this.#remember(mailbox, read);
        found.push(read.event);
      }
    });
    for (const master of masters) {
      const series = await readSeries(ctx, master.event, TAG_EXPAND);
      this.#remember(mailbox, master, { exceptions: series.event.fields.exceptions, recurrence: series.event.fields.recurrence });
      found.push(series.event);
      if (index) {
        index.forgetMaster(master.event.id);
        for (const instance of series.instances) index.add(instance.id, master.event.id);
      }
    }
    return { found, missing, occurrences };
  }

  #deltaRequest(smtp: string, url: string): GraphRequest {
    return {
      method: 'GET',
      url,
      mailbox: smtp,
      headers: { Prefer: `outlook.timezone="UTC", outlook.body-content-type="text", odata.maxpagesize=${this.#pageSize}` },
      what: t('report.graph.steps.readingChanges'),
      operation: 'calendarView/delta',
    };
  }

  /**
   * Reads the first delta page of many mailboxes in $batch calls of 20 (a cycle with no change then costs one request per
   * 20 mailboxes); syncChanges takes a prefetched page instead of asking again. Anything that fails here is simply
   * asked again by syncChanges, which reports it. A page with more than PREFETCH_KEEP_MAX changes is not kept until its
   * mailbox's turn (a cycle over a thousand mailboxes after a first sync would hold every page): that mailbox asks again,
   * one request among the many its changes cost anyway.
   */
  async prefetchChanges(requests: ReadonlyArray<{ mailbox: string; syncState: string | null }>): Promise<void> {
    const wanted: Array<{ smtp: string; syncState: string; request: GraphRequest }> = [];
    for (const { mailbox, syncState } of requests) {
      let state: GraphSyncState | null;
      try {
        state = decodeSyncState(syncState);
      } catch {
        continue;
      }
      if (!state || !syncState || this.#windowFor(state).restart || this.#client.relativeUrl(state.deltaLink) === null) continue;
      const smtp = checkMailbox(mailbox);
      wanted.push({ smtp, syncState, request: this.#deltaRequest(smtp, state.deltaLink) });
    }
    // A slice at a time, so that only one slice's pages are in memory before the large ones are let go.
    for (let from = 0; from < wanted.length; from += PREFETCH_SLICE) {
      const slice = wanted.slice(from, from + PREFETCH_SLICE);
      const answers = await this.#client.batch(slice.map((w) => w.request)).catch(() => null);
      answers?.forEach((answer, i) => {
        if (answer.status !== 200 || !answer.body || typeof answer.body !== 'object') return;
        const page = answer.body as DeltaPage;
        if ((Array.isArray(page.value) ? page.value.length : 0) > PREFETCH_KEEP_MAX) return;
        this.#prefetched.set(slice[i].smtp, { syncState: slice[i].syncState, page });
      });
    }
  }

  /** A changed single of a paired id as its delta item holds it; null when the item is not complete enough to map. */
  #fromDelta(item: GraphEvent): ReadGraphEvent | null {
    if (!deltaItemComplete(item)) return null;
    try {
      const read = readGraphEvent(item, { defaultTimeZone: this.#defaultTimeZone });
      return read.type === 'singleInstance' ? read : null;
    } catch {
      return null;
    }
  }

  async syncChanges(mailbox: string, syncState: string | null, options: SyncChangesOptions = {}): Promise<CalendarChanges> {
    const smtp = checkMailbox(mailbox);
    const what = t('report.graph.steps.readingChanges');
    const previous = decodeSyncState(syncState);
    this.#known.delete(smtp);
    const prefetched = this.#prefetched.get(smtp);
    this.#prefetched.delete(smtp);
    const window = this.#windowFor(previous);
    const state = window.restart ? null : previous;
    if (previous?.userPath && !this.#userPaths.has(smtp)) this.#userPaths.set(smtp, previous.userPath);
    const userPath = await this.#userPath(smtp);
    const index = new OccurrenceIndex(state);
    const singles = new Set<string>();
    /** A changed single's last delta item (a page can hold one twice). */
    const singleItems = new Map<string, GraphEvent>();
    const masters = new Set<string>();
    const removed = new Set<string>();
    let url = state
      ? state.deltaLink
      : `${userPath}/calendarView/delta?startDateTime=${encodeURIComponent(window.windowStart)}&endDateTime=${encodeURIComponent(window.windowEnd)}`;
    let deltaLink: string | null = null;
    for (let pages = 0; ; pages++) {
      if (pages > 10_000) throw new CalendarError('bad-response', `${what} (${smtp}): Microsoft Graph keeps announcing more calendar changes.`);
      const page =
        pages === 0 && state && prefetched?.syncState === syncState
          ? { body: prefetched.page }
          : await this.#client.request<DeltaPage>(this.#deltaRequest(smtp, url));
      for (const item of page.body?.value ?? []) {
        if (typeof item?.id !== 'string') continue;
        if (item['@removed']) {
          singles.delete(item.id);
          singleItems.delete(item.id);
          removed.add(item.id);
          continue;
        }
        removed.delete(item.id);
        if (item.type === 'occurrence' || item.type === 'exception') {
          if (typeof item.seriesMasterId === 'string' && item.seriesMasterId) {
            masters.add(item.seriesMasterId);
            index.add(item.id, item.seriesMasterId);
          }
        } else if (item.type === 'seriesMaster') masters.add(item.id);
        else {
          singles.add(item.id);
          singleItems.set(item.id, item);
        }
      }
      const next = page.body?.['@odata.nextLink'];
      const done = page.body?.['@odata.deltaLink'];
      if (typeof done === 'string' && done) {
        // Kept relative to the Graph address when it is under it, so a changed address (or port) keeps the position.
        deltaLink = this.#client.relativeUrl(done) ?? done;
        break;
      }
      if (typeof next !== 'string' || !next || next === url) throw new CalendarError('bad-response', `${what} (${smtp}): Microsoft Graph's delta page has neither a next nor a delta link.`);
      url = next;
    }
    // A removed occurrence leads back to its series (cancelled occurrence, or the whole series deleted); any other removed
    // id may have been deleted or only moved out of the window, which only a read can tell.
    const verify: string[] = [];
    for (const id of removed) {
      const master = index.masterOf(id);
      index.remove(id);
      if (master) masters.add(master);
      else verify.push(id);
    }
    // A changed single the sync pairs already is taken as delta gave it: delta has everything but the sync tag, which only
    // an unpaired item needs. The others (and any item delta gave incompletely) are read by id, with their tag.
    const fromDelta: SideEvent[] = [];
    const toRead: string[] = [];
    for (const id of singles) {
      const item = singleItems.get(id);
      const taken = item && options.pairedIds?.has(id) ? this.#fromDelta(item) : null;
      if (taken) {
        this.#remember(smtp, taken);
        fromDelta.push(taken.event);
      } else toRead.push(id);
    }
    const windowEndMs = Date.parse(window.windowEnd);
    const ids = [...new Set([...toRead, ...masters, ...verify])];
    const read = await this.#readItems(smtp, userPath, ids, what, windowEndMs, index);
    // Occurrences met among the removed ids whose series the index did not know: read their series too.
    const moreMasters = [...new Set(read.occurrences.map((o) => o.seriesMasterId).filter((m): m is string => m !== null && !ids.includes(m)))];
    const more = await this.#readItems(smtp, userPath, moreMasters, what, windowEndMs, index);
    const deleted = [...read.missing, ...more.missing];
    for (const id of deleted) index.forgetMaster(id);
    return {
      changed: [...fromDelta, ...read.found, ...more.found],
      deletedIds: deleted,
      syncState: encodeSyncState(index.toState(window, deltaLink, userPath)),
    };
  }

  async getEvents(mailbox: string, ids: string[]): Promise<SideEvent[]> {
    const smtp = checkMailbox(mailbox);
    if (!Array.isArray(ids)) throw new CalendarError('other', 'getEvents needs a list of ids.');
    const unique = [...new Set(ids.map(checkId))];
    if (unique.length === 0) return [];
    const read = await this.#readItems(smtp, await this.#userPath(smtp), unique, t('report.graph.steps.readingItems'));
    return read.found;
  }

  async findByTag(mailbox: string, syncTag: string): Promise<SideEvent[]> {
    const smtp = checkMailbox(mailbox);
    if (typeof syncTag !== 'string' || syncTag.trim() === '') throw new CalendarError('other', 'The sync tag to look for is empty.');
    const what = t('report.graph.steps.findingCreated');
    const userPath = await this.#userPath(smtp);
    const quoted = syncTag.replace(/'/g, "''");
    const filter = `singleValueExtendedProperties/any(ep: ep/id eq '${SYNC_TAG_PROPERTY_ID}' and ep/value eq '${quoted}')`;
    const page = await this.#client.request<{ value?: GraphEvent[] }>({
      method: 'GET',
      url: `${userPath}/events?$filter=${encodeURIComponent(filter)}&$select=id&$top=20`,
      mailbox: smtp,
      what,
      operation: 'events/list',
    });
    const ids = (page.body?.value ?? []).map((e) => e.id).filter((id): id is string => typeof id === 'string');
    const read = await this.#readItems(smtp, userPath, ids, what);
    // The server filtered already; this guards against one that ignores the filter.
    return read.found.filter((e) => e.syncTag === syncTag);
  }

  // ---- writing ----

  async #current(smtp: string, userPath: string, id: string, what: string): Promise<KnownItem | null> {
    const known = this.#knownIn(smtp).get(id);
    if (known) return known;
    const read = await this.#readItems(smtp, userPath, [id], what);
    return read.found.length > 0 ? this.#knownIn(smtp).get(id) ?? null : null;
  }

  #refuseNotifying(item: KnownItem | null, smtp: string, doing: string): void {
    if (!item?.isOrganizer || item.attendees === 0) return;
    throw new CalendarError('would-notify', t('report.graph.wouldNotify', { what: doing, mailbox: smtp, attendees: item.attendees }), {
      advice: { message: t('report.graph.wouldNotifyAdvice', { mailbox: smtp }), fix: t('report.graph.wouldNotifyFix') },
    });
  }

  async #finalVersion(smtp: string, userPath: string, id: string, what: string): Promise<WriteResult> {
    const answer = await this.#client.request<GraphEvent>({ method: 'GET', url: `${userPath}/events/${encodeURIComponent(id)}?$select=id,changeKey,lastModifiedDateTime`, mailbox: smtp, what, operation: 'events/get', aboutItem: true });
    return this.#writeResult(answer.body, what);
  }

  /** The write's answer: the event as Exchange Online stored it (a series' master, without its exceptions). */
  #writeResult(e: GraphEvent | undefined, what: string): WriteResult {
    if (!e?.id) throw new CalendarError('bad-response', `${what}: Microsoft Graph answered the write without the event.`);
    const modified = Date.parse(e.lastModifiedDateTime ?? '');
    let stored: SideEvent | undefined;
    try {
      stored = readGraphEvent(e, { defaultTimeZone: this.#defaultTimeZone }).event;
    } catch {
      stored = undefined;
    }
    return { id: e.id, version: versionOf(e), lastModified: Number.isNaN(modified) ? this.#now().toISOString() : new Date(modified).toISOString(), ...(stored ? { stored } : {}) };
  }

  /** A series after its exceptions were written, read back whole: what the write's answers cannot say. */
  async #storedSeries(smtp: string, userPath: string, id: string, what: string): Promise<WriteResult> {
    const read = await this.#readItems(smtp, userPath, [id], what);
    const stored = read.found[0];
    if (!stored) return this.#finalVersion(smtp, userPath, id, what);
    return { id: stored.id, version: stored.version, lastModified: stored.lastModified, stored };
  }

  #createBody(fields: EventFields, syncTag: string): Record<string, unknown> {
    const body: Record<string, unknown> = {
      ...graphEventBody(fields, { includeRecurrence: true }),
      // The same id on every retry of this create: Graph makes one event however often the POST arrives.
      transactionId: randomUUID(),
      singleValueExtendedProperties: [{ id: SYNC_TAG_PROPERTY_ID, value: syncTag }],
    };
    if (fields.recurrence === null) delete body.recurrence;
    return body;
  }

  async createEvent(mailbox: string, fields: EventFields, syncTag: string): Promise<WriteResult> {
    const smtp = checkMailbox(mailbox);
    const problem = eventFieldsProblem(fields);
    if (problem) throw new CalendarError('other', problem);
    if (typeof syncTag !== 'string' || syncTag.trim() === '') throw new CalendarError('other', 'An item the sync creates needs its sync tag.');
    const what = t('report.graph.steps.creating');
    const userPath = await this.#userPath(smtp);
    const body = this.#createBody(fields, syncTag);
    const created = await this.#client.request<GraphEvent>({ method: 'POST', url: `${userPath}/events`, mailbox: smtp, body, what, operation: 'events/create' });
    let result = this.#writeResult(created.body, what);
    if (fields.recurrence && fields.exceptions.length > 0) {
      await writeExceptions(this.#ctx(smtp, userPath, what), result.id, fields, []);
      // The answer was the master alone: the series with the exceptions it now has is read back.
      result = await this.#storedSeries(smtp, userPath, result.id, what);
    }
    this.#knownIn(smtp).set(result.id, { version: result.version, isOrganizer: true, attendees: 0, exceptions: fields.exceptions, recurrence: fields.recurrence });
    return result;
  }

  async updateEvent(mailbox: string, id: string, version: string, fields: EventFields, hint: UpdateHint = {}): Promise<WriteResult> {
    const smtp = checkMailbox(mailbox);
    checkId(id);
    if (typeof version !== 'string' || version === '') throw new CalendarError('conflict', 'The update carries no version (changeKey); re-read the item first.');
    const problem = eventFieldsProblem(fields);
    if (problem) throw new CalendarError('other', problem);
    const what = t('report.graph.steps.updating');
    const userPath = await this.#userPath(smtp);
    // The sync knows the item was a plain single at this version: the PATCH's If-Match makes sure it still is (a stale
    // version is a 412, 'conflict'), so it need not be read first. What this cycle read of it still counts first.
    const current = hint.plainSingleAtVersion === true
      ? (this.#knownIn(smtp).get(id) ?? { version, isOrganizer: false, attendees: 0, exceptions: [], recurrence: null })
      : await this.#current(smtp, userPath, id, what);
    if (!current) throw new CalendarError('not-found', `${what} (${smtp}): the item is gone.`);
    if (current.version !== version) throw new CalendarError('conflict', `${what} (${smtp}): the item changed in Exchange since it was read.`, { serverCode: 'PreconditionFailed' });
    this.#refuseNotifying(current, smtp, what);
    const currentExceptions = current.exceptions ?? [];
    // A cancelled occurrence cannot be brought back one by one: re-sending the pattern drops every exception, after
    // which the wanted ones are applied again.
    const wantedKeys = new Set(fields.exceptions.filter((e) => e.fields === null).map((e) => e.originalStart));
    const restoreCancelled = fields.recurrence !== null && currentExceptions.some((e) => e.fields === null && !wantedKeys.has(e.originalStart));
    const patternChanged = JSON.stringify(current.recurrence ?? null) !== JSON.stringify(fields.recurrence);
    const sendPattern = restoreCancelled || patternChanged;
    const body = graphEventBody(fields, { includeRecurrence: sendPattern });
    const answer = await this.#client.request<GraphEvent>({
      method: 'PATCH',
      url: `${userPath}/events/${encodeURIComponent(id)}`,
      mailbox: smtp,
      headers: { 'If-Match': ifMatchFor(version) },
      body,
      what,
      operation: 'events/update',
      aboutItem: true,
    });
    let result = this.#writeResult(answer.body, what);
    if (fields.recurrence) {
      // Changed occurrences take the series' new subject, place or text where they did not change those themselves:
      // what they hold now is read again before they are brought in line.
      let now = sendPattern ? [] : currentExceptions;
      if (!sendPattern && currentExceptions.some((e) => e.fields !== null)) now = (await this.#readItems(smtp, userPath, [id], what)).found[0]?.fields.exceptions ?? currentExceptions;
      const writes = await writeExceptions(this.#ctx(smtp, userPath, what), id, fields, now);
      // The answer was the master alone: a series that has or had exceptions is read back whole.
      if (writes > 0 || fields.exceptions.length > 0 || currentExceptions.length > 0) result = await this.#storedSeries(smtp, userPath, id, what);
    }
    this.#knownIn(smtp).set(id, { ...current, version: result.version, exceptions: fields.exceptions, recurrence: fields.recurrence });
    return result;
  }

  /** Creates and plain-single updates in $batch calls of 20, the rest one by one (graph-batched-writes.ts). */
  async writeEvents(mailbox: string, writes: readonly EventWrite[]): Promise<EventWriteOutcome[]> {
    const smtp = checkMailbox(mailbox);
    const userPath = await this.#userPath(smtp);
    return writeInBatches(
      {
        client: this.#client,
        smtp,
        userPath,
        known: this.#knownIn(smtp),
        createBody: (fields, syncTag) => this.#createBody(fields, syncTag),
        writeResult: (e, what) => this.#writeResult(e, what),
        one: (w) => (w.kind === 'create' ? this.createEvent(smtp, w.fields, w.syncTag) : this.updateEvent(smtp, w.id, w.version, w.fields, w)),
      },
      writes,
    );
  }

  async deleteEvent(mailbox: string, id: string): Promise<void> {
    const smtp = checkMailbox(mailbox);
    checkId(id);
    const what = t('report.graph.steps.deleting');
    const userPath = await this.#userPath(smtp);
    const current = await this.#current(smtp, userPath, id, what);
    if (!current) return;
    this.#refuseNotifying(current, smtp, what);
    await this.#client.request({ method: 'DELETE', url: `${userPath}/events/${encodeURIComponent(id)}`, mailbox: smtp, what, operation: 'events/delete', aboutItem: true, accept: [404] });
    this.#knownIn(smtp).delete(id);
  }

  // ---- near real time ----

  /**
   * Delta polling of the engine's stored positions, 20 mailboxes a $batch, spread over `pollIntervalMs`
   * (graph-change-watch.ts). Without `positions` every mailbox is 'off'.
   */
  watchChanges(events: ChangeWatchEvents, options: WatchChangesOptions): ChangeWatch {
    const pollIntervalMs = options?.pollIntervalMs;
    if (typeof pollIntervalMs !== 'number' || !Number.isFinite(pollIntervalMs) || pollIntervalMs < 100) throw new CalendarError('config', 'The poll interval must be at least 100 ms.');
    const deltaRequest = (smtp: string, url: string): GraphRequest => {
      const request = this.#deltaRequest(smtp, url);
      // A few items are enough to know there is something (or only the sync's own writes); the sync reads the rest.
      return { ...request, headers: { Prefer: 'outlook.timezone="UTC", outlook.body-content-type="text", odata.maxpagesize=10' } };
    };
    return new GraphChangeWatch({ client: this.#client, pollIntervalMs, positions: options.positions, deltaRequest, options: this.#watchOptions }, events);
  }

  // ---- activation checks ----

  /** Opens the mailbox's calendar with the cheapest request there is; throws what fails. */
  async probeMailboxAccess(mailbox: string): Promise<void> {
    const smtp = checkMailbox(mailbox);
    const userPath = await this.#userPath(smtp);
    await this.#client.request({ method: 'GET', url: `${userPath}/events?$top=1&$select=id`, mailbox: smtp, what: t('report.graph.steps.openingCalendar'), operation: 'events/list' });
  }

}

export type { SeriesInstance };
