/**
 * The simulator's streaming notifications over raw HTTP, read with fast-xml-parser: Subscribe and its affinity cookie,
 * a GetStreamingEvents answer that stays open (keep-alives, notifications for back-door edits, Closed at the timeout),
 * routing to the mailbox server that holds a subscription, the per-account connection limit, versions without
 * streaming, request validation, and the seeded streaming faults.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { startEwsSimulator } from './ews-simulator.ts';
import type { EwsSeed, EwsSimulator } from './ews-simulator.ts';
import { basicAuth, envelope, faultCode, messages, soap } from './ews-test-client.ts';

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const SARA = 'sara.nieminen@contoso.example';
const SUBSCRIBE = (events = ['CreatedEvent', 'ModifiedEvent', 'MovedEvent', 'DeletedEvent']): string =>
  `<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds><t:EventTypes>${events.map((e) => `<t:EventType>${e}</t:EventType>`).join('')}</t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>`;
const GSE = (ids: string[], minutes: string | number = 1): string =>
  `<m:GetStreamingEvents><m:SubscriptionIds>${ids.map((i) => `<t:SubscriptionId>${i}</t:SubscriptionId>`).join('')}</m:SubscriptionIds><m:ConnectionTimeout>${minutes}</m:ConnectionTimeout></m:GetStreamingEvents>`;

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, isArray: (n) => ['Notification', 'SubscriptionId', 'GetStreamingEventsResponseMessage', 'CreatedEvent', 'ModifiedEvent', 'MovedEvent', 'DeletedEvent'].includes(n) });

function seed(server: Record<string, unknown> = {}): EwsSeed {
  return {
    timeZone: 'Europe/Helsinki',
    server: { authMethods: ['NTLM', 'Basic'], ...server },
    delegates: [
      { username: 'svc-severa-sync', password: 'demo-delegate-password', impersonation: 'all' },
      { username: 'svc-other', password: 'demo-other-password', impersonation: 'all' },
    ],
    mailboxes: [
      { primarySmtp: AINO, displayName: 'Aino Virtanen', username: 'aino.virtanen', password: 'demo-aino-password' },
      { primarySmtp: MIKKO, displayName: 'Mikko Lahtinen', username: 'mikko.lahtinen', password: 'demo-mikko-password' },
      { primarySmtp: SARA, displayName: 'Sara Nieminen', username: 'sara.nieminen', password: 'demo-sara-password' },
    ],
    items: [],
  } as EwsSeed;
}

async function subscribe(sim: EwsSimulator, mailbox: string): Promise<{ id: string; cookie: string | null }> {
  const r = await soap(sim.url, SUBSCRIBE(), { impersonate: mailbox });
  const m = messages(r, 'Subscribe')[0];
  if (m?.ResponseCode !== 'NoError') throw new Error(`Subscribe failed: ${r.text}`);
  return { id: m.SubscriptionId, cookie: r.headers.get('set-cookie') };
}

interface Stream {
  status: number;
  envelopes: Array<Record<string, any>>;
  messages(): Array<Record<string, any>>;
  ended: Promise<'end' | 'error'>;
  abort(): void;
}

/** Opens GetStreamingEvents and collects every envelope as it arrives. */
async function openStream(sim: EwsSimulator, ids: string[], o: { impersonate?: string; minutes?: number | string; headers?: Record<string, string>; user?: string; password?: string } = {}): Promise<Stream> {
  const controller = new AbortController();
  const res = await fetch(sim.url, {
    method: 'POST',
    signal: controller.signal,
    headers: { 'Content-Type': 'text/xml; charset=utf-8', Authorization: basicAuth(o.user ?? 'CONTOSO\\svc-severa-sync', o.password ?? 'demo-delegate-password'), ...(o.headers ?? {}) },
    body: envelope(GSE(ids, o.minutes ?? 1), { impersonate: o.impersonate }),
  });
  const envelopes: Array<Record<string, any>> = [];
  let buffer = '';
  const ended = (async (): Promise<'end' | 'error'> => {
    try {
      const decoder = new TextDecoder();
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) break;
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('</s:Envelope>')) >= 0) {
          const doc = buffer.slice(0, end + '</s:Envelope>'.length);
          buffer = buffer.slice(end + '</s:Envelope>'.length);
          envelopes.push(parser.parse(doc));
        }
      }
      return 'end';
    } catch {
      return 'error';
    }
  })();
  return {
    status: res.status,
    envelopes,
    messages: () => envelopes.flatMap((e) => e.Envelope?.Body?.GetStreamingEventsResponse?.ResponseMessages?.GetStreamingEventsResponseMessage ?? (e.Envelope?.Body?.Fault ? [{ Fault: e.Envelope.Body.Fault }] : [])),
    ended,
    abort: () => controller.abort(),
  };
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Subscribe with the affinity headers (the test client's soap() sends none). */
async function subscribeWith(sim: EwsSimulator, mailbox: string, headers: Record<string, string>, user = 'CONTOSO\\svc-severa-sync', password = 'demo-delegate-password'): Promise<{ id: string; cookie: string | null; status: number; text: string }> {
  const res = await fetch(sim.url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', Authorization: basicAuth(user, password), ...headers },
    body: envelope(SUBSCRIBE(), { impersonate: mailbox }),
  });
  const text = await res.text();
  return { id: /<m:SubscriptionId>([^<]+)</.exec(text)?.[1] ?? '', cookie: res.headers.get('set-cookie'), status: res.status, text };
}

describe('streaming subscriptions (Subscribe, GetStreamingEvents, Unsubscribe)', () => {
  let sim: EwsSimulator;
  beforeAll(async () => {
    sim = await startEwsSimulator({ seed: seed(), streaming: { minuteMs: 600, keepAliveMs: 150 } });
  });
  afterAll(async () => {
    await sim?.close();
  });
  afterEach(() => sim.setFaults({}));

  it('subscribes and answers with a subscription id; no cookie unless affinity was asked for', async () => {
    const plain = await subscribe(sim, AINO);
    expect(plain.id).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(plain.cookie).toBeNull();
    const affine = await subscribeWith(sim, AINO, { 'X-AnchorMailbox': AINO, 'X-PreferServerAffinity': 'true' });
    expect(affine.cookie).toMatch(/^X-BackEndOverrideCookie=mbx01\.contoso\.example~\d+; path=\/; HttpOnly$/);
  });

  it('streams keep-alives, a notification per back-door edit, and ConnectionStatus Closed at the timeout', async () => {
    const { id } = await subscribe(sim, MIKKO);
    const s = await openStream(sim, [id], { impersonate: MIKKO, minutes: 1 });
    expect(s.status).toBe(200);
    const outlook = sim.mailbox(MIKKO);
    const item = outlook.create({ subject: 'Sauna', start: '2026-12-04T15:00:00Z' });
    outlook.update(item.id, { location: 'Lakeside' });
    outlook.delete(item.id);
    expect(await s.ended).toBe('end');
    const all = s.messages();
    const notes = all.flatMap((m) => m.Notifications?.Notification ?? []);
    expect(notes.every((n) => n.SubscriptionId[0] === id)).toBe(true);
    const created = notes.flatMap((n) => n.CreatedEvent ?? []);
    expect(created[0]).toMatchObject({ ItemId: { '@Id': item.id }, TimeStamp: expect.stringMatching(/Z$/) });
    expect(notes.flatMap((n) => n.ModifiedEvent ?? []).some((e) => e.ItemId?.['@Id'] === item.id)).toBe(true);
    const moved = notes.flatMap((n) => n.MovedEvent ?? [])[0];
    expect(moved.OldItemId['@Id']).toBe(item.id);
    expect(moved.ItemId['@Id']).toBe(outlook.deletedItems()[0].id);
    expect(all.filter((m) => !m.Notifications).some((m) => m.ConnectionStatus === 'OK')).toBe(true); // keep-alives
    expect(all.at(-1)).toMatchObject({ '@ResponseClass': 'Success', ConnectionStatus: 'Closed' });
    expect(sim.streaming.history().at(-1)).toMatchObject({ endedBy: 'timeout', mailboxes: [MIKKO] });
  });

  it('queues events while no connection is open and delivers them on the next one', async () => {
    const { id } = await subscribe(sim, SARA);
    const item = sim.mailbox(SARA).create({ subject: 'Queued', start: '2026-12-05T10:00:00Z' });
    const s = await openStream(sim, [id], { impersonate: SARA, minutes: 1 });
    await until('the queued notification', () => s.messages().some((m) => m.Notifications));
    s.abort();
    const created = s.messages().flatMap((m) => m.Notifications?.Notification ?? []).flatMap((n) => n.CreatedEvent ?? []);
    expect(created.map((e) => e.ItemId['@Id'])).toEqual([item.id]);
    await until('the client to be gone', () => sim.streaming.history().at(-1)?.endedBy === 'client');
  });

  it('refuses the whole request when one id is unknown, expired or another account\'s (ErrorSubscriptionIds, Closed)', async () => {
    const good = await subscribe(sim, AINO);
    const r = await soap(sim.url, GSE([good.id, 'AAAAbm90LWEtc3Vic2NyaXB0aW9u']), { impersonate: AINO });
    const m = messages(r, 'GetStreamingEvents')[0];
    expect(m).toMatchObject({ '@ResponseClass': 'Error', ResponseCode: 'ErrorSubscriptionNotFound', ConnectionStatus: 'Closed' });
    expect(m.ErrorSubscriptionIds.SubscriptionId).toBe('AAAAbm90LWEtc3Vic2NyaXB0aW9u');
    sim.streaming.expire(AINO);
    const expired = messages(await soap(sim.url, GSE([good.id]), { impersonate: AINO }), 'GetStreamingEvents')[0];
    expect(expired).toMatchObject({ ResponseCode: 'ErrorExpiredSubscription', ConnectionStatus: 'Closed' });
    const mine = await subscribe(sim, AINO);
    const other = messages(await soap(sim.url, GSE([mine.id]), { impersonate: AINO, user: 'CONTOSO\\svc-other', password: 'demo-other-password' }), 'GetStreamingEvents')[0];
    expect(other.ResponseCode).toBe('ErrorSubscriptionAccessDenied');
  });

  it('checks the request: ConnectionTimeout 1..30, at least one and at most 200 ids, Exchange2010_SP1 or later', async () => {
    const { id } = await subscribe(sim, AINO);
    expect(faultCode(await soap(sim.url, GSE([id], 31), { impersonate: AINO }))).toBe('ErrorSchemaValidation');
    expect(faultCode(await soap(sim.url, GSE([id], 0), { impersonate: AINO }))).toBe('ErrorSchemaValidation');
    expect(faultCode(await soap(sim.url, GSE([]), { impersonate: AINO }))).toBe('ErrorSchemaValidation');
    const many = Array.from({ length: 201 }, (_, i) => `AAAA${i}`);
    expect(faultCode(await soap(sim.url, GSE(many), { impersonate: AINO }))).toBe('ErrorInvalidRequest');
    expect(faultCode(await soap(sim.url, SUBSCRIBE(), { impersonate: AINO, version: 'Exchange2010' }))).toBe('ErrorInvalidRequest');
    expect(faultCode(await soap(sim.url, SUBSCRIBE(['StatusEvent']), { impersonate: AINO }))).toBe('ErrorSchemaValidation');
  });

  it('unsubscribes: the id is gone, a second Unsubscribe is ErrorSubscriptionNotFound', async () => {
    const { id } = await subscribe(sim, AINO);
    const body = `<m:Unsubscribe><m:SubscriptionId>${id}</m:SubscriptionId></m:Unsubscribe>`;
    expect(messages(await soap(sim.url, body, { impersonate: AINO }), 'Unsubscribe')[0].ResponseCode).toBe('NoError');
    expect(sim.streaming.subscriptions().map((s) => s.id)).not.toContain(id);
    expect(messages(await soap(sim.url, body, { impersonate: AINO }), 'Unsubscribe')[0].ResponseCode).toBe('ErrorSubscriptionNotFound');
  });

  it('sends ErrorMissedNotificationEvents and ErrorExpiredSubscription on an open connection, and drops connections', async () => {
    const a = await subscribe(sim, AINO);
    const m = await subscribe(sim, MIKKO);
    const s = await openStream(sim, [a.id, m.id], { impersonate: AINO, minutes: 5 });
    await until('the connection', () => sim.streaming.connections().length === 1);
    sim.streaming.missEvents(AINO);
    await until('the missed-events error', () => s.messages().some((x) => x.ResponseCode === 'ErrorMissedNotificationEvents'));
    expect(s.messages().find((x) => x.ResponseCode === 'ErrorMissedNotificationEvents')).toMatchObject({ ErrorSubscriptionIds: { SubscriptionId: [a.id] }, ConnectionStatus: 'OK' });
    sim.streaming.expire(MIKKO);
    await until('the expiry', () => s.messages().some((x) => x.ResponseCode === 'ErrorExpiredSubscription'));
    expect(sim.streaming.connections()).toHaveLength(1); // Aino's subscription still holds it open
    sim.streaming.dropConnections(AINO);
    expect(await s.ended).toBe('error');
    expect(sim.streaming.history().at(-1)).toMatchObject({ endedBy: 'dropped' });
  });

  it('injects streaming faults by seed and rate, or the next ones by force', async () => {
    const { id } = await subscribe(sim, SARA);
    sim.setFaults({ streaming: { forceNext: { kind: 'missedEvents', count: 1 } } });
    const s = await openStream(sim, [id], { impersonate: SARA, minutes: 5 });
    sim.mailbox(SARA).create({ subject: 'Lost', start: '2026-12-06T10:00:00Z' });
    await until('the forced fault', () => s.messages().some((x) => x.ResponseCode === 'ErrorMissedNotificationEvents'));
    const kept = sim.mailbox(SARA).create({ subject: 'Kept', start: '2026-12-06T11:00:00Z' });
    await until('the next notification', () => s.messages().some((x) => x.Notifications));
    expect(s.messages().flatMap((x) => x.Notifications?.Notification ?? []).flatMap((n) => n.CreatedEvent ?? []).map((e) => e.ItemId['@Id'])).toEqual([kept.id]);
    sim.setFaults({ streaming: { seed: 3, dropConnectionRate: 1 } });
    sim.mailbox(SARA).create({ subject: 'Dropped', start: '2026-12-06T12:00:00Z' });
    expect(await s.ended).toBe('error');
    expect(sim.streaming.faultsInjected()).toMatchObject({ missedEvents: 1, dropConnection: 1 });
    expect(() => sim.setFaults({ streaming: { missedEventsRate: 2 } })).toThrow(/from 0 to 1/);
  });

  it('forgets every subscription in a restart: ErrorSubscriptionNotFound afterwards', async () => {
    const { id } = await subscribe(sim, AINO);
    const s = await openStream(sim, [id], { impersonate: AINO, minutes: 5 });
    sim.streaming.restart();
    expect(await s.ended).toBe('error');
    const m = messages(await soap(sim.url, GSE([id]), { impersonate: AINO }), 'GetStreamingEvents')[0];
    expect(m.ResponseCode).toBe('ErrorSubscriptionNotFound');
  });
});

describe('affinity and limits', () => {
  let sim: EwsSimulator;
  beforeAll(async () => {
    sim = await startEwsSimulator({ seed: seed({ mailboxServers: 3, hangingConnectionLimit: 2 }), streaming: { minuteMs: 60_000, keepAliveMs: 10_000 } });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('holds each subscription on its mailbox server; without affinity a connection routed elsewhere does not find it', async () => {
    // Aino, Mikko and Sara live on MBX01, MBX02 and MBX03.
    const mikko = await subscribe(sim, MIKKO);
    expect(sim.streaming.subscriptions().find((s) => s.id === mikko.id)?.backend).toBe('MBX02.contoso.example');
    const lost = messages(await soap(sim.url, GSE([mikko.id]), { impersonate: AINO }), 'GetStreamingEvents')[0];
    expect(lost.ResponseCode).toBe('ErrorSubscriptionNotFound');
  });

  it('groups subscriptions of several mailboxes on one server with the anchor mailbox and its cookie', async () => {
    const anchor = await subscribeWith(sim, AINO, { 'X-AnchorMailbox': AINO, 'X-PreferServerAffinity': 'true' });
    const cookie = anchor.cookie!.split(';')[0];
    const others: Array<Awaited<ReturnType<typeof subscribeWith>>> = [];
    for (const mb of [MIKKO, SARA]) others.push(await subscribeWith(sim, mb, { 'X-AnchorMailbox': AINO, 'X-PreferServerAffinity': 'true', Cookie: cookie }));
    expect(others.every((o) => o.cookie === null)).toBe(true);
    expect(new Set(sim.streaming.subscriptions().filter((s) => [anchor.id, ...others.map((o) => o.id)].includes(s.id)).map((s) => s.backend))).toEqual(new Set(['MBX01.contoso.example']));
    const s = await openStream(sim, [anchor.id, ...others.map((o) => o.id)], { impersonate: AINO, headers: { 'X-AnchorMailbox': AINO, 'X-PreferServerAffinity': 'true', Cookie: cookie } });
    expect(s.status).toBe(200);
    await until('the grouped connection', () => sim.streaming.connections().length === 1);
    expect(sim.streaming.connections()[0]).toMatchObject({ cookieSent: true, anchorMailbox: AINO, mailboxes: [AINO, MIKKO, SARA].sort() });
    sim.mailbox(SARA).create({ subject: 'Grouped', start: '2026-12-07T10:00:00Z' });
    await until('Sara\'s notification on the shared connection', () => s.messages().some((m) => m.Notifications));
    s.abort();
    await until('closed', () => sim.streaming.connections().length === 0);
  });

  it('refuses a connection beyond HangingConnectionLimit with ErrorExceededConnectionCount', async () => {
    const ids = [(await subscribe(sim, AINO)).id, (await subscribe(sim, AINO)).id, (await subscribe(sim, AINO)).id];
    const first = await openStream(sim, [ids[0]], { impersonate: AINO });
    const second = await openStream(sim, [ids[1]], { impersonate: AINO });
    await until('two connections', () => sim.streaming.connections().length === 2);
    const third = messages(await soap(sim.url, GSE([ids[2]]), { impersonate: AINO }), 'GetStreamingEvents')[0];
    expect(third).toMatchObject({ '@ResponseClass': 'Error', ResponseCode: 'ErrorExceededConnectionCount', ConnectionStatus: 'Closed' });
    // Another account has its own budget.
    const other = await subscribeWith(sim, AINO, {}, 'CONTOSO\\svc-other', 'demo-other-password');
    const ok = await openStream(sim, [other.id], { impersonate: AINO, user: 'CONTOSO\\svc-other', password: 'demo-other-password' });
    expect(ok.status).toBe(200);
    await until('three connections', () => sim.streaming.connections().length === 3);
    expect(sim.streaming.peakConnections('svc-severa-sync')).toBe(2);
    for (const s of [first, second, ok]) s.abort();
  });
});

describe('servers without streaming', () => {
  it('Exchange 2007 SP1 refuses Subscribe: ErrorInvalidServerVersion for a newer schema, ErrorInvalidRequest for its own', async () => {
    const sim = await startEwsSimulator({ seed: seed({ version: 'Exchange2007_SP1' }) });
    try {
      expect(faultCode(await soap(sim.url, SUBSCRIBE(), { impersonate: AINO, version: 'Exchange2010_SP1' }))).toBe('ErrorInvalidServerVersion');
      expect(faultCode(await soap(sim.url, SUBSCRIBE(), { impersonate: AINO, version: 'Exchange2007_SP1' }))).toBe('ErrorInvalidRequest');
    } finally {
      await sim.close();
    }
  });
});
