/**
 * Graph v1.0 as the simulator serves it: the route table (its own knowledge of paths, methods and query options, checked
 * against Microsoft's OpenAPI document by a test where that document is present), user resolution (/users/{id | UPN},
 * /me for delegated tokens), the permission model (application roles with admin consent, delegated scopes, an
 * application access policy limiting an app to some mailboxes, users without an Exchange Online mailbox), the
 * /users endpoints, and dispatch to the event handlers.
 */
import type { CalendarStore } from './calendar-store.ts';
import type { Directory, DirectoryUser } from './graph-directory.ts';
import { proxyAddressesOf } from './graph-directory.ts';
import { GraphError, accessDenied } from './graph-errors.ts';
import type { GraphResult } from './graph-errors.ts';
import type { EventRequest } from './graph-events.ts';
import { calendarView, checkPreferredZone, createEvent, deleteEvent, getEvent, instances, listEvents, updateEvent } from './graph-events.ts';
import { calendarViewDelta } from './delta-tokens.ts';
import type { DeltaSettings } from './delta-tokens.ts';
import { preferBodyType, preferredMaxPageSize, preferredTimeZone } from './graph-time.ts';
import type { Caller } from './identity-platform.ts';
import { ODataQueryError, evaluateFilter, parseFilter, parseSelect } from './odata-query.ts';

export type Permission = 'calendar-read' | 'calendar-write' | 'user-read' | 'none';

export interface RouteSpec {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The simulator's path template (after /v1.0); `{user-id}` also matches `me` for delegated callers. */
  pattern: string;
  /** The path of the OpenAPI document's operation this route answers as, or null when the document has none. */
  contractPath: string | null;
  /** Query options the route honours. */
  query: string[];
  /** Query options the document lists that the route answers 400 to (documented as unsupported). */
  refused: string[];
  permission: Permission;
}

const LIST = ['$top', '$skip', '$filter', '$count', '$orderby', '$select', '$expand'];
const WINDOW = ['startDateTime', 'endDateTime'];

/** The simulator's routes. Order matters only for readability: patterns do not overlap. */
export const GRAPH_ROUTES: RouteSpec[] = [
  { name: 'users.list', method: 'GET', pattern: '/users', contractPath: null, query: ['$filter', '$select', '$top', '$count'], refused: [], permission: 'user-read' },
  { name: 'users.get', method: 'GET', pattern: '/users/{user-id}', contractPath: '/users/{user-id}', query: ['$select', '$expand'], refused: [], permission: 'user-read' },
  { name: 'events.list', method: 'GET', pattern: '/users/{user-id}/events', contractPath: '/users/{user-id}/calendar/events', query: LIST, refused: ['$search'], permission: 'calendar-read' },
  { name: 'events.list', method: 'GET', pattern: '/users/{user-id}/calendar/events', contractPath: '/users/{user-id}/calendar/events', query: LIST, refused: ['$search'], permission: 'calendar-read' },
  { name: 'events.create', method: 'POST', pattern: '/users/{user-id}/events', contractPath: '/users/{user-id}/calendar/events', query: [], refused: [], permission: 'calendar-write' },
  { name: 'events.create', method: 'POST', pattern: '/users/{user-id}/calendar/events', contractPath: '/users/{user-id}/calendar/events', query: [], refused: [], permission: 'calendar-write' },
  { name: 'events.get', method: 'GET', pattern: '/users/{user-id}/events/{event-id}', contractPath: '/users/{user-id}/events/{event-id}', query: ['$select', '$expand'], refused: [], permission: 'calendar-read' },
  { name: 'events.update', method: 'PATCH', pattern: '/users/{user-id}/events/{event-id}', contractPath: '/users/{user-id}/events/{event-id}', query: [], refused: [], permission: 'calendar-write' },
  { name: 'events.delete', method: 'DELETE', pattern: '/users/{user-id}/events/{event-id}', contractPath: '/users/{user-id}/events/{event-id}', query: [], refused: [], permission: 'calendar-write' },
  { name: 'events.get', method: 'GET', pattern: '/users/{user-id}/calendar/events/{event-id}', contractPath: '/users/{user-id}/events/{event-id}', query: ['$select', '$expand'], refused: [], permission: 'calendar-read' },
  { name: 'events.update', method: 'PATCH', pattern: '/users/{user-id}/calendar/events/{event-id}', contractPath: '/users/{user-id}/events/{event-id}', query: [], refused: [], permission: 'calendar-write' },
  { name: 'events.delete', method: 'DELETE', pattern: '/users/{user-id}/calendar/events/{event-id}', contractPath: '/users/{user-id}/events/{event-id}', query: [], refused: [], permission: 'calendar-write' },
  { name: 'events.instances', method: 'GET', pattern: '/users/{user-id}/events/{event-id}/instances', contractPath: '/users/{user-id}/events/{event-id}/instances', query: [...WINDOW, ...LIST], refused: ['$search'], permission: 'calendar-read' },
  { name: 'calendarView', method: 'GET', pattern: '/users/{user-id}/calendarView', contractPath: '/users/{user-id}/calendarView', query: [...WINDOW, ...LIST], refused: ['$search'], permission: 'calendar-read' },
  { name: 'calendarView', method: 'GET', pattern: '/users/{user-id}/calendar/calendarView', contractPath: '/users/{user-id}/calendarView', query: [...WINDOW, ...LIST], refused: ['$search'], permission: 'calendar-read' },
  // event-delta.md: $select is not honoured (the same properties as calendarView come back); $expand, $filter,
  // $orderby and $search are not supported.
  { name: 'calendarView.delta', method: 'GET', pattern: '/users/{user-id}/calendarView/delta', contractPath: '/users/{user-id}/calendarView/microsoft.graph.delta()', query: [...WINDOW, '$deltatoken', '$skiptoken', '$select', '$top', '$skip', '$count'], refused: ['$search', '$filter', '$orderby', '$expand'], permission: 'calendar-read' },
  { name: 'calendarView.delta', method: 'GET', pattern: '/users/{user-id}/calendarView/microsoft.graph.delta()', contractPath: '/users/{user-id}/calendarView/microsoft.graph.delta()', query: [...WINDOW, '$deltatoken', '$skiptoken', '$select', '$top', '$skip', '$count'], refused: ['$search', '$filter', '$orderby', '$expand'], permission: 'calendar-read' },
];

export interface RouteMatch {
  route: RouteSpec;
  params: Record<string, string>;
  /** The path with /me replaced by /users/{id} (for contract lookups). */
  canonicalPath: string;
}

/** Matches a path relative to /v1.0 (e.g. /users/a%40b/events); method mismatches give 405. */
export function matchRoute(method: string, path: string): RouteMatch | GraphError {
  const segs = path.split('/').filter(Boolean);
  if (segs[0]?.toLowerCase() === 'me') segs.splice(0, 1, 'users', 'me');
  let methodMismatch = false;
  for (const route of GRAPH_ROUTES) {
    const pat = route.pattern.split('/').filter(Boolean);
    if (pat.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pat.length; i++) {
      if (pat[i].startsWith('{')) params[pat[i].slice(1, -1)] = decodeURIComponent(segs[i]);
      else if (pat[i].toLowerCase() !== segs[i].toLowerCase()) ok = false;
    }
    if (!ok) continue;
    if (route.method !== method) {
      methodMismatch = true;
      continue;
    }
    return { route, params, canonicalPath: `/${segs.join('/')}` };
  }
  if (methodMismatch) return new GraphError(405, 'Request_BadRequest', `The HTTP method '${method}' is not allowed for the requested resource.`);
  const first = segs.find((s, i) => i > 0) ?? segs[0] ?? '';
  return new GraphError(400, 'BadRequest', `Resource not found for the segment '${decodeURIComponent(first)}'.`);
}

/** Query options with names lower-cased (Graph reads startdatetime and StartDateTime alike); unknown $options are 400. */
export function readQuery(url: URL, route: RouteSpec): Map<string, string> {
  const q = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    const name = k.toLowerCase();
    if (name.startsWith('$')) {
      if (route.refused.some((r) => r.toLowerCase() === name)) throw new GraphError(400, 'ErrorInvalidUrlQuery', `The query parameter '${k}' is not supported for this request.`);
      if (!route.query.some((r) => r.toLowerCase() === name)) throw new GraphError(400, 'BadRequest', `Query option '${k}' is not allowed for this request.`);
    }
    q.set(name, v);
  }
  return q;
}

export const USER_PROPERTIES = ['id', 'businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'proxyAddresses', 'otherMails', 'accountEnabled', 'mailNickname', 'userType'] as const;
const USER_DEFAULT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];

function userJson(u: DirectoryUser): Record<string, unknown> {
  return {
    id: u.id,
    businessPhones: [],
    displayName: u.displayName,
    givenName: u.givenName,
    jobTitle: u.jobTitle,
    mail: u.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: u.surname,
    userPrincipalName: u.userPrincipalName,
    proxyAddresses: proxyAddressesOf(u),
    otherMails: [],
    accountEnabled: u.accountEnabled,
    mailNickname: u.userPrincipalName.split('@')[0],
    userType: 'Member',
  };
}

function shapeUser(u: DirectoryUser, select: string[] | null): Record<string, unknown> {
  const full = userJson(u);
  const keep = select ?? USER_DEFAULT;
  const out: Record<string, unknown> = {};
  for (const k of keep) out[k] = full[k];
  return out;
}

export interface GraphContext {
  store: CalendarStore;
  directory: Directory;
  caller: Caller;
  method: string;
  url: URL;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  nowMs: number;
  delta: DeltaSettings;
  defaultPageSize: number;
  newerProperties: boolean;
  differ?: EventRequest['differ'];
}

function has(caller: Caller, ...perms: string[]): boolean {
  return caller.permissions.some((p) => perms.some((x) => x.toLowerCase() === p.toLowerCase()));
}

/** Resolves {user-id} (or me) for the route, applying Graph's and Exchange's answers for users it cannot serve. */
export function resolveTarget(ctx: GraphContext, m: RouteMatch): DirectoryUser | null {
  const raw = m.params['user-id'];
  if (raw === undefined) return null;
  if (raw.toLowerCase() === 'me') {
    if (ctx.caller.kind !== 'user') throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    return ctx.caller.user;
  }
  const user = ctx.directory.userByIdOrUpn(raw);
  if (m.route.permission === 'user-read') {
    if (!user) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${raw}' does not exist or one of its queried reference-property objects are not present.`);
    return user;
  }
  if (!user) throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${raw}' is invalid.`);
  return user;
}

/** The permission model: 403 without the role/scope; the access policy; users without a mailbox. */
export function authorize(ctx: GraphContext, m: RouteMatch, target: DirectoryUser | null): void {
  const c = ctx.caller;
  const p = m.route.permission;
  if (p === 'user-read') {
    const self = c.kind === 'user' && target !== null && target.id === c.user!.id;
    const ok = c.kind === 'app' ? has(c, 'User.Read.All', 'User.ReadBasic.All', 'Directory.Read.All') : self ? has(c, 'User.Read', 'User.ReadBasic.All') : has(c, 'User.ReadBasic.All', 'User.Read.All');
    if (!ok) throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    return;
  }
  if (p === 'none' || !target) return;
  const roles = p === 'calendar-write' ? ['Calendars.ReadWrite'] : ['Calendars.Read', 'Calendars.ReadWrite'];
  if (!has(c, ...roles)) throw accessDenied();
  if (c.kind === 'user' && target.id !== c.user!.id) throw accessDenied();
  if (c.kind === 'app' && !ctx.directory.appMayReach(c.app, target)) throw new GraphError(403, 'ErrorAccessDenied', 'Access to OData is disabled.');
  // Exchange Online has no usable mailbox: none yet, or one being moved (Microsoft documents no move-specific answer, so
  // it is answered as not yet enabled), or the mailbox moved to on-premises (the wording Graph gives for those).
  if (target.mailboxState === 'none' || target.mailboxState === 'moving') throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'REST API is not yet supported for this mailbox.');
  if (target.mailboxState === 'moved-away') throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
}

function usersList(ctx: GraphContext, query: Map<string, string>): GraphResult {
  const select = odata(() => parseSelect(query.get('$select') ?? null, 'user', USER_PROPERTIES));
  const f = query.get('$filter');
  let users = ctx.directory.users;
  if (f !== undefined) {
    const node = odata(() => parseFilter(f));
    users = odata(() => users.filter((u) => evaluateFilter(node, userJson(u), (s) => (USER_PROPERTIES as readonly string[]).includes(s[0]))));
  }
  const top = query.get('$top');
  const list = top !== undefined && /^\d+$/.test(top) ? users.slice(0, Number(top)) : users;
  return { status: 200, body: { '@odata.context': `${ctx.url.origin}/v1.0/$metadata#users`, value: list.map((u) => shapeUser(u, select)) } };
}

function odata<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ODataQueryError) throw new GraphError(400, e.code, e.message);
    throw e;
  }
}

/** Runs a matched, authorized request. */
export function runRoute(ctx: GraphContext, m: RouteMatch, target: DirectoryUser | null, query: Map<string, string>): GraphResult {
  if (m.route.name === 'users.list') return usersList(ctx, query);
  if (m.route.name === 'users.get') {
    if (query.has('$expand')) throw new GraphError(501, 'NotImplemented', '$expand on users is not simulated.');
    const select = odata(() => parseSelect(query.get('$select') ?? null, 'user', USER_PROPERTIES));
    return { status: 200, body: { '@odata.context': `${ctx.url.origin}/v1.0/$metadata#users/$entity`, ...shapeUser(target!, select) } };
  }
  const cal = ctx.store.calendarOf(target!);
  if (!cal) throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'REST API is not yet supported for this mailbox.');
  const prefer = ctx.headers.prefer;
  const ifMatch = ctx.headers['if-match'];
  const r: EventRequest = {
    store: ctx.store,
    cal,
    query,
    url: ctx.url,
    ifMatch: typeof ifMatch === 'string' ? ifMatch : null,
    timeZone: checkPreferredZone(preferredTimeZone(prefer)),
    bodyType: preferBodyType(prefer),
    maxPageSize: preferredMaxPageSize(prefer),
    defaultPageSize: ctx.defaultPageSize,
    nowMs: ctx.nowMs,
    newerProperties: ctx.newerProperties,
    differ: ctx.differ,
  };
  const id = m.params['event-id'];
  switch (m.route.name) {
    case 'events.list':
      return listEvents(r);
    case 'events.create':
      return createEvent(r, ctx.body);
    case 'events.get':
      return getEvent(r, id);
    case 'events.update':
      return updateEvent(r, id, ctx.body);
    case 'events.delete':
      return deleteEvent(r, id);
    case 'events.instances':
      return instances(r, id);
    case 'calendarView':
      return calendarView(r);
    case 'calendarView.delta':
      return calendarViewDelta(r, ctx.delta);
    default:
      throw new GraphError(501, 'NotImplemented', `${m.route.name} is not simulated.`);
  }
}
