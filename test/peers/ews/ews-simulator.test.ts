/**
 * The simulator's own edge cases, driven with plain HTTP and hand-written SOAP: what real clients rarely send,
 * what a real server must refuse, and the fault modes tests rely on.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEwsSimulator } from './ews-simulator.ts';
import type { EwsSeed, EwsSimulator } from './ews-simulator.ts';
import { ntHash } from './ntlm.ts';
import { NS, bodyOf, calendarItemXml, createOne, createXml, envelope, faultCode, itemShape, messages, pick, post, soap } from './ews-test-client.ts';

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';

const seed: EwsSeed = {
  timeZone: 'Europe/Helsinki',
  server: { netbiosDomain: 'CONTOSO', dnsDomain: 'contoso.example', authMethods: ['Negotiate', 'NTLM', 'Basic'], maxRequestBytes: 64 * 1024 },
  delegates: [
    { username: 'svc-severa-sync', password: 'demo-delegate-password', impersonation: 'all' },
    { username: 'svc-limited', password: 'demo-limited-password', impersonation: [AINO] },
  ],
  mailboxes: [
    { primarySmtp: AINO, aliases: ['aino@contoso.example'], displayName: 'Aino Virtanen', username: 'aino.virtanen', password: 'demo-aino-password' },
    { primarySmtp: MIKKO, displayName: 'Mikko Lahtinen', username: 'mikko.lahtinen', password: 'demo-mikko-password' },
  ],
  items: [
    {
      mailbox: AINO,
      subject: 'Weekly',
      start: '2026-03-16T09:00:00+02:00',
      end: '2026-03-16T09:30:00+02:00',
      recurrence: { pattern: { type: 'Weekly', interval: 1, daysOfWeek: ['Monday'] }, range: { type: 'Numbered', startDate: '2026-03-16', count: 4 } },
      deletedOccurrences: ['2026-04-06T09:00:00+03:00'],
      modifiedOccurrences: [{ originalStart: 2, subject: 'Weekly (after DST)', location: 'Room B' }],
    },
    { mailbox: AINO, subject: 'Customer meeting', start: '2026-04-20T13:00:00+03:00', end: '2026-04-20T14:00:00+03:00', requiredAttendees: [MIKKO] },
  ],
};

let sim: EwsSimulator;

beforeAll(async () => {
  sim = await startEwsSimulator({ seed });
});
afterAll(async () => {
  await sim?.close();
});

describe('authentication as IIS does it', () => {
  it('offers Negotiate, NTLM and Basic in a 401 when no credentials are sent', async () => {
    const res = await fetch(sim.url, { method: 'POST', body: envelope('<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>') });
    expect(res.status).toBe(401);
    const offered = res.headers.get('www-authenticate');
    expect(offered).toContain('Negotiate');
    expect(offered).toContain('NTLM');
    expect(offered).toMatch(/Basic realm="exch01\.contoso\.example"/);
  });

  it('accepts Basic as DOMAIN\\user and as a UPN, and refuses a wrong password', async () => {
    const body = '<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>';
    expect((await soap(sim.url, body, { user: 'CONTOSO\\svc-severa-sync' })).status).toBe(200);
    expect((await soap(sim.url, body, { user: 'svc-severa-sync@contoso.example' })).status).toBe(200);
    expect((await soap(sim.url, body, { user: 'OTHERDOM\\svc-severa-sync' })).status).toBe(401);
    expect((await soap(sim.url, body, { user: 'CONTOSO\\svc-severa-sync', password: 'wrong' })).status).toBe(401);
  });

  it('refuses Basic when the server has it disabled', async () => {
    const ntlmOnly = await startEwsSimulator({ seed: { ...seed, server: { ...seed.server, authMethods: ['Negotiate', 'NTLM'] } } });
    try {
      const r = await soap(ntlmOnly.url, '<m:ResolveNames><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>');
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).not.toContain('Basic');
    } finally {
      await ntlmOnly.close();
    }
  });

  it('binds an NTLM login to the connection: later requests on it need no header, a new connection does', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const xml = envelope('<m:ResolveNames><m:UnresolvedEntry>mikko</m:UnresolvedEntry></m:ResolveNames>');
    const send = (authorization: string | undefined, a: Agent): Promise<{ status: number; wwwAuth: string[] }> =>
      new Promise((resolve, reject) => {
        const req = request(sim.url, { method: 'POST', agent: a, headers: { 'Content-Type': 'text/xml', ...(authorization ? { Authorization: authorization } : {}) } }, (res) => {
          res.resume();
          res.on('end', () => {
            const h = res.headers['www-authenticate'];
            resolve({ status: res.statusCode ?? 0, wwwAuth: Array.isArray(h) ? h : h ? [h] : [] });
          });
        });
        req.on('error', reject);
        req.end(xml);
      });
    try {
      const type1 = ntlmType1();
      const challenge = await send(`NTLM ${type1.toString('base64')}`, agent);
      expect(challenge.status).toBe(401);
      const type2 = Buffer.from(challenge.wwwAuth[0].replace(/^NTLM /, ''), 'base64');
      expect(type2.toString('latin1', 0, 8)).toBe('NTLMSSP\0');
      const ok = await send(`NTLM ${ntlmType3(type2, 'svc-severa-sync', 'CONTOSO', 'demo-delegate-password').toString('base64')}`, agent);
      expect(ok.status).toBe(200);
      expect((await send(undefined, agent)).status).toBe(200);
      const other = new Agent({ keepAlive: true, maxSockets: 1 });
      expect((await send(undefined, other)).status).toBe(401);
      other.destroy();
      // Wrong password on a fresh handshake.
      const again = await send(`NTLM ${type1.toString('base64')}`, agent);
      const t2 = Buffer.from(again.wwwAuth[0].replace(/^NTLM /, ''), 'base64');
      expect((await send(`NTLM ${ntlmType3(t2, 'svc-severa-sync', 'CONTOSO', 'nope').toString('base64')}`, agent)).status).toBe(401);
    } finally {
      agent.destroy();
    }
  });
});

describe('impersonation', () => {
  const getFolder = '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>';

  it('reaches a mailbox by primary address, alias or UPN, and refuses what the account may not impersonate', async () => {
    expect((await soap(sim.url, getFolder, { impersonate: 'aino@contoso.example' })).status).toBe(200);
    const byUpn = await soap(sim.url, getFolder, { header: `<t:ExchangeImpersonation><t:ConnectingSID><t:PrincipalName>aino.virtanen@contoso.example</t:PrincipalName></t:ConnectingSID></t:ExchangeImpersonation>` });
    expect(byUpn.status).toBe(200);
    const aliasAsPrimary = await soap(sim.url, getFolder, { header: `<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>aino@contoso.example</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>` });
    expect(faultCode(aliasAsPrimary)).toBe('ErrorNonExistentMailbox');
    const denied = await soap(sim.url, getFolder, { user: 'CONTOSO\\svc-limited', password: 'demo-limited-password', impersonate: MIKKO });
    expect(denied.status).toBe(500);
    expect(faultCode(denied)).toBe('ErrorImpersonateUserDenied');
    const unknown = await soap(sim.url, getFolder, { impersonate: 'ghost@contoso.example' });
    expect(faultCode(unknown)).toBe('ErrorNonExistentMailbox');
  });

  it('gives a user their own mailbox without impersonation, and a service account none', async () => {
    const own = await soap(sim.url, getFolder, { user: 'CONTOSO\\mikko.lahtinen', password: 'demo-mikko-password' });
    expect(messages(own, 'GetFolder')[0].ResponseCode).toBe('NoError');
    const none = await soap(sim.url, getFolder);
    expect(messages(none, 'GetFolder')[0].ResponseCode).toBe('ErrorMissingEmailAddress');
  });

  it('maps an alias to the primary address with ResolveNames', async () => {
    const r = await soap(sim.url, '<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>aino@contoso.example</m:UnresolvedEntry></m:ResolveNames>');
    const m = messages(r, 'ResolveNames')[0];
    expect(m.ResponseCode).toBe('NoError');
    expect(m.ResolutionSet.Resolution[0].Mailbox.EmailAddress).toBe(AINO);
    const none = await soap(sim.url, '<m:ResolveNames><m:UnresolvedEntry>nobody@elsewhere.example</m:UnresolvedEntry></m:ResolveNames>');
    expect(messages(none, 'ResolveNames')[0].ResponseCode).toBe('ErrorNameResolutionNoResults');
  });
});

describe('SOAP parsing and versions', () => {
  it('understands any prefixes and default namespaces', async () => {
    const xml =
      `<?xml version="1.0"?><Envelope xmlns="${NS.soap}"><Header><RequestServerVersion xmlns="${NS.t}" Version="Exchange2013"/>` +
      `<x:ExchangeImpersonation xmlns:x="${NS.t}"><x:ConnectingSID><x:SmtpAddress>${AINO}</x:SmtpAddress></x:ConnectingSID></x:ExchangeImpersonation></Header>` +
      `<Body><GetFolder xmlns="${NS.m}"><FolderShape><BaseShape xmlns="${NS.t}">Default</BaseShape></FolderShape>` +
      `<FolderIds><q:DistinguishedFolderId xmlns:q="${NS.t}" Id="calendar"/></FolderIds></GetFolder></Body></Envelope>`;
    const r = await post(sim.url, xml);
    expect(r.status).toBe(200);
    expect(pick(messages(r, 'GetFolder')[0], 'Folders', 'CalendarFolder', 'DisplayName')).toBe('Calendar');
    expect(pick(r.json, 'Envelope', 'Header', 'ServerVersionInfo', '@Version')).toBe('Exchange2013');
  });

  it('refuses a DOCTYPE (XXE and entity expansion) with ErrorSchemaValidation, without reading anything', async () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + envelope('<m:ResolveNames><m:UnresolvedEntry>&xxe;</m:UnresolvedEntry></m:ResolveNames>').replace(/^<\?xml[^>]*\?>/, '');
    const r = await post(sim.url, xxe);
    expect(r.status).toBe(500);
    expect(faultCode(r)).toBe('ErrorSchemaValidation');
    expect(r.text).not.toContain('root:');
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`;
    expect(faultCode(await post(sim.url, laughs))).toBe('ErrorSchemaValidation');
  });

  it('reports malformed XML with its line and position', async () => {
    const r = await post(sim.url, `<?xml version="1.0"?>\n<soap:Envelope xmlns:soap="${NS.soap}">\n<soap:Body><oops></soap:Body></soap:Envelope>`);
    expect(faultCode(r)).toBe('ErrorSchemaValidation');
    const xml = pick(bodyOf(r), 'Fault', 'detail', 'MessageXml');
    expect(xml.LineNumber).toBe('3');
  });

  it('refuses an oversize body with 413 and keeps serving', async () => {
    const big = envelope(`<m:ResolveNames><m:UnresolvedEntry>${'x'.repeat(70 * 1024)}</m:UnresolvedEntry></m:ResolveNames>`);
    const r = await post(sim.url, big).catch((e: unknown) => ({ status: -1, error: e }));
    expect([413, -1]).toContain(r.status);
    expect((await soap(sim.url, '<m:ResolveNames><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>')).status).toBe(200);
  });

  it('honours RequestServerVersion up to the server version and refuses others', async () => {
    const body = '<m:ResolveNames><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>';
    for (const v of ['Exchange2007_SP1', 'Exchange2010_SP2', 'Exchange2016']) {
      const r = await soap(sim.url, body, { version: v });
      expect(pick(r.json, 'Envelope', 'Header', 'ServerVersionInfo', '@Version')).toBe(v);
    }
    expect(faultCode(await soap(sim.url, body, { version: 'Exchange2019' }))).toBe('ErrorInvalidServerVersion');
    const old = await startEwsSimulator({ seed: { ...seed, server: { ...seed.server, version: 'Exchange2010_SP1' } } });
    try {
      expect(faultCode(await soap(old.url, body, { version: 'Exchange2013' }))).toBe('ErrorInvalidServerVersion');
      const ok = await soap(old.url, body, { version: 'Exchange2010' });
      expect(pick(ok.json, 'Envelope', 'Header', 'ServerVersionInfo', '@MajorVersion')).toBe('14');
    } finally {
      await old.close();
    }
  });

  it('answers an operation it does not implement with a SOAP fault, not a crash', async () => {
    const r = await soap(sim.url, '<m:GetUserOofSettingsRequest><t:Mailbox><t:Address>x</t:Address></t:Mailbox></m:GetUserOofSettingsRequest>');
    expect(r.status).toBe(500);
    expect(faultCode(r)).toBe('ErrorInvalidRequest');
  });
});

describe('calendar items', () => {
  it('needs SendMeetingInvitations on CreateItem', async () => {
    const r = await soap(sim.url, createXml(calendarItemXml('x', '2026-05-01T10:00:00Z', '2026-05-01T11:00:00Z'), ''), { impersonate: AINO });
    expect(messages(r, 'CreateItem')[0].ResponseCode).toBe('ErrorSendMeetingInvitationsRequired');
  });

  it('answers a GetItem batch item by item', async () => {
    const a = await createOne(sim.url, AINO, 'Batch A', '2026-05-02T10:00:00Z', '2026-05-02T11:00:00Z');
    const body = `<m:GetItem>${itemShape('IdOnly', '<t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="meetingRequest:IntendedFreeBusyStatus"/>')}<m:ItemIds><t:ItemId Id="${a.id}"/><t:ItemId Id="AAMkAAAAAAAAAEAAgAAAAAAA4KEBAAAAmQ=="/><t:ItemId Id="not-an-id"/></m:ItemIds></m:GetItem>`;
    const r = await soap(sim.url, body, { impersonate: AINO });
    const m = messages(r, 'GetItem');
    expect(m.map((x) => x.ResponseCode)).toEqual(['NoError', 'ErrorItemNotFound', 'ErrorInvalidIdMalformed']);
    expect(m[0].Items.CalendarItem[0].Subject).toBe('Batch A');
  });

  it('refuses an item id from another mailbox', async () => {
    const a = await createOne(sim.url, AINO, 'Aino only', '2026-05-03T10:00:00Z', '2026-05-03T11:00:00Z');
    const r = await soap(sim.url, `<m:GetItem>${itemShape()}<m:ItemIds><t:ItemId Id="${a.id}"/></m:ItemIds></m:GetItem>`, { impersonate: MIKKO });
    expect(messages(r, 'GetItem')[0].ResponseCode).toBe('ErrorItemNotFound');
  });

  it('checks the ChangeKey on UpdateItem: required, current, or a conflict', async () => {
    const a = await createOne(sim.url, AINO, 'Versioned', '2026-05-04T10:00:00Z', '2026-05-04T11:00:00Z');
    const update = (ck: string | null, subject: string, mode = 'AutoResolve') =>
      soap(
        sim.url,
        `<m:UpdateItem ConflictResolution="${mode}" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>` +
          `<t:ItemId Id="${a.id}"${ck ? ` ChangeKey="${ck}"` : ''}/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/>` +
          `<t:CalendarItem><t:Subject>${subject}</t:Subject></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
        { impersonate: AINO },
      );
    expect(messages(await update(null, 'v2'), 'UpdateItem')[0].ResponseCode).toBe('ErrorChangeKeyRequiredForWriteOperations');
    const ok = messages(await update(a.changeKey, 'v2'), 'UpdateItem')[0];
    expect(ok.ResponseCode).toBe('NoError');
    const newKey = ok.Items.CalendarItem[0].ItemId['@ChangeKey'];
    expect(newKey).not.toBe(a.changeKey);
    expect(messages(await update(a.changeKey, 'v3'), 'UpdateItem')[0].ResponseCode).toBe('ErrorIrresolvableConflict');
    expect(messages(await update(a.changeKey, 'v3', 'AlwaysOverwrite'), 'UpdateItem')[0].ResponseCode).toBe('NoError');
    expect(messages(await update('garbage', 'v4'), 'UpdateItem')[0].ResponseCode).toBe('ErrorInvalidChangeKey');
    expect(sim.mailbox(AINO).items().find((i) => i.id === a.id)?.subject).toBe('v3');
  });

  it('keeps an item moved to Deleted Items, readable there, and forgets a hard-deleted one', async () => {
    const a = await createOne(sim.url, AINO, 'To trash', '2026-05-05T10:00:00Z', '2026-05-05T11:00:00Z');
    const b = await createOne(sim.url, AINO, 'To nowhere', '2026-05-05T12:00:00Z', '2026-05-05T13:00:00Z');
    const del = (id: string, type: string) =>
      soap(sim.url, `<m:DeleteItem DeleteType="${type}" SendMeetingCancellations="SendToNone"><m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:DeleteItem>`, { impersonate: AINO });
    expect(messages(await del(a.id, 'MoveToDeletedItems'), 'DeleteItem')[0].ResponseCode).toBe('NoError');
    expect(messages(await del(b.id, 'HardDelete'), 'DeleteItem')[0].ResponseCode).toBe('NoError');
    const trash = sim.mailbox(AINO).deletedItems();
    expect(trash.map((i) => i.subject)).toContain('To trash');
    expect(trash.map((i) => i.subject)).not.toContain('To nowhere');
    const moved = trash.find((i) => i.subject === 'To trash')!;
    expect(moved.id).not.toBe(a.id);
    const found = await soap(
      sim.url,
      `<m:FindItem Traversal="Shallow">${itemShape('IdOnly', '<t:FieldURI FieldURI="item:Subject"/>')}<m:ParentFolderIds><t:DistinguishedFolderId Id="deleteditems"/></m:ParentFolderIds></m:FindItem>`,
      { impersonate: AINO },
    );
    expect(JSON.stringify(messages(found, 'FindItem')[0])).toContain('To trash');
    const again = await del(a.id, 'MoveToDeletedItems');
    expect(messages(again, 'DeleteItem')[0].ResponseCode).toBe('ErrorItemNotFound');
    const noFlag = await soap(sim.url, `<m:DeleteItem DeleteType="HardDelete"><m:ItemIds><t:ItemId Id="${moved.id}"/></m:ItemIds></m:DeleteItem>`, { impersonate: AINO });
    expect(messages(noFlag, 'DeleteItem')[0].ResponseCode).toBe('NoError'); // Deleted Items holds no calendar item any more
  });

  it('refuses a CalendarView over more than two years', async () => {
    const view = (s: string, e: string) =>
      soap(sim.url, `<m:FindItem Traversal="Shallow">${itemShape('IdOnly')}<m:CalendarView StartDate="${s}" EndDate="${e}"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`, {
        impersonate: AINO,
      });
    expect(messages(await view('2026-01-01T00:00:00Z', '2028-01-02T00:00:00Z'), 'FindItem')[0].ResponseCode).toBe('NoError');
    expect(messages(await view('2026-01-01T00:00:00Z', '2028-06-01T00:00:00Z'), 'FindItem')[0].ResponseCode).toBe('ErrorCalendarViewRangeTooBig');
  });

  it('expands a series across DST at the same wall-clock time, with its exception and without the deleted occurrence', async () => {
    const r = await soap(
      sim.url,
      `<m:FindItem Traversal="Shallow">${itemShape('IdOnly', '<t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:CalendarItemType"/><t:FieldURI FieldURI="calendar:Location"/>')}` +
        `<m:CalendarView MaxEntriesReturned="10" StartDate="2026-03-01T00:00:00Z" EndDate="2026-04-30T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`,
      { impersonate: AINO },
    );
    const items = pick(messages(r, 'FindItem')[0], 'RootFolder', 'Items', 'CalendarItem').filter((i: any) => i.Subject.startsWith('Weekly'));
    expect(items.map((i: any) => [i.Start, i.CalendarItemType])).toEqual([
      ['2026-03-16T07:00:00Z', 'Occurrence'], // 09:00 EET
      ['2026-03-23T07:00:00Z', 'Exception'],
      ['2026-03-30T06:00:00Z', 'Occurrence'], // 09:00 EEST, after the change on 29 March
    ]);
    expect(items[1]).toMatchObject({ Subject: 'Weekly (after DST)', Location: 'Room B' });
  });

  it('pages a CalendarView with MaxEntriesReturned and IncludesLastItemInRange', async () => {
    const r = await soap(
      sim.url,
      `<m:FindItem Traversal="Shallow">${itemShape('IdOnly')}<m:CalendarView MaxEntriesReturned="2" StartDate="2026-03-01T00:00:00Z" EndDate="2026-04-30T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`,
      { impersonate: AINO },
    );
    const root = pick(messages(r, 'FindItem')[0], 'RootFolder');
    expect(root['@IncludesLastItemInRange']).toBe('false');
    expect(root.Items.CalendarItem).toHaveLength(2);
  });

  it('gives an attendee the meeting with the organizer\'s UID', async () => {
    const org = sim.mailbox(AINO).items().find((i) => i.subject === 'Customer meeting')!;
    const copy = sim.mailbox(MIKKO).items().find((i) => i.subject === 'Customer meeting')!;
    expect(copy.uid).toBe(org.uid);
    expect(copy.id).not.toBe(org.id);
    expect(copy).toMatchObject({ organizer: AINO, myResponseType: 'Accept' });
  });
});

describe('calendar data', () => {
  const get = (id: string, props: string, mailbox = AINO, version?: string, bodyType?: string) =>
    soap(
      sim.url,
      `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>${bodyType ? `<t:BodyType>${bodyType}</t:BodyType>` : ''}<t:AdditionalProperties>${props}</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:GetItem>`,
      { impersonate: mailbox, version },
    ).then((r) => messages(r, 'GetItem')[0].Items.CalendarItem[0]);

  it('finds an extended property however the client names its set or tag', async () => {
    const a = await createOne(
      sim.url,
      AINO,
      'Tagged',
      '2026-06-01T10:00:00Z',
      '2026-06-01T11:00:00Z',
      '<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="SyncTag" PropertyType="String"/><t:Value>abc</t:Value></t:ExtendedProperty>' +
        '<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x3A4D" PropertyType="Integer"/><t:Value>42</t:Value></t:ExtendedProperty>',
    );
    const item = await get(
      a.id,
      '<t:ExtendedFieldURI PropertySetId="00020329-0000-0000-C000-000000000046" PropertyName="SyncTag" PropertyType="String"/><t:ExtendedFieldURI PropertyTag="14925" PropertyType="Integer"/>',
    );
    const props = item.ExtendedProperty as any[];
    expect(props.map((p) => p.Value)).toEqual(['abc', '42']);
    expect(props[0].ExtendedFieldURI['@PropertySetId']).toBe('00020329-0000-0000-C000-000000000046');
    const bad = await soap(sim.url, createXml(calendarItemXml('Bad', '2026-06-01T10:00:00Z', '2026-06-01T11:00:00Z', '<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x3A4D" PropertyType="Integer"/><t:Value>forty-two</t:Value></t:ExtendedProperty>')), { impersonate: AINO });
    expect(messages(bad, 'CreateItem')[0].ResponseCode).toBe('ErrorInvalidExtendedPropertyValue');
  });

  it('reads local times in the Exchange 2007 MeetingTimeZone and in a TimeZoneContext, and answers in UTC', async () => {
    const r2007 = await soap(
      sim.url,
      createXml(calendarItemXml('From 2007', '2026-07-01T09:00:00', '2026-07-01T10:00:00', '<t:MeetingTimeZone TimeZoneName="Pacific Standard Time"><t:BaseOffset>PT8H</t:BaseOffset></t:MeetingTimeZone>').replace(/(<t:MeetingTimeZone[\s\S]*<\/t:MeetingTimeZone>)(<t:Start>.*<\/t:End>)/, '$2$1')),
      { impersonate: AINO, version: 'Exchange2007_SP1' },
    );
    expect(messages(r2007, 'CreateItem')[0].ResponseCode).toBe('NoError');
    const item2007 = sim.mailbox(AINO).items().find((i) => i.subject === 'From 2007')!;
    expect([item2007.start, item2007.timeZone]).toEqual(['2026-07-01T16:00:00Z', 'America/Los_Angeles']);
    const readBack = await get(item2007.id, '<t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:MeetingTimeZone"/><t:FieldURI FieldURI="calendar:StartTimeZone"/>', AINO, 'Exchange2007_SP1');
    expect(readBack.Start).toBe('2026-07-01T16:00:00Z');
    expect(readBack.MeetingTimeZone['@TimeZoneName']).toBe('Pacific Standard Time');
    expect(readBack.StartTimeZone).toBeUndefined(); // not before Exchange 2010

    const ctx = '<t:TimeZoneContext><t:TimeZoneDefinition Id="Tokyo Standard Time"/></t:TimeZoneContext>';
    const rCtx = await soap(sim.url, createXml(calendarItemXml('In Tokyo', '2026-07-02T09:00:00', '2026-07-02T10:00:00')), { impersonate: AINO, header: ctx });
    expect(messages(rCtx, 'CreateItem')[0].ResponseCode).toBe('NoError');
    const tokyo = sim.mailbox(AINO).items().find((i) => i.subject === 'In Tokyo')!;
    expect([tokyo.start, tokyo.timeZone]).toEqual(['2026-07-02T00:00:00Z', 'Asia/Tokyo']);
    const full = await get(tokyo.id, '<t:FieldURI FieldURI="calendar:StartTimeZone"/>');
    expect(full.StartTimeZone['@Id']).toBe('Tokyo Standard Time');
    expect(full.StartTimeZone.Periods.Period['@Bias']).toBe('-PT9H');
  });

  it('keeps all-day items on local midnights of their zone', async () => {
    const r = await soap(
      sim.url,
      createXml(calendarItemXml('Holiday', '2026-12-24T10:00:00Z', '2026-12-25T09:00:00Z', '<t:IsAllDayEvent>true</t:IsAllDayEvent>').replace('<t:Start>', '<t:StartTimeZone Id="FLE Standard Time"/><t:Start>')),
      { impersonate: AINO },
    );
    expect(messages(r, 'CreateItem')[0].ResponseCode).toBe('NoError');
    const item = sim.mailbox(AINO).items().find((i) => i.subject === 'Holiday')!;
    expect([item.start, item.end, item.isAllDay]).toEqual(['2026-12-23T22:00:00Z', '2026-12-25T22:00:00Z', true]);
  });

  it('converts the body to the type the shape asks for', async () => {
    const a = await createOne(sim.url, AINO, 'With body', '2026-06-03T10:00:00Z', '2026-06-03T11:00:00Z', '<t:Body BodyType="HTML">&lt;p&gt;Agenda &amp;amp; notes&lt;/p&gt;</t:Body>');
    const asText = await get(a.id, '<t:FieldURI FieldURI="item:Body"/>', AINO, undefined, 'Text');
    expect(asText.Body).toMatchObject({ '@BodyType': 'Text', '#text': 'Agenda & notes' });
    const best = await get(a.id, '<t:FieldURI FieldURI="item:Body"/>');
    expect(best.Body['@BodyType']).toBe('HTML');
  });

  it('sends meeting invitations, updates and cancellations to attendees\' calendars unless SendToNone', async () => {
    const attendees = `<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>${MIKKO}</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>`;
    const silent = await soap(sim.url, createXml(calendarItemXml('Quiet meeting', '2026-06-04T10:00:00Z', '2026-06-04T11:00:00Z', attendees), 'SendToNone'), { impersonate: AINO });
    expect(messages(silent, 'CreateItem')[0].ResponseCode).toBe('NoError');
    expect(sim.mailbox(MIKKO).items().some((i) => i.subject === 'Quiet meeting')).toBe(false);

    const sent = await soap(sim.url, createXml(calendarItemXml('Planning', '2026-06-05T10:00:00Z', '2026-06-05T11:00:00Z', attendees), 'SendToAllAndSaveCopy'), { impersonate: AINO });
    const id = messages(sent, 'CreateItem')[0].Items.CalendarItem[0].ItemId;
    const org = sim.mailbox(AINO).items().find((i) => i.id === id['@Id'])!;
    const copy = sim.mailbox(MIKKO).items().find((i) => i.uid === org.uid)!;
    expect(copy).toMatchObject({ subject: 'Planning', organizer: AINO, myResponseType: 'NoResponseReceived' });

    const upd = await soap(
      sim.url,
      `<m:UpdateItem ConflictResolution="AutoResolve" SendMeetingInvitationsOrCancellations="SendToAllAndSaveCopy"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id['@Id']}" ChangeKey="${id['@ChangeKey']}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="calendar:Location"/><t:CalendarItem><t:Location>Room 7</t:Location></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
      { impersonate: AINO },
    );
    expect(messages(upd, 'UpdateItem')[0].ResponseCode).toBe('NoError');
    expect(sim.mailbox(MIKKO).items().find((i) => i.uid === org.uid)!.location).toBe('Room 7');

    const del = await soap(sim.url, `<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToAllAndSaveCopy"><m:ItemIds><t:ItemId Id="${id['@Id']}"/></m:ItemIds></m:DeleteItem>`, { impersonate: AINO });
    expect(messages(del, 'DeleteItem')[0].ResponseCode).toBe('NoError');
    expect(sim.mailbox(MIKKO).items().find((i) => i.uid === org.uid)).toMatchObject({ subject: 'Canceled: Planning', isCancelled: true });
  });

  it('lists the server time zones', async () => {
    const r = await soap(sim.url, '<m:GetServerTimeZones ReturnFullTimeZoneData="false"><m:Ids><t:Id>FLE Standard Time</t:Id></m:Ids></m:GetServerTimeZones>');
    const defs = pick(messages(r, 'GetServerTimeZones')[0], 'TimeZoneDefinitions', 'TimeZoneDefinition');
    expect(defs['@Id']).toBe('FLE Standard Time');
  });
});

describe('SyncFolderItems', () => {
  const sync = (state: string | null, max = 512, mailbox = MIKKO) =>
    soap(
      sim.url,
      `<m:SyncFolderItems>${itemShape('IdOnly')}<m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId>${state === null ? '' : `<m:SyncState>${state}</m:SyncState>`}<m:MaxChangesReturned>${max}</m:MaxChangesReturned></m:SyncFolderItems>`,
      { impersonate: mailbox },
    );

  it('refuses a sync state that is corrupt, from another mailbox or another server run', async () => {
    const first = messages(await sync(null), 'SyncFolderItems')[0];
    expect(first.ResponseCode).toBe('NoError');
    expect(messages(await sync('AAAAbogus'), 'SyncFolderItems')[0].ResponseCode).toBe('ErrorInvalidSyncStateData');
    expect(messages(await sync(first.SyncState, 512, AINO), 'SyncFolderItems')[0].ResponseCode).toBe('ErrorInvalidSyncStateData');
    const other = await startEwsSimulator({ seed });
    try {
      const r = await soap(
        other.url,
        `<m:SyncFolderItems>${itemShape('IdOnly')}<m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:SyncState>${first.SyncState}</m:SyncState><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>`,
        { impersonate: MIKKO },
      );
      expect(messages(r, 'SyncFolderItems')[0].ResponseCode).toBe('ErrorInvalidSyncStateData');
    } finally {
      await other.close();
    }
  });

  it('limits MaxChangesReturned to 1..512', async () => {
    expect(faultCode(await sync(null, 0))).toBe('ErrorSchemaValidation');
    expect(faultCode(await sync(null, 513))).toBe('ErrorSchemaValidation');
  });

  it('pages with MaxChangesReturned, each item once, and reports series masters, not occurrences', async () => {
    const seen: string[] = [];
    let state: string | null = null;
    for (let page = 0; page < 100; page++) {
      const m: any = messages(await sync(state, 1, AINO), 'SyncFolderItems')[0];
      const creates = [m.Changes?.Create ?? []].flat();
      seen.push(...creates.map((c: any) => c.CalendarItem[0].ItemId['@Id']));
      state = m.SyncState;
      if (m.IncludesLastItemInRange === 'true') break;
    }
    const ids = sim.mailbox(AINO).items().map((i) => i.id);
    expect(ids.length).toBeGreaterThan(3);
    expect(seen.sort()).toEqual([...ids].sort()); // each once: no duplicates, none missing
  });
});

describe('fault injection, counters and the clock', () => {
  it('skews the HTTP Date header', async () => {
    sim.setClockSkewMs(3_600_000);
    const r = await soap(sim.url, '<m:ResolveNames><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>');
    const skew = Date.parse(r.headers.get('date')!) - Date.now();
    expect(skew).toBeGreaterThan(3_500_000);
    expect(skew).toBeLessThan(3_700_000);
    sim.setClockSkewMs(0);
  });

  it('answers with a non-SOAP HTML 500, a 503, a dropped connection and ErrorMailboxMoveInProgress on demand', async () => {
    const body = `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>`;
    sim.setFaults({ forceNext: { kind: 'nonSoap500', count: 1 } });
    const html = await soap(sim.url, body, { impersonate: AINO });
    expect(html.status).toBe(500);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.text).toContain('500 - Internal server error.');

    sim.setFaults({ forceNext: { kind: 'nonSoap500', count: 1 }, nonSoap500Body: '<x/>' });
    const bare = await soap(sim.url, body, { impersonate: AINO });
    expect([bare.status, bare.text, bare.headers.get('content-type')]).toEqual([500, '<x/>', 'text/xml; charset=utf-8']);

    sim.setFaults({ forceNext: { kind: 'http503', count: 1 } });
    expect((await soap(sim.url, body, { impersonate: AINO })).status).toBe(503);

    sim.setFaults({ forceNext: { kind: 'dropConnection', count: 1 } });
    await expect(soap(sim.url, body, { impersonate: AINO })).rejects.toThrow();

    sim.setFaults({ forceNext: { kind: 'mailboxMove', count: 1 } });
    expect(messages(await soap(sim.url, body, { impersonate: AINO }), 'GetFolder')[0].ResponseCode).toBe('ErrorMailboxMoveInProgress');

    expect((await soap(sim.url, body, { impersonate: AINO })).status).toBe(200);
    expect(sim.faultsInjected()).toMatchObject({ nonSoap500: 2, http503: 1, dropConnection: 1, mailboxMove: 1 });
    sim.setFaults({});
  });

  it('draws random faults from a seed, the same way every run, only where asked', async () => {
    const run = async (): Promise<number[]> => {
      sim.setFaults({ seed: 42, serverBusyRate: 0.5, onlyMailboxes: [MIKKO] });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await soap(sim.url, '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>', { impersonate: MIKKO })).status);
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain(500);
    expect(a).toContain(200);
    const other = await soap(sim.url, '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>', { impersonate: AINO });
    expect(other.status).toBe(200);
    sim.setFaults({});
  });

  it('counts requests per operation and per mailbox', async () => {
    sim.resetCounters();
    await soap(sim.url, '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>', { impersonate: AINO });
    await soap(sim.url, '<m:ResolveNames><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>');
    await soap(sim.url, '<m:ResolveNames><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>', { password: 'wrong' });
    expect(sim.counters()).toEqual({ total: 2, byOperation: { GetFolder: 1, ResolveNames: 1 }, byMailbox: { [AINO]: 1 } });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The client half of NTLM, enough for the connection-binding test (the server half is what is under test).

function ntlmType1(): Buffer {
  const b = Buffer.alloc(32);
  b.write('NTLMSSP\0', 0, 'latin1');
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(0x00000001 | 0x00000004 | 0x00000200 | 0x00080000 | 0x00800000 | 0x20000000, 12);
  return b;
}

function ntlmType3(type2: Buffer, user: string, domain: string, password: string): Buffer {
  const challenge = type2.subarray(24, 32);
  const tiLen = type2.readUInt16LE(40);
  const tiOff = type2.readUInt32LE(44);
  const targetInfo = type2.subarray(tiOff, tiOff + tiLen);
  const ntowf = createHmac('md5', ntHash(password)).update(Buffer.from(user.toUpperCase() + domain, 'utf16le')).digest();
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64LE((BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n);
  const blob = Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), ts, randomBytes(8), Buffer.alloc(4), targetInfo, Buffer.alloc(4)]);
  const proof = createHmac('md5', ntowf).update(Buffer.concat([challenge, blob])).digest();
  const nt = Buffer.concat([proof, blob]);
  const fields = [Buffer.alloc(24), nt, Buffer.from(domain, 'utf16le'), Buffer.from(user, 'utf16le'), Buffer.from('WS', 'utf16le')];
  const header = Buffer.alloc(64);
  header.write('NTLMSSP\0', 0, 'latin1');
  header.writeUInt32LE(3, 8);
  let offset = 64;
  fields.forEach((f, i) => {
    header.writeUInt16LE(f.length, 12 + i * 8);
    header.writeUInt16LE(f.length, 14 + i * 8);
    header.writeUInt32LE(offset, 16 + i * 8);
    offset += f.length;
  });
  header.writeUInt32LE(0x00000001 | 0x00080000 | 0x00800000, 60);
  return Buffer.concat([header, ...fields]);
}

