/**
 * Moving mailboxes, the EWS simulator's side: a mailbox's move state and what requests on it are answered while it moves
 * and after it left, exporting its calendar as the neutral shape and importing one under new ids (no invitations), and
 * adding a mailbox at run time (the target of a move between two Exchange servers). The sources for the answers are in
 * README.md, "Moving mailboxes".
 */
import type { NeutralMailbox } from '../common/neutral-mailbox.ts';
import { ewsItemsFromNeutral, neutralFromEwsItems } from '../common/neutral-ews-items.ts';
import type { Mailbox } from './directory.ts';
import { BackDoorError } from './ews-service.ts';
import type { EwsService } from './ews-service.ts';
import type { NotificationHub } from './notification-hub.ts';
import type { EwsMailboxState, EwsSeedMailbox } from './seed.ts';
import { SeedError, mailboxSchema } from './seed.ts';
import { EwsError } from './soap-envelope.ts';

/** Operations that never open a mailbox (directory and server look-ups): answered whatever state the mailbox is in. */
const SERVER_OPERATIONS = new Set(['ResolveNames', 'ConvertId', 'GetServerTimeZones']);

/**
 * What a request acting on `mailbox` (impersonated, or the caller's own) is answered instead of running, by the mailbox's
 * move state: ErrorMailboxMoveInProgress while it moves, ErrorMailboxStoreUnavailable while the move completes (the
 * mailbox is locked for the final copy), and once it lives elsewhere ErrorNonExistentMailbox with Exchange's
 * "No mailbox with such guid." (the account still resolves; only its mailbox is gone). Null: run the request.
 */
export function moveStateRefusal(mailbox: Mailbox | undefined, operation: string): { code: string; message?: string } | null {
  if (!mailbox || mailbox.state === 'active' || SERVER_OPERATIONS.has(operation)) return null;
  switch (mailbox.state) {
    case 'moving':
      return { code: 'ErrorMailboxMoveInProgress' };
    case 'completing':
      return { code: 'ErrorMailboxStoreUnavailable' };
    case 'moved-away':
      return { code: 'ErrorNonExistentMailbox', message: 'No mailbox with such guid.' };
  }
}

function mailboxOf(service: EwsService, address: string): Mailbox {
  const mb = service.directory.mailboxByAddress(address);
  if (!mb) throw new BackDoorError(`No mailbox has the address ${address}`);
  return mb;
}

/** The mailbox's calendar as neutral JSON (whatever its state: the mover reads the store, not EWS). */
export function exportMailboxCalendar(service: EwsService, address: string): NeutralMailbox {
  const mb = mailboxOf(service, address);
  return neutralFromEwsItems({ address: mb.primary, displayName: mb.displayName }, service.backDoor(mb.primary).items());
}

/**
 * Adds a neutral mailbox's items to this mailbox's calendar under new ItemIds, keeping UIDs, times and zones, series
 * with their modified and deleted occurrences, extended properties, sensitivity, organizer and attendees, created and
 * last-modified times. Nobody is invited: attendees' calendars are not touched. Returns how many items were added.
 */
export function importMailboxCalendar(service: EwsService, address: string, data: NeutralMailbox): number {
  const mb = mailboxOf(service, address);
  const contents = ewsItemsFromNeutral(data);
  const nowMs = service.nowMs();
  contents.forEach((c, i) => {
    const item = service.blankItem(mb, c, nowMs);
    item.organizer = c.organizer;
    item.myResponseType = c.myResponseType;
    item.dateTimeCreated = c.dateTimeCreated;
    try {
      const stored = service.addItem(mb, item, nowMs, false);
      stored.data.lastModifiedTime = c.lastModifiedTime;
    } catch (e) {
      const why = e instanceof EwsError ? `${e.code}: ${e.message}` : (e as Error).message;
      throw new BackDoorError(`items[${i}] ('${c.subject}') cannot be imported into ${mb.primary}: ${why}`);
    }
  });
  return contents.length;
}

function configOf(service: EwsService, mb: Mailbox): EwsSeedMailbox {
  const entry = service.config.mailboxes.find((m) => m.primarySmtp.toLowerCase() === mb.primary);
  if (!entry) throw new Error(`${mb.primary} is missing from the simulator's config`);
  return entry;
}

/** Everything the calendar held goes, without notifications or cancellations: the mailbox now lives on another server. */
function emptyCalendar(service: EwsService, mb: Mailbox): void {
  const cal = mb.calendar;
  const hook = cal.onChange;
  cal.onChange = null;
  try {
    const nowMs = service.nowMs();
    for (const s of [...cal.items.values()]) cal.delete(s, 'HardDelete', nowMs);
    cal.deletedFolder.clear();
    cal.recoverable.length = 0;
  } finally {
    cal.onChange = hook;
  }
}

/**
 * Sets where the mailbox is in a move. Going to moved-away empties its calendar (numbers are not reused, so a mailbox
 * that comes back gets new ItemIds). The state is kept in state snapshots.
 */
export function setMailboxState(service: EwsService, address: string, state: EwsMailboxState): void {
  const mb = mailboxOf(service, address);
  if (state === 'moved-away' && mb.state !== 'moved-away') emptyCalendar(service, mb);
  mb.state = state;
  const entry = configOf(service, mb);
  if (state === 'active') delete entry.state;
  else entry.state = state;
}

export interface AddMailboxOptions {
  /** Default: the config's `state`, else active. A move's target starts moved-away (its mailbox is still elsewhere). */
  state?: EwsMailboxState;
  /** Delegate accounts (user names) that get impersonation of it, besides those allowed every mailbox. */
  impersonatedBy?: string[];
}

/** A mailbox added while the simulator runs, as if created (or mail-enabled) on this server; kept in state snapshots. */
export function addMailbox(service: EwsService, hub: NotificationHub, config: EwsSeedMailbox, o: AddMailboxOptions = {}): Mailbox {
  const parsed = mailboxSchema.safeParse({ ...config, ...(o.state ? { state: o.state } : {}) });
  if (!parsed.success) throw new SeedError(`Invalid mailbox ${config.primarySmtp}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const delegates = (o.impersonatedBy ?? []).map((name) => {
    const d = service.directory.delegate(name);
    if (!d) throw new SeedError(`No delegate account ${name} to grant impersonation of ${config.primarySmtp}`);
    return d;
  });
  // Checked before anything is registered, so a refused mailbox leaves the directory as it was.
  const dir = service.directory;
  const m = parsed.data;
  const taken = [m.primarySmtp, ...(m.aliases ?? [])].find((a) => dir.mailboxByAddress(a));
  if (taken) throw new SeedError(`Cannot add ${m.primarySmtp}: the address ${taken} belongs to ${dir.mailboxByAddress(taken)!.primary}`);
  const login = [m.username, m.upn ?? `${m.username}@${dir.dnsDomain}`].find((l) => dir.findPrincipal(l));
  if (login) throw new SeedError(`Cannot add ${m.primarySmtp}: the login ${login} is taken`);
  if (m.guid && dir.mailboxByGuid(m.guid.toLowerCase())) throw new SeedError(`Cannot add ${m.primarySmtp}: the guid ${m.guid} is taken`);
  const mb = dir.addMailbox(m);
  const entry: EwsSeedMailbox = { ...parsed.data, guid: mb.guid };
  if (entry.state === 'active') delete entry.state;
  service.config.mailboxes.push(entry as (typeof service.config.mailboxes)[number]);
  hub.watchMailbox(mb);
  for (const d of delegates) {
    if (d.impersonation === 'all') continue;
    d.impersonation.add(mb.guid);
    const seeded = service.config.delegates?.find((x) => x.username.toLowerCase() === d.username.toLowerCase());
    if (seeded && seeded.impersonation !== 'all') seeded.impersonation.push(mb.primary);
  }
  return mb;
}
