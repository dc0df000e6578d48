import type { SeveraStore } from './activity-store.ts';
import { dateParam, pageReply, rowCountOf, strings, type RouteAdder } from './http-routing.ts';

/** The Severa simulator's directory routes: the organization's activity types and users, filtered and paged. */

export function addDirectoryRoutes(route: RouteAdder, store: SeveraStore): void {
  route('ActivityTypes_GetActivityTypes', (ctx) => {
    const q = ctx.query;
    const categories = strings(q.category);
    const since = dateParam(q.changedSince);
    const page = store.listSimple(
      store.typeList,
      (t) => (typeof q.active !== 'boolean' || t.isActive === q.active) && (!categories || categories.includes(t.category)) && (since === undefined || t.updatedMs >= since),
      (q.pageToken as string | null) ?? null,
      rowCountOf(q),
      JSON.stringify(['types', q.active, categories, since]),
    );
    return pageReply(page.items.map((t) => store.renderType(t)), page.nextPageToken);
  });

  route('Users_GetUsers', (ctx) => {
    const q = ctx.query;
    const email = typeof q.email === 'string' && q.email ? q.email.toLowerCase() : null;
    const since = dateParam(q.changedSince);
    const page = store.listSimple(
      store.userList,
      (u) => (typeof q.isActive !== 'boolean' || u.isActive === q.isActive) && (email === null || (u.email ?? '').toLowerCase() === email) && (since === undefined || u.updatedMs >= since),
      (q.pageToken as string | null) ?? null,
      rowCountOf(q),
      JSON.stringify(['users', q.isActive, email, since]),
    );
    return pageReply(page.items.map((u) => store.renderUser(u)), page.nextPageToken);
  });
}
