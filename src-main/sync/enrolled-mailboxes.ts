import type { SyncStore } from '../store/sync-store.ts';
import type { SeveraSnapshot } from './severa-snapshot.ts';

/** An enrolled user by mailbox address and by enrollment email (both lower-cased): who owns an enrolled organizer's meeting. */
export type EnrolledByMailbox = Map<string, { email: string; severaGuid: string }>;

/**
 * Adds the enrolled users this cycle does not sync (a live cycle or `sync --user` syncs a few): they are enrolled all the
 * same, so the activity of a meeting one of them organizes is theirs, whichever attendee's sync creates it. Otherwise
 * an attendee synced alone would own it, and her leaving the meeting would delete it for everyone, the organizer's
 * meeting included (K20 of the real-time soak). Known by the email and by the mailbox their last sync resolved; one
 * never synced is known by the email only (no request is spent resolving a mailbox this cycle does not sync).
 */
export function addEnrolledElsewhere(known: EnrolledByMailbox, emails: readonly string[], snapshot: SeveraSnapshot, store: SyncStore): void {
  for (const raw of emails) {
    const email = raw.trim().toLowerCase();
    const guid = snapshot.userByEmail(email)?.guid;
    if (!guid) continue;
    const mailbox = store.getUser(email)?.mailbox?.toLowerCase();
    for (const key of [email, mailbox]) if (key && !known.has(key)) known.set(key, { email, severaGuid: guid });
  }
}
