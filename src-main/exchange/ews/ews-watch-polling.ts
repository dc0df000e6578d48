import { CalendarError } from '../calendar-connector.ts';
import type { EwsNotificationClient } from './ews-notification-client.ts';

/**
 * The change watch's polling of one mailbox, where Exchange has no streaming notifications (Exchange 2007, a server
 * that refuses Subscribe) or no streaming connection is left for it: IdOnly SyncFolderItems on the calendar with the
 * poller's own sync state (not the sync engine's), every `intervalMs`. A poll with no change is one request; changes
 * page on until the last one. The first poll only takes the state (a baseline) and reports nothing.
 */

const SYNC_PAGE = 512;
/** Pages in one poll at most, against a server that keeps saying "more" without moving on. */
const MAX_PAGES = 10_000;

export type PollCause = 'refused' | 'capacity' | 'error';

export type PollOutcome =
  | { kind: 'baseline' }
  | { kind: 'changed'; changes: number }
  | { kind: 'quiet' }
  /** Exchange refused the poller's sync state: it starts over with a baseline; changes may have been missed. */
  | { kind: 'state-refused'; error: CalendarError }
  /** Nothing is lost: the next poll starts from the same state. */
  | { kind: 'failed'; error: CalendarError };

export class MailboxPoller {
  /** Why the mailbox is polled (shown as the watch mode's reason). */
  cause: PollCause;
  reason: string;
  private syncState: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly o: {
    mailbox: string;
    client: EwsNotificationClient;
    /** RequestServerVersion for the next poll. */
    version: () => string;
    intervalMs: number;
    onOutcome: (outcome: PollOutcome) => void;
  };

  constructor(o: MailboxPoller['o'], cause: PollCause, reason: string) {
    this.o = o;
    this.cause = cause;
    this.reason = reason;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pollOnce().catch(() => undefined), delayMs);
    this.timer.unref?.();
  }

  private async pollOnce(): Promise<void> {
    this.timer = null;
    const baseline = this.syncState === null;
    let outcome: PollOutcome;
    try {
      let state = this.syncState;
      let changes = 0;
      for (let pages = 0; pages < MAX_PAGES; pages++) {
        const page = await this.o.client.syncPage(this.o.mailbox, this.o.version(), state, SYNC_PAGE);
        if (this.stopped) return;
        changes += page.changes;
        const stuck = !page.includesLastItemInRange && page.syncState === state;
        state = page.syncState;
        if (page.includesLastItemInRange || stuck) break;
      }
      this.syncState = state;
      outcome = baseline ? { kind: 'baseline' } : changes > 0 ? { kind: 'changed', changes } : { kind: 'quiet' };
    } catch (error) {
      if (this.stopped) return;
      const e = error instanceof CalendarError ? error : new CalendarError('other', String(error));
      if (e.code === 'invalid-sync-state') this.syncState = null;
      outcome = e.code === 'invalid-sync-state' ? { kind: 'state-refused', error: e } : { kind: 'failed', error: e };
    }
    try {
      this.o.onOutcome(outcome);
    } finally {
      this.schedule(this.o.intervalMs);
    }
  }
}
