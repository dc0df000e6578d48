/**
 * Moving mailboxes, the Graph simulator's side: a user's Exchange Online mailbox state at run time (none, moving,
 * active, moved-away; what calendar calls answer in each is in graph-routes.ts' authorize and README.md, "Moving
 * mailboxes"), and users added at run time (a user synced to Entra ID while the simulator runs).
 */
import { MailboxCalendar } from './calendar-store.ts';
import type { Runtime } from './graph-state.ts';
import type { DirectoryUser } from './graph-directory.ts';
import type { GraphMailboxState, GraphSeedUser } from './graph-seed.ts';
import { GraphSeedError, userSchema } from './graph-seed.ts';

function configEntry(rt: Runtime, user: DirectoryUser): GraphSeedUser {
  const entry = rt.config.users.find((u) => u.id.toLowerCase() === user.id);
  if (!entry) throw new Error(`${user.mail} is missing from the simulator's config`);
  return entry;
}

/**
 * Sets a user's mailbox state. Moving or active gives the user a calendar if they had none (a move's target imports into
 * it while calls still answer 404); moved-away empties it: its events go, its delta sync states with them (old delta
 * links get 410), its numbering stays so ids are never reused; none removes it. Kept in state snapshots.
 */
export function setMailboxState(rt: Runtime, user: DirectoryUser, state: GraphMailboxState): void {
  const { store } = rt;
  if (state === 'none') store.calendars.delete(user.id);
  else if (!store.calendars.has(user.id)) store.calendars.set(user.id, new MailboxCalendar(user));
  if (state === 'moved-away' && user.mailboxState !== 'moved-away') {
    const cal = store.calendars.get(user.id)!;
    for (const e of [...cal.events.values()]) cal.remove(e);
    cal.syncStates.clear();
  }
  user.mailboxState = state;
  const entry = configEntry(rt, user);
  delete entry.mailbox;
  if (state === 'active') delete entry.mailboxState;
  else entry.mailboxState = state;
}

/** A user added while the simulator runs (checked as a seed's user; an id or address already taken is refused). */
export function addUser(rt: Runtime, user: GraphSeedUser): DirectoryUser {
  const parsed = userSchema.safeParse(user);
  if (!parsed.success) throw new GraphSeedError(`Invalid user ${String(user?.userPrincipalName)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const u = parsed.data;
  for (const key of [u.id, u.userPrincipalName, u.mail ?? u.userPrincipalName, ...(u.aliases ?? [])]) {
    const taken = rt.directory.userByAnyAddress(key);
    if (taken) throw new GraphSeedError(`Cannot add ${u.userPrincipalName}: ${key} already belongs to ${taken.userPrincipalName}`);
  }
  const added = rt.directory.addUser(u);
  rt.config.users.push(structuredClone(u));
  if (added.mailboxState !== 'none') rt.store.calendars.set(added.id, new MailboxCalendar(added));
  return added;
}
