/**
 * Test fixtures for moving mailboxes: a small Contoso in on-premises Exchange (EWS seed, any server version) and in
 * Exchange Online (Graph seed, the same people), Aino's calendar with what a move must carry (a series with a moved and
 * a deleted occurrence, a meeting with Mikko, a private entry carrying the sync's tag), and the EWS requests the move
 * tests send over HTTP (hand-written SOAP, read with fast-xml-parser through ews-test-client.ts).
 */
import type { EwsSeed, EwsSimulator } from './ews/ews-simulator.ts';
import { startEwsSimulator } from './ews/ews-simulator.ts';
import { itemShape, messages, soap } from './ews/ews-test-client.ts';
import type { GraphSeed, GraphSimulator } from './graph/graph-simulator.ts';
import { startGraphSimulator } from './graph/graph-simulator.ts';

export const AINO = 'aino.virtanen@contoso.example';
export const AINO_ALIAS = 'aino@contoso.example';
export const MIKKO = 'mikko.lahtinen@contoso.example';
/** The product's sync tag: the property set and name as EWS writes them, and the same property as Graph names it. */
export const TAG_SET = '8b5e2f1c-3d4a-4c6b-9e7f-5a1d2c3b4e60';
export const TAG_NAME = 'SeveraActivityGuid';
export const TAG_ID = `String {${TAG_SET}} Name ${TAG_NAME}`;
export const APP_ID = '0b0b0b0b-0000-4000-8000-000000000001';
export const TENANT = '0b0b0b0b-0000-4000-8000-0000000a0000';

export function ewsSeed(version = 'Exchange2016'): EwsSeed {
  return {
    timeZone: 'Europe/Helsinki',
    server: { version, authMethods: ['Negotiate', 'NTLM', 'Basic'], computerName: version === 'Exchange2016' ? 'EXCH16' : 'EXCH10' },
    delegates: [
      { username: 'svc-severa-sync', password: 'demo-delegate-password', impersonation: 'all' },
      { username: 'svc-limited', password: 'demo-limited-password', impersonation: [MIKKO] },
    ],
    mailboxes: [
      { primarySmtp: AINO, aliases: [AINO_ALIAS], displayName: 'Aino Virtanen', username: 'aino.virtanen', password: 'demo-aino-password' },
      { primarySmtp: MIKKO, displayName: 'Mikko Lahtinen', username: 'mikko.lahtinen', password: 'demo-mikko-password' },
    ],
    items: [
      {
        mailbox: AINO,
        subject: 'Weekly',
        start: '2030-03-18T09:00:00+02:00',
        end: '2030-03-18T09:30:00+02:00',
        recurrence: { pattern: { type: 'Weekly', interval: 1, daysOfWeek: ['Monday'] }, range: { type: 'Numbered', startDate: '2030-03-18', count: 6 } },
        modifiedOccurrences: [{ originalStart: 3, subject: 'Weekly (after DST)', location: 'Room B', shiftMinutes: 60 }],
        deletedOccurrences: [4],
      },
      { mailbox: AINO, subject: 'Customer meeting', start: '2030-04-10T13:00:00+03:00', end: '2030-04-10T14:00:00+03:00', requiredAttendees: [MIKKO], location: 'Sauna' },
      {
        mailbox: AINO,
        subject: 'Dentist',
        start: '2030-04-12T08:00:00+03:00',
        end: '2030-04-12T09:00:00+03:00',
        sensitivity: 'Private',
        timeZone: 'Europe/Stockholm',
        extendedProperties: [{ propertySetId: TAG_SET, propertyName: TAG_NAME, propertyType: 'String', value: 'activity-42' }],
      },
      { mailbox: MIKKO, subject: 'Mikko alone', start: '2030-04-11T10:00:00+03:00', end: '2030-04-11T11:00:00+03:00' },
    ],
  };
}

/** The same people in Exchange Online: Aino without a mailbox there yet (a hybrid's on-premises user), Mikko with one. */
export function graphSeed(): GraphSeed {
  return {
    timeZone: 'Europe/Helsinki',
    tenant: { id: TENANT, domains: ['contoso.example', 'contoso.onmicrosoft.com'], displayName: 'Contoso' },
    apps: [{ clientId: APP_ID, displayName: 'Severa Calendar Sync', secrets: [{ value: 'move-test-secret-1234' }], applicationPermissions: ['Calendars.ReadWrite', 'User.Read.All'] }],
    users: [
      { id: '0b0b0b0b-0000-4000-8000-00000000a1a1', userPrincipalName: AINO, aliases: [AINO_ALIAS], displayName: 'Aino Virtanen', password: 'demo-aino-password', mailbox: false },
      { id: '0b0b0b0b-0000-4000-8000-00000000a2a2', userPrincipalName: MIKKO, displayName: 'Mikko Lahtinen', password: 'demo-mikko-password' },
    ],
    events: [],
  };
}

const WEEK_MS = 7 * 86_400_000;
const weekEarlier = (iso: string): string => new Date(Date.parse(iso) - WEEK_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * A simulator whose items were created and last changed a week ago (its seed's snapshot with the times moved back), so
 * a test can tell a kept LastModifiedTime from one stamped by the import.
 */
export async function startAgedEws(seed: EwsSeed): Promise<EwsSimulator> {
  const fresh = await startEwsSimulator({ seed });
  const state = fresh.exportState();
  await fresh.close();
  for (const cal of state.calendars) {
    for (const x of cal.items) {
      x.item.lastModifiedTime = weekEarlier(x.item.lastModifiedTime);
      x.item.dateTimeCreated = weekEarlier(x.item.dateTimeCreated);
      for (const o of x.item.modifiedOccurrences) o.lastModifiedTime = weekEarlier(o.lastModifiedTime);
    }
  }
  return startEwsSimulator({ state });
}

/** The same for the Graph simulator. */
export async function startAgedGraph(seed: GraphSeed): Promise<GraphSimulator> {
  const fresh = await startGraphSimulator({ seed });
  const state = fresh.exportState();
  await fresh.close();
  for (const cal of state.calendars) {
    for (const e of cal.events) {
      e.modifiedMs -= WEEK_MS;
      e.createdMs -= WEEK_MS;
      for (const x of e.exceptions) x.createdMs = x.modifiedMs -= WEEK_MS;
    }
  }
  return startGraphSimulator({ state });
}

// ---- EWS requests ----------------------------------------------------------------------------------------------------------

export interface EwsAnswer {
  status: number;
  code: string;
  text: string;
}

const CALENDAR = '<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds>';

/** The first response message's code (or the SOAP fault's) and text. */
/** The simulator asked: its URL, and the RequestServerVersion sent (its own highest). */
export interface EwsServer {
  url: string;
  serverVersion: string;
}

async function ask(sim: EwsServer, operation: string, body: string, mailbox: string | undefined, user?: { user: string; password: string }): Promise<EwsAnswer & { message: any; messages: any[] }> {
  const r = await soap(sim.url, body, { impersonate: mailbox, version: sim.serverVersion, ...user });
  const all = messages(r, operation);
  const fault = (r.json as any)?.Envelope?.Body?.Fault;
  const faultText = typeof fault?.faultstring === 'object' ? fault.faultstring['#text'] : fault?.faultstring;
  return { status: r.status, code: all[0]?.ResponseCode ?? fault?.detail?.ResponseCode ?? `HTTP ${r.status}`, text: all[0]?.MessageText ?? faultText ?? '', message: all[0], messages: all };
}

export const ews = {
  getFolder: (sim: EwsServer, mailbox: string | undefined, user?: { user: string; password: string }) =>
    ask(sim, 'GetFolder', '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>', mailbox, user),
  resolve: (sim: EwsServer, name: string, mailbox: string) =>
    ask(sim, 'ResolveNames', `<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>${name}</m:UnresolvedEntry></m:ResolveNames>`, mailbox),
  /** Masters and single items with the fields a move must keep. */
  items: async (sim: EwsServer, mailbox: string) => {
    const found = await ask(sim, 'FindItem', `<m:FindItem Traversal="Shallow">${itemShape('IdOnly')}${CALENDAR}</m:FindItem>`, mailbox);
    const ids: string[] = (found.message?.RootFolder?.Items?.CalendarItem ?? []).map((c: any) => c.ItemId['@Id']);
    if (!ids.length) return { ...found, items: [] as any[] };
    const props = ['item:Subject', 'calendar:UID', 'calendar:Start', 'calendar:End', 'item:Sensitivity', 'item:LastModifiedTime', 'item:DateTimeCreated', 'calendar:Organizer', 'calendar:RequiredAttendees', 'calendar:ModifiedOccurrences', 'calendar:DeletedOccurrences', 'calendar:Recurrence']
      .map((f) => `<t:FieldURI FieldURI="${f}"/>`)
      .join('');
    const tag = `<t:ExtendedFieldURI PropertySetId="${TAG_SET}" PropertyName="${TAG_NAME}" PropertyType="String"/>`;
    const got = await ask(sim, 'GetItem', `<m:GetItem>${itemShape('IdOnly', props + tag)}<m:ItemIds>${ids.map((id) => `<t:ItemId Id="${id}"/>`).join('')}</m:ItemIds></m:GetItem>`, mailbox, undefined);
    return { ...got, items: got.messages.map((m) => m.Items?.CalendarItem?.[0]).filter(Boolean) };
  },
  /** Items carrying the sync tag with this value (FindItem with a restriction on the extended property). */
  findByTag: async (sim: EwsServer, mailbox: string, value: string) => {
    const r = await ask(
      sim,
      'FindItem',
      `<m:FindItem Traversal="Shallow">${itemShape('IdOnly', '<t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:UID"/>')}<m:Restriction><t:IsEqualTo><t:ExtendedFieldURI PropertySetId="${TAG_SET}" PropertyName="${TAG_NAME}" PropertyType="String"/><t:FieldURIOrConstant><t:Constant Value="${value}"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>${CALENDAR}</m:FindItem>`,
      mailbox,
    );
    return { ...r, items: (r.message?.RootFolder?.Items?.CalendarItem ?? []) as any[] };
  },
  /** Occurrences, exceptions and single items between two instants, as "start subject". */
  view: async (sim: EwsServer, mailbox: string, from: string, to: string) => {
    const r = await ask(sim, 'FindItem', `<m:FindItem Traversal="Shallow">${itemShape('IdOnly', '<t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/>')}<m:CalendarView StartDate="${from}" EndDate="${to}"/>${CALENDAR}</m:FindItem>`, mailbox);
    return { ...r, entries: ((r.message?.RootFolder?.Items?.CalendarItem ?? []) as any[]).map((c) => `${c.Start} ${c.Subject}`) };
  },
};
