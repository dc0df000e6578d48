/**
 * Never a crash: valid requests of every operation, mutated at random (seeded, so a failure replays), must each get a
 * proper answer (a response or a SOAP fault with an EWS code), never the simulator's internal-error fault, and the
 * server must keep serving afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEwsSimulator } from './ews-simulator.ts';
import type { EwsRequestLogEntry, EwsSeed, EwsSimulator } from './ews-simulator.ts';
import { createOne, envelope, faultCode, itemShape, post } from './ews-test-client.ts';

const AINO = 'aino.virtanen@contoso.example';
const seed: EwsSeed = {
  timeZone: 'Europe/Helsinki',
  server: { authMethods: ['Basic'] },
  delegates: [{ username: 'svc-severa-sync', password: 'demo-delegate-password', impersonation: 'all' }],
  mailboxes: [{ primarySmtp: AINO, displayName: 'Aino Virtanen', username: 'aino.virtanen', password: 'demo-aino-password' }],
  items: [
    {
      mailbox: AINO,
      subject: 'Series',
      start: '2026-03-02T09:00:00+02:00',
      end: '2026-03-02T10:00:00+02:00',
      recurrence: { pattern: { type: 'Daily', interval: 2 }, range: { type: 'Numbered', startDate: '2026-03-02', count: 10 } },
    },
  ],
};

let sim: EwsSimulator;
const internal: EwsRequestLogEntry[] = [];
let item: { id: string; changeKey: string };
let seriesId: string;

beforeAll(async () => {
  sim = await startEwsSimulator({ seed, onRequest: (e) => e.note?.startsWith('internal error') && internal.push(e) });
  item = await createOne(sim.url, AINO, 'Fuzz target', '2026-05-01T10:00:00Z', '2026-05-01T11:00:00Z');
  seriesId = sim.mailbox(AINO).items().find((i) => i.subject === 'Series')!.id;
});
afterAll(async () => {
  await sim?.close();
});

function templates(): string[] {
  const ext = '<t:ExtendedFieldURI PropertySetId="8b5e2f1c-3d4a-4c6b-9e7f-5a1d2c3b4e60" PropertyName="SeveraGuid" PropertyType="String"/>';
  return [
    `<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>F</t:Subject><t:Body BodyType="HTML">&lt;b&gt;x&lt;/b&gt;</t:Body><t:Sensitivity>Private</t:Sensitivity><t:ExtendedProperty>${ext}<t:Value>g</t:Value></t:ExtendedProperty><t:Start>2026-06-01T10:00:00</t:Start><t:End>2026-06-01T11:00:00</t:End><t:IsAllDayEvent>false</t:IsAllDayEvent><t:Location>L</t:Location><t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>mikko@contoso.example</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees><t:Recurrence><t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence><t:EndDateRecurrence><t:StartDate>2026-06-01</t:StartDate><t:EndDate>2026-12-31</t:EndDate></t:EndDateRecurrence></t:Recurrence><t:StartTimeZone Id="FLE Standard Time"/></t:CalendarItem></m:Items></m:CreateItem>`,
    `<m:GetItem>${itemShape('AllProperties', `<t:FieldURI FieldURI="item:TextBody"/>${ext}`)}<m:ItemIds><t:ItemId Id="${item.id}"/><t:OccurrenceItemId RecurringMasterId="${seriesId}" InstanceIndex="3"/><t:RecurringMasterItemId OccurrenceId="${seriesId}"/></m:ItemIds></m:GetItem>`,
    `<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="${item.id}" ChangeKey="${item.changeKey}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem><t:Start>2026-05-01T12:00:00Z</t:Start></t:CalendarItem></t:SetItemField><t:AppendToItemField><t:FieldURI FieldURI="item:Body"/><t:CalendarItem><t:Body BodyType="Text">more</t:Body></t:CalendarItem></t:AppendToItemField><t:DeleteItemField><t:FieldURI FieldURI="calendar:Location"/></t:DeleteItemField><t:SetItemField>${ext}<t:CalendarItem><t:ExtendedProperty>${ext}<t:Value>h</t:Value></t:ExtendedProperty></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange><t:ItemChange><t:OccurrenceItemId RecurringMasterId="${seriesId}" InstanceIndex="2"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Occ</t:Subject></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
    `<m:FindItem Traversal="Shallow">${itemShape('IdOnly')}<m:CalendarView MaxEntriesReturned="5" StartDate="2026-03-01T00:00:00Z" EndDate="2026-04-01T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>${AINO}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:ParentFolderIds></m:FindItem>`,
    `<m:FindItem Traversal="Shallow">${itemShape('Default')}<m:IndexedPageItemView MaxEntriesReturned="3" Offset="0" BasePoint="Beginning"/><m:Restriction><t:And><t:IsGreaterThan><t:FieldURI FieldURI="calendar:Start"/><t:FieldURIOrConstant><t:Constant Value="2026-01-01T00:00:00Z"/></t:FieldURIOrConstant></t:IsGreaterThan><t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="s"/></t:Contains></t:And></m:Restriction><m:SortOrder><t:FieldOrder Order="Descending"><t:FieldURI FieldURI="calendar:Start"/></t:FieldOrder></m:SortOrder><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`,
    `<m:SyncFolderItems>${itemShape('IdOnly')}<m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:Ignore><t:ItemId Id="${item.id}"/></m:Ignore><m:MaxChangesReturned>2</m:MaxChangesReturned></m:SyncFolderItems>`,
    `<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToNone"><m:ItemIds><t:OccurrenceItemId RecurringMasterId="${seriesId}" InstanceIndex="4"/></m:ItemIds></m:DeleteItem>`,
    `<m:ResolveNames ReturnFullContactData="true"><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>`,
    `<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="root"/><t:DistinguishedFolderId Id="deleteditems"/></m:FolderIds></m:GetFolder>`,
    `<m:ConvertId DestinationFormat="HexEntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="${item.id}" Mailbox="${AINO}"/></m:SourceIds></m:ConvertId>`,
  ];
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const JUNK = ['', '-1', '0', '99999999999', 'NaN', 'true', 'Monday Funday', '2026-13-45T25:61:00Z', '2026-02-29', 'AAMkAAAA', 'ÄÖ€', '&amp;', 'x'.repeat(3000), 'Exchange2016', 'FLE Standard Time', '<', ' '];

function mutate(xml: string, rnd: () => number): string {
  const pickJunk = (): string => JUNK[Math.floor(rnd() * JUNK.length)].replace(/</g, '&lt;');
  // Cutting the document short is only an XML error; the other mutations reach the operations.
  const k = Math.floor(rnd() * 9);
  switch (k === 8 ? 4 : k >> 1) {
    case 0: {
      // Replace one text node.
      const texts = [...xml.matchAll(/>([^<]+)</g)];
      if (!texts.length) return xml;
      const m = texts[Math.floor(rnd() * texts.length)];
      return xml.slice(0, m.index! + 1) + pickJunk() + xml.slice(m.index! + 1 + m[1].length);
    }
    case 1: {
      // Replace one attribute value.
      const attrs = [...xml.matchAll(/="([^"]*)"/g)];
      if (!attrs.length) return xml;
      const m = attrs[Math.floor(rnd() * attrs.length)];
      return xml.slice(0, m.index! + 2) + pickJunk().replace(/"/g, '') + xml.slice(m.index! + 2 + m[1].length);
    }
    case 2: {
      // Remove one element with its content.
      const tags = [...xml.matchAll(/<([mt]:\w+)[^>]*?(\/?)>/g)];
      if (!tags.length) return xml;
      const m = tags[Math.floor(rnd() * tags.length)];
      if (m[2] === '/') return xml.slice(0, m.index!) + xml.slice(m.index! + m[0].length);
      const close = xml.indexOf(`</${m[1]}>`, m.index!);
      return close < 0 ? xml : xml.slice(0, m.index!) + xml.slice(close + m[1].length + 3);
    }
    case 3: {
      // Duplicate one element.
      const tags = [...xml.matchAll(/<([mt]:\w+)[^>]*?(\/?)>/g)];
      if (!tags.length) return xml;
      const m = tags[Math.floor(rnd() * tags.length)];
      const end = m[2] === '/' ? m.index! + m[0].length : xml.indexOf(`</${m[1]}>`, m.index!) + m[1].length + 3;
      if (end < m.index!) return xml;
      const el = xml.slice(m.index!, end);
      return xml.slice(0, end) + el + xml.slice(end);
    }
    default:
      // Cut the document short.
      return xml.slice(0, Math.floor(rnd() * xml.length));
  }
}

describe('robustness', () => {
  it('answers 400 randomly mutated requests of every operation properly and keeps serving', async () => {
    const rnd = prng(20261121);
    const base = templates();
    const codes = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      let body = base[i % base.length];
      const rounds = 1 + Math.floor(rnd() * 3);
      for (let r = 0; r < rounds; r++) body = mutate(body, rnd);
      const res = await post(sim.url, envelope(body, { impersonate: AINO }));
      expect([200, 500], `request ${i}: ${body.slice(0, 300)}`).toContain(res.status);
      if (res.status === 500) {
        const code = faultCode(res);
        expect(code, `request ${i} got a 500 without an EWS code: ${res.text.slice(0, 300)}`).toMatch(/^Error/);
        codes.set(code!, (codes.get(code!) ?? 0) + 1);
      } else {
        expect(res.text).toMatch(/ResponseClass="(Success|Warning|Error)"/);
      }
    }
    expect(internal, JSON.stringify(internal.slice(0, 3))).toEqual([]);
    expect(codes.get('ErrorSchemaValidation')).toBeGreaterThan(0);
    const ok = await post(sim.url, envelope('<m:ResolveNames><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>'));
    expect(ok.status).toBe(200);
  });
});
