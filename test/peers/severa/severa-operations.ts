/**
 * The Severa operations this simulator serves, as the simulator itself knows them: method, path, the OAuth2 scopes each
 * needs and the type of each query parameter (for turning query text into typed values). These are facts of the
 * public API, written here so the simulator runs without the vendor's OpenAPI document (a user's clone has no
 * ../shared). Where the document is present, `severa-operations.test.ts` checks this table against it, and the
 * simulator also validates every request and response against the document (openapi-contract.ts).
 */

export type QueryKind = 'string' | 'integer' | 'boolean' | 'string[]';

export interface SeveraOperation {
  operationId: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path template under /rest-api, e.g. /v1/activities/{guid}. */
  path: string;
  scopes: readonly string[];
  query: Readonly<Record<string, QueryKind>>;
  /** Whether the operation takes a JSON request body. */
  jsonBody: boolean;
}

const PAGING = { pageToken: 'string', rowCount: 'integer' } as const;

export const SEVERA_OPERATIONS: readonly SeveraOperation[] = [
  { operationId: 'PublicBearerAuthentication_GetLoginToken', method: 'POST', path: '/v1/token', scopes: [], query: {}, jsonBody: true },
  { operationId: 'PublicBearerAuthentication_GetAccessTokenTokenFromRefreshToken', method: 'POST', path: '/v1/refreshtoken', scopes: [], query: {}, jsonBody: true },
  { operationId: 'HeartBeat_GetAuthorization', method: 'GET', path: '/heartbeat/authorized', scopes: [], query: {}, jsonBody: false },
  {
    operationId: 'Activities_GetActivities',
    method: 'GET',
    path: '/v1/activities',
    scopes: ['activities:read'],
    query: {
      ...PAGING,
      closed: 'boolean',
      activityCategories: 'string[]',
      customerGuids: 'string[]',
      includeTasksWithNoCustomer: 'boolean',
      projectGuids: 'string[]',
      includeTasksWithNoProject: 'boolean',
      projectBusinessUnitGuids: 'string[]',
      projectOwnerGuids: 'string[]',
      userGuids: 'string[]',
      includeAsMember: 'boolean',
      userKeywordGuids: 'string[]',
      startDateTime: 'string',
      endDateTime: 'string',
      projectTaskStatusGuids: 'string[]',
      phaseGuids: 'string[]',
      includeSubPhases: 'boolean',
      contactGuids: 'string[]',
      hasDuration: 'boolean',
      hasHours: 'boolean',
      isUnassigned: 'boolean',
      changedSince: 'string',
      useStrictStartAndEndDateTime: 'boolean',
      activityTypeGuids: 'string[]',
      recurrenceType: 'string',
    },
    jsonBody: false,
  },
  { operationId: 'Activities_PostActivity', method: 'POST', path: '/v1/activities', scopes: ['activities:write'], query: {}, jsonBody: true },
  { operationId: 'Activities_GetActivity', method: 'GET', path: '/v1/activities/{guid}', scopes: ['activities:read'], query: {}, jsonBody: false },
  { operationId: 'Activities_PatchActivity', method: 'PATCH', path: '/v1/activities/{guid}', scopes: ['activities:write'], query: {}, jsonBody: true },
  { operationId: 'Activities_DeleteActivity', method: 'DELETE', path: '/v1/activities/{guid}', scopes: ['activities:delete'], query: {}, jsonBody: false },
  {
    operationId: 'ActivityParticipants_GetActivityParticipants',
    method: 'GET',
    path: '/v1/activities/{activityGuid}/activityparticipants',
    scopes: ['activities:read'],
    query: {},
    jsonBody: false,
  },
  {
    operationId: 'ActivityParticipants_DeleteActivityParticipant',
    method: 'DELETE',
    path: '/v1/activities/{activityGuid}/activityparticipants/{activityParticipantGuid}',
    scopes: ['activities:delete'],
    query: {},
    jsonBody: false,
  },
  { operationId: 'ActivityParticipants_PostActivityParticipant', method: 'POST', path: '/v1/activityparticipants', scopes: ['activities:write'], query: {}, jsonBody: true },
  { operationId: 'ActivityParticipants_GetActivityParticipant', method: 'GET', path: '/v1/activityparticipants/{guid}', scopes: ['activities:read'], query: {}, jsonBody: false },
  {
    operationId: 'ActivityTypes_GetActivityTypes',
    method: 'GET',
    path: '/v1/activitytypes',
    scopes: ['settings:read'],
    query: { active: 'boolean', ...PAGING, changedSince: 'string', category: 'string[]' },
    jsonBody: false,
  },
  {
    operationId: 'Users_GetUsers',
    method: 'GET',
    path: '/v1/users',
    scopes: ['users:read'],
    query: {
      ...PAGING,
      isActive: 'boolean',
      businessUnitGuids: 'string[]',
      keywordGuids: 'string[]',
      changedSince: 'string',
      supervisorUserGuids: 'string[]',
      code: 'string',
      email: 'string',
      purpose: 'string',
    },
    jsonBody: false,
  },
];

export function severaOperation(operationId: string): SeveraOperation {
  const op = SEVERA_OPERATIONS.find((o) => o.operationId === operationId);
  if (!op) throw new Error(`The simulator serves no operation ${operationId}.`);
  return op;
}

/**
 * Query text -> typed values per the operation's parameters (arrays: repeated keys, style form explode). Values that do
 * not convert stay strings, so a schema check (where the document is present) reports them and handlers ignore them.
 */
export function typedQuery(op: SeveraOperation, query: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(op.query)) {
    if (!query.has(name)) continue;
    const values = query.getAll(name);
    if (kind === 'string[]') out[name] = values.filter((v) => v !== '');
    else if (values.length > 1) out[name] = values; // a scalar given twice: the schema check rejects the array
    else out[name] = values[0] === '' ? null : convertScalar(values[0], kind);
  }
  return out;
}

function convertScalar(text: string, kind: Exclude<QueryKind, 'string[]'>): unknown {
  if (kind === 'integer') return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
  if (kind === 'boolean') return /^true$/i.test(text) ? true : /^false$/i.test(text) ? false : text;
  return text;
}
