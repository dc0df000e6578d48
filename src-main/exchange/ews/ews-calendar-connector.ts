import {
  AffectedTaskOccurrence,
  Appointment,
  BasePropertySet,
  ConnectingIdType,
  DeleteMode,
  ExchangeService,
  ExchangeVersion,
  FolderId,
  ImpersonatedUserId,
  ItemId,
  ItemSchema,
  ItemView,
  Mailbox,
  MailboxType,
  PropertySet,
  ResolveNameSearchLocation,
  SearchFilter,
  SendCancellationsMode,
  ServiceResponseException,
  SyncFolderItemsScope,
  TimeZoneInfo,
  Uri,
  WebCredentials,
  WellKnownFolderName,
} from 'ews-javascript-api';
import type { EventFields, RecurrenceRule, SideEvent } from '../../sync/calendar-event.ts';
import { CalendarError, type CalendarChanges, type CalendarConnector, type ChangeWatch, type ChangeWatchEvents, type EventWrite, type EventWriteOutcome, type WriteResult } from '../calendar-connector.ts';
import { readItems, writeBatch, type ItemCalls } from './ews-item-calls.ts';
import { readXml } from './ews-xml.ts';
import { EwsChangeWatch } from './ews-change-watch.ts';
import { EwsNotificationClient } from './ews-notification-client.ts';
import { runContained } from './ews-crash-guard.ts';
import { applyEwsLibraryQuirkFixes } from './ews-library-quirks.ts';
import { exchangeVersionFor, isoOf, syncTagDefinition } from './ews-calendar-mapping.ts';
import { accountNames, checkId, checkMailbox, EMAIL_RE, validateOptions, type EwsConnectorOptions } from './ews-connector-options.ts';
import { bindCalendarItems, changedIdsSince, type LibraryCallSettings } from './ews-change-reading.ts';
import { eventFieldsProblem } from './ews-event-validation.ts';
import { supportsFirstDayOfWeek } from './ews-recurrence-mapping.ts';
import { createAppointment, updateAppointment } from './ews-single-item-writes.ts';
import { EwsClock } from './ews-clock.ts';
import { calendarErrorFor, responseCodeName, responseError, translateEwsError } from './ews-error-translation.ts';
import { ConnectionPool, EwsTransport, type EwsTransportSettings } from './ews-transport.ts';
import { recurrenceProblemForVersion } from './recurrence-expansion.ts';

const SYNC_PAGE_SIZE = 512;

export class EwsCalendarConnector implements CalendarConnector {
  private readonly options: Required<Pick<EwsConnectorOptions, 'timeoutMs' | 'maxResponseBytes' | 'defaultTimeZone' | 'batchSize' | 'syncPageSize'>> & EwsConnectorOptions;
  private readonly version: ExchangeVersion;
  private readonly transportSettings: EwsTransportSettings;
  private readonly basicUser: string;
  /** Exchange's clock offset: Date headers, else the sync's own writes (ews-clock.ts). */
  private readonly clock: EwsClock;
  /** Connections (and NTLM logins) reused across this connector's calls; always for the same account. */
  private readonly pool: ConnectionPool;

  constructor(options: EwsConnectorOptions) {
    applyEwsLibraryQuirkFixes();
    validateOptions(options);
    this.version = exchangeVersionFor(options.serverType);
    this.options = {
      timeoutMs: 100_000,
      maxResponseBytes: 64 * 1_048_576,
      defaultTimeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
      batchSize: 50,
      syncPageSize: SYNC_PAGE_SIZE,
      ...options,
    };
    const names = accountNames(options.domain ?? '', options.username);
    this.basicUser = names.basicUser;
    this.transportSettings = {
      authMethod: options.authMethod,
      domain: names.ntlmDomain,
      username: names.ntlmUser,
      password: options.password,
      caCertificates: options.caCertificates,
      network: options.network,
      timeoutMs: this.options.timeoutMs,
      maxResponseBytes: this.options.maxResponseBytes,
    };
    this.pool = new ConnectionPool(this.transportSettings);
    this.clock = new EwsClock(new URL(options.ewsUrl).href);
  }

  /** Closes the connections kept for reuse (they never hold a finished process open; this frees them early). */
  close(): void {
    this.pool.close();
  }

  clockOffsetMs(): number | null {
    return this.clock.offsetMs();
  }

  clockOffsetUnknownReason(): string | null {
    return this.clock.unknownReason();
  }

  /** Where the clock offset comes from (Date header or the sync's own writes), for the diagnostics. */
  clockOffsetSource(): ReturnType<EwsClock['source']> {
    return this.clock.source();
  }

  recurrenceProblem(rule: RecurrenceRule): string | null {
    return recurrenceProblemForVersion(rule, supportsFirstDayOfWeek(this.version));
  }

  // ---- plumbing ----

  /** A fresh ExchangeService for one call: the library keeps per-request state on it, so calls never share one. */
  private newService(transport: EwsTransport, mailbox: string | null): ExchangeService {
    const service = new ExchangeService(this.version, TimeZoneInfo.Utc);
    service.Url = new Uri(this.options.ewsUrl);
    service.Credentials = new WebCredentials(this.basicUser, this.options.password);
    service.XHRApi = transport;
    if (mailbox) {
      service.ImpersonatedUserId = new ImpersonatedUserId(ConnectingIdType.SmtpAddress, mailbox);
      // Routes the request to the mailbox's server in multi-server sites; the library does not add it itself.
      service.HttpHeaders.Add('X-AnchorMailbox', mailbox);
    }
    return service;
  }

  /**
   * Runs one connector operation: its own service and transport, contained against the library's crash, every error
   * translated into a CalendarError naming what was being done and for which mailbox.
   */
  private call<T>(label: string, mailbox: string | null, work: (service: ExchangeService, transport: EwsTransport) => Promise<T>): Promise<T> {
    const context = mailbox ? `${label} (${mailbox})` : label;
    return runContained(context, async () => {
      const transport = new EwsTransport(this.transportSettings, {
        onRequest: (operation, purpose) => this.options.onRequest?.({ operation, mailbox, ...(purpose ? { purpose } : {}) }),
        onResponse: (record) => this.clock.recordResponse(record),
      }, this.pool);
      const service = this.newService(transport, mailbox);
      try {
        return await work(service, transport);
      } catch (error) {
        throw translateEwsError(error, context, transport.failure, transport.fault);
      }
    });
  }

  /** What reading and writing through the library (ews-change-reading.ts, ews-single-item-writes.ts) need. */
  private get librarySettings(): LibraryCallSettings {
    return { version: this.version, batchSize: this.options.batchSize, defaultTimeZone: this.options.defaultTimeZone };
  }

  /** Exchange 2010 and later: GetItem, CreateItem and UpdateItem of many items on the connector's own SOAP. */
  private get ownSoap(): boolean {
    return this.version !== ExchangeVersion.Exchange2007_SP1;
  }

  /** The batched item calls of ews-item-calls.ts over this call's transport, impersonating `mailbox`. */
  private itemCalls(transport: EwsTransport, mailbox: string, context: string): ItemCalls {
    const headers: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml', 'X-AnchorMailbox': mailbox };
    if (this.options.authMethod === 'basic') headers.Authorization = `Basic ${Buffer.from(`${this.basicUser}:${this.options.password}`).toString('base64')}`;
    return {
      soap: { version: ExchangeVersion[this.version] as string, impersonate: mailbox, firstDayOfWeek: supportsFirstDayOfWeek(this.version), timeZoneIds: this.version >= ExchangeVersion.Exchange2016 },
      read: { defaultTimeZone: this.options.defaultTimeZone },
      batchSize: this.options.batchSize,
      context,
      post: async (body, purpose) => {
        transport.purpose = purpose;
        transport.checkXml = false;
        let text: string;
        try {
          const answer = (await transport.xhr({ type: 'POST', url: this.options.ewsUrl, headers, data: body })) as unknown as { responseText?: string };
          text = typeof answer.responseText === 'string' ? answer.responseText : '';
        } finally {
          transport.purpose = undefined;
          transport.checkXml = true;
        }
        try {
          return readXml(text);
        } catch (error) {
          throw new CalendarError('bad-response', `${context}: Exchange's answer is malformed XML: ${(error as Error).message}`);
        }
      },
    };
  }

  /** Batched GetItem of masters/single items, then of their modified occurrences. */
  private async readEvents(service: ExchangeService, ids: string[], context: string, transport?: EwsTransport): Promise<{ events: SideEvent[]; missing: string[] }> {
    const mailbox = (service.ImpersonatedUserId as unknown as { Id?: string } | null)?.Id;
    if (this.ownSoap && transport && mailbox) return readItems(this.itemCalls(transport, mailbox, context), ids);
    return bindCalendarItems(service, ids, this.librarySettings, context);
  }

  /**
   * The written item's id, ChangeKey and LastModifiedTime, read back. `wroteSinceMs`: the local time before the first
   * request that certainly changed the item, when one did: its LastModifiedTime then measures Exchange's clock.
   */
  private async writeResultOf(service: ExchangeService, id: string, context: string, wroteSinceMs: number | null, transport?: EwsTransport): Promise<WriteResult> {
    if (this.ownSoap && transport) {
      // The whole item, so the caller knows what Exchange stored (not only what it was sent).
      const { events } = await readItems(this.itemCalls(transport, (service.ImpersonatedUserId as unknown as { Id: string }).Id, context), [id], 'verify');
      const stored = events[0];
      if (!stored) throw calendarErrorFor('ErrorItemNotFound', undefined, context);
      if (wroteSinceMs !== null) this.clock.recordWrite(stored.lastModified, wroteSinceMs, Date.now());
      return { id: stored.id, version: stored.version, lastModified: stored.lastModified, stored };
    }
    const responses = await service.BindToItems([new ItemId(id)], new PropertySet(BasePropertySet.IdOnly, [ItemSchema.LastModifiedTime]));
    const response = responses.Responses[0];
    const error = response ? responseError(response) : 'ErrorItemNotFound';
    if (error || !response) throw calendarErrorFor(error ?? 'ErrorItemNotFound', response?.ErrorMessage, context);
    const item = (response as unknown as { Item: Appointment }).Item;
    const lastModified = isoOf(item.LastModifiedTime);
    if (lastModified && wroteSinceMs !== null) this.clock.recordWrite(lastModified, wroteSinceMs, Date.now());
    return { id: item.Id.UniqueId, version: item.Id.ChangeKey, lastModified: lastModified ?? new Date().toISOString() };
  }

  // ---- CalendarConnector ----

  async syncChanges(mailbox: string, syncState: string | null): Promise<CalendarChanges> {
    const smtp = checkMailbox(mailbox);
    if (syncState !== null && typeof syncState !== 'string') throw new CalendarError('invalid-sync-state', 'The stored sync state is not text.');
    return this.call('Reading calendar changes', smtp, async (service, transport) => {
      const { changed, deleted, state } = await changedIdsSince(service, syncState, this.options.syncPageSize);
      const { events, missing } = changed.size > 0 ? await this.readEvents(service, [...changed], `Reading calendar changes (${smtp})`, transport) : { events: [], missing: [] };
      // Deleted between the two requests: report as deleted, the next sync state will say so too.
      for (const id of missing) deleted.add(id);
      return { changed: events, deletedIds: [...deleted], syncState: state };
    });
  }

  async getEvents(mailbox: string, ids: string[]): Promise<SideEvent[]> {
    const smtp = checkMailbox(mailbox);
    if (!Array.isArray(ids)) throw new CalendarError('other', 'getEvents needs a list of ids.');
    const unique = [...new Set(ids.map((id) => checkId(id)))];
    if (unique.length === 0) return [];
    return this.call('Reading calendar items', smtp, async (service, transport) => (await this.readEvents(service, unique, `Reading calendar items (${smtp})`, transport)).events);
  }

  async findByTag(mailbox: string, syncTag: string): Promise<SideEvent[]> {
    const smtp = checkMailbox(mailbox);
    if (typeof syncTag !== 'string' || syncTag.trim() === '') throw new CalendarError('other', 'The sync tag to look for is empty.');
    return this.call('Finding items the sync created', smtp, async (service, transport) => {
      const view = new ItemView(20);
      view.PropertySet = new PropertySet(BasePropertySet.IdOnly);
      const found = await service.FindItems(WellKnownFolderName.Calendar, new SearchFilter.IsEqualTo(syncTagDefinition(), syncTag), view);
      const ids = found.Items.map((item) => item.Id.UniqueId);
      if (ids.length === 0) return [];
      const { events } = await this.readEvents(service, ids, `Finding items the sync created (${smtp})`, transport);
      // The server filtered already; this guards against a server that ignores the restriction.
      return events.filter((e) => e.syncTag === syncTag);
    });
  }

  async createEvent(mailbox: string, fields: EventFields, syncTag: string): Promise<WriteResult> {
    const smtp = checkMailbox(mailbox);
    const problem = eventFieldsProblem(fields);
    if (problem) throw new CalendarError('other', problem);
    if (typeof syncTag !== 'string' || syncTag.trim() === '') throw new CalendarError('other', 'An item the sync creates needs its sync tag.');
    return this.call('Creating a calendar item', smtp, async (service, transport) => {
      const context = `Creating a calendar item (${smtp})`;
      const { id, sentAtMs } = await createAppointment(service, fields, syncTag, this.librarySettings, context);
      return this.writeResultOf(service, id, context, sentAtMs, transport);
    });
  }

  async updateEvent(mailbox: string, id: string, version: string, fields: EventFields): Promise<WriteResult> {
    const smtp = checkMailbox(mailbox);
    checkId(id);
    if (typeof version !== 'string' || version === '') throw new CalendarError('conflict', 'The update carries no version (ChangeKey); re-read the item first.');
    const problem = eventFieldsProblem(fields);
    if (problem) throw new CalendarError('other', problem);
    return this.call('Updating a calendar item', smtp, async (service, transport) => {
      const context = `Updating a calendar item (${smtp})`;
      const sentAtMs = await updateAppointment(service, id, version, fields, this.librarySettings, context);
      return this.writeResultOf(service, id, context, sentAtMs, transport);
    });
  }

  async writeEvents(mailbox: string, writes: readonly EventWrite[]): Promise<EventWriteOutcome[]> {
    const smtp = checkMailbox(mailbox);
    if (!Array.isArray(writes)) throw new CalendarError('other', 'writeEvents needs a list of writes.');
    const perItem = (w: EventWrite) => (w.kind === 'create' ? this.createEvent(smtp, w.fields, w.syncTag) : this.updateEvent(smtp, w.id, w.version, w.fields));
    const problems = writes.map((w) => eventFieldsProblem(w.fields) ?? (w.kind === 'create' && !w.syncTag?.trim() ? 'An item the sync creates needs its sync tag.' : null));
    const valid = writes.filter((_, i) => problems[i] === null);
    let outcomes: EventWriteOutcome[];
    if (!this.ownSoap) {
      // Exchange 2007: one item at a time through the library.
      outcomes = [];
      for (const w of valid) {
        try {
          outcomes.push({ ok: true, result: await perItem(w) });
        } catch (error) {
          if (!(error instanceof CalendarError)) throw error;
          outcomes.push({ ok: false, error });
        }
      }
    } else {
      const context = `Writing calendar items (${smtp})`;
      outcomes = valid.length === 0 ? [] : await this.call('Writing calendar items', smtp, (_service, transport) =>
        writeBatch(this.itemCalls(transport, smtp, context), valid, perItem, (lastModified, sentAtMs) => this.clock.recordWrite(lastModified, sentAtMs, Date.now())),
      );
    }
    let k = 0;
    return problems.map((p) => (p === null ? outcomes[k++] : { ok: false, error: new CalendarError('other', p) }));
  }

  async deleteEvent(mailbox: string, id: string): Promise<void> {
    const smtp = checkMailbox(mailbox);
    checkId(id);
    return this.call('Deleting a calendar item', smtp, async (service) => {
      const responses = await service.DeleteItems([new ItemId(id)], DeleteMode.MoveToDeletedItems, SendCancellationsMode.SendToNone, null as unknown as AffectedTaskOccurrence);
      const response = responses.Responses[0];
      const error = response ? responseError(response) : null;
      if (error && error !== 'ErrorItemNotFound') throw calendarErrorFor(error, response?.ErrorMessage, `Deleting a calendar item (${smtp})`);
    });
  }

  async resolveMailbox(email: string): Promise<string | null> {
    if (typeof email !== 'string' || !EMAIL_RE.test(email.trim())) return null;
    const wanted = email.trim().toLowerCase();
    return this.call('Resolving a mailbox address', null, async (service) => {
      let resolutions;
      try {
        resolutions = await service.ResolveName(wanted, ResolveNameSearchLocation.DirectoryOnly, false);
      } catch (error) {
        if (error instanceof ServiceResponseException && responseCodeName(error.ErrorCode) === 'ErrorNameResolutionNoResults') return null;
        throw error;
      }
      const mailboxes = resolutions
        .GetEnumerator()
        .map((r) => r.Mailbox)
        .filter((m) => m && typeof m.Address === 'string' && m.Address.includes('@') && (m.MailboxType === undefined || m.MailboxType === null || m.MailboxType === MailboxType.Mailbox));
      if (mailboxes.length === 0) return null;
      const exact = mailboxes.find((m) => m.Address.toLowerCase() === wanted);
      // An alias resolves to one mailbox whose primary address differs from what was asked; ambiguity is not a match.
      const chosen = exact ?? (mailboxes.length === 1 ? mailboxes[0] : null);
      return chosen ? chosen.Address.trim().toLowerCase() : null;
    });
  }

  /**
   * Proves the login of the connector's own account (no impersonation) with a request only a logged-in account gets an
   * EWS answer to: ResolveNames for the account's own name. Resolves only on that proof: 'resolved' (names came back)
   * or 'answered' (an EWS response message, e.g. "no such name"). Anything else throws, never counts as a login:
   * CalendarError('auth') for a refused login, otherwise whatever stood in the way (HTTP status, fault, network).
   */
  async verifyLogin(): Promise<'resolved' | 'answered'> {
    const name = this.options.username.trim().replace(/^.*\\/, '').replace(/@.*$/, '') || 'login-check';
    return this.call('Logging in', null, async (service) => {
      try {
        await service.ResolveName(name, ResolveNameSearchLocation.DirectoryOnly, false);
        return 'resolved' as const;
      } catch (error) {
        if (error instanceof ServiceResponseException) return 'answered' as const;
        throw error;
      }
    });
  }

  /**
   * Near real time (ews-change-watch.ts): streaming notifications on Exchange 2010 SP1 and later, grouped by anchor
   * mailbox with affinity, renewed before their timeout; SyncFolderItems polling every `pollIntervalMs` on Exchange
   * 2007 or where Exchange refuses streaming.
   */
  watchChanges(events: ChangeWatchEvents, options: { pollIntervalMs: number }): ChangeWatch {
    const pollIntervalMs = options?.pollIntervalMs;
    if (typeof pollIntervalMs !== 'number' || !Number.isFinite(pollIntervalMs) || pollIntervalMs < 100) throw new CalendarError('config', 'The poll interval must be at least 100 ms.');
    const client = new EwsNotificationClient({
      ewsUrl: this.options.ewsUrl,
      transportSettings: this.transportSettings,
      basicUser: this.basicUser,
      password: this.options.password,
      pool: this.pool,
      onRequest: this.options.onRequest,
    });
    return new EwsChangeWatch(
      {
        client,
        version: ExchangeVersion[this.version] as string,
        streamingSupported: this.version !== ExchangeVersion.Exchange2007_SP1,
        // HangingConnectionLimit: 10 on Exchange 2016/2019/SE, 3 on 2013 (and taken as 3 on 2010 SP1+).
        hangingConnectionLimit: this.version >= ExchangeVersion.Exchange2016 ? 10 : 3,
        pollIntervalMs,
        requestTimeoutMs: this.options.timeoutMs,
        options: this.options.watch ?? {},
      },
      events,
    );
  }

  /** Opens the mailbox's calendar through impersonation with the cheapest request there is; throws what fails. */

  async probeMailboxAccess(mailbox: string): Promise<void> {
    const smtp = checkMailbox(mailbox);
    return this.call('Opening the calendar', smtp, async (service) => {
      await service.SyncFolderItems(new FolderId(WellKnownFolderName.Calendar), new PropertySet(BasePropertySet.IdOnly), null as unknown as ItemId[], 1, SyncFolderItemsScope.NormalItems, null as unknown as string);
    });
  }

  /**
   * Logs in with the connector's own credentials (a user's, not the delegate's), without impersonation, and opens
   * the calendar of `email` explicitly: succeeds only when that login may open that mailbox. Returns the primary
   * address Exchange knows the mailbox by; keeps nothing.
   */
  async verifyOwnLogin(email: string): Promise<string | null> {
    const smtp = checkMailbox(email);
    return this.call('Checking the mailbox login', null, async (service) => {
      await service.SyncFolderItems(new FolderId(WellKnownFolderName.Calendar, new Mailbox(smtp)), new PropertySet(BasePropertySet.IdOnly), null as unknown as ItemId[], 1, SyncFolderItemsScope.NormalItems, null as unknown as string);
      const resolutions = await service.ResolveName(smtp, ResolveNameSearchLocation.DirectoryOnly, false).catch(() => null);
      const first = resolutions?.GetEnumerator()[0]?.Mailbox?.Address;
      return typeof first === 'string' ? first.toLowerCase() : null;
    });
  }

}
