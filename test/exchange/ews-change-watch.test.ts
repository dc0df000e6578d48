/**
 * EwsCalendarConnector.watchChanges against the EWS simulator over HTTP (NTLM, impersonation): Outlook edits arrive
 * as changed(mailbox); missed events, expired subscriptions, a restart and dropped connections each end in
 * resync(mailbox) with the subscription re-established; many mailboxes share few connections within the limit, with
 * affinity across mailbox servers; connections are renewed before their timeout; Exchange 2007 (or a server that
 * refuses Subscribe) is polled with one request per quiet poll.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEwsSimulator, type EwsSeed, type EwsSimulator } from '../peers/ews/ews-simulator.ts';
import type { ChangeWatch } from '../../src-main/exchange/calendar-connector.ts';
import { EwsCalendarConnector } from '../../src-main/exchange/ews/ews-calendar-connector.ts';
import type { EwsConnectorOptions } from '../../src-main/exchange/ews/ews-connector-options.ts';
import { hasOpenssl, makeTestCertificates, startTlsFront, type TestCertificates } from './fixtures/tls-fixtures.ts';

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const SARA = 'sara.nieminen@contoso.example';

function seed(o: { extra?: number; version?: string; mailboxServers?: number; hangingConnectionLimit?: number; basic?: boolean } = {}): EwsSeed {
  const people = [AINO, MIKKO, SARA, ...Array.from({ length: o.extra ?? 0 }, (_, i) => `user${String(i + 1).padStart(2, '0')}@contoso.example`)];
  return {
    timeZone: 'Europe/Helsinki',
    server: {
      netbiosDomain: 'CONTOSO',
      dnsDomain: 'contoso.example',
      ...(o.version ? { version: o.version } : {}),
      ...(o.mailboxServers ? { mailboxServers: o.mailboxServers } : {}),
      ...(o.hangingConnectionLimit ? { hangingConnectionLimit: o.hangingConnectionLimit } : {}),
      ...(o.basic ? { authMethods: ['NTLM', 'Basic'] } : {}),
    },
    delegates: [
      { username: 'svc-severa-sync', password: 'demo-delegate-password', impersonation: 'all' },
      { username: 'svc-limited', password: 'demo-limited-password', impersonation: [AINO, MIKKO] },
    ],
    mailboxes: people.map((p) => ({ primarySmtp: p, username: p.split('@')[0], password: `pw-${p}`, displayName: p.split('@')[0] })),
    items: [],
  } as EwsSeed;
}

class Recorder {
  changed: Array<{ mailbox: string; at: number }> = [];
  resync: Array<{ mailbox: string; reason: string; at: number }> = [];
  readonly events = {
    changed: (mailbox: string) => this.changed.push({ mailbox, at: Date.now() }),
    resync: (mailbox: string, reason: string) => this.resync.push({ mailbox, reason, at: Date.now() }),
  };
  changedFor(mailbox: string): number {
    return this.changed.filter((c) => c.mailbox === mailbox).length;
  }
  resyncFor(mailbox: string): string[] {
    return this.resync.filter((c) => c.mailbox === mailbox).map((c) => c.reason);
  }
}

async function until(what: string, check: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const running: Array<{ sim: EwsSimulator; watch?: ChangeWatch; connector?: EwsCalendarConnector; front?: { close(): Promise<void> } }> = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.watch?.stop();
    r.connector?.close();
    await r.front?.close();
    await r.sim.close();
  }
});

async function setup(o: {
  seed?: EwsSeed;
  mailboxes: string[];
  connector?: Partial<EwsConnectorOptions>;
  streaming?: { minuteMs?: number; keepAliveMs?: number };
  pollIntervalMs?: number;
  /** Serve it over TLS with a private CA, which the connector is given. */
  tls?: TestCertificates;
}): Promise<{ sim: EwsSimulator; watch: ChangeWatch; rec: Recorder; connector: EwsCalendarConnector; requests: Array<{ operation: string; mailbox: string | null; at: number }> }> {
  const sim = await startEwsSimulator({ seed: o.seed ?? seed(), streaming: { keepAliveMs: 5000, ...(o.streaming ?? {}) } });
  const requests: Array<{ operation: string; mailbox: string | null; at: number }> = [];
  const front = o.tls ? await startTlsFront(sim.url, o.tls.serverKey, o.tls.serverCert) : undefined;
  const connector = new EwsCalendarConnector({
    ewsUrl: front?.url ?? sim.url,
    ...(o.tls ? { caCertificates: o.tls.caPem } : {}),
    serverType: 'Exchange2016',
    domain: 'CONTOSO',
    username: 'svc-severa-sync',
    password: 'demo-delegate-password',
    authMethod: 'ntlm',
    timeoutMs: 10_000,
    onRequest: (info) => requests.push({ ...info, at: Date.now() }),
    ...(o.connector ?? {}),
    watch: { retryMs: 50, ...(o.connector?.watch ?? {}) },
  });
  const rec = new Recorder();
  const watch = connector.watchChanges(rec.events, { pollIntervalMs: o.pollIntervalMs ?? 60_000 });
  running.push({ sim, watch, connector, front });
  watch.setMailboxes(o.mailboxes);
  return { sim, watch, rec, connector, requests };
}

function allLive(watch: ChangeWatch, mailboxes: string[]): boolean {
  const modes = watch.modes();
  return mailboxes.every((m) => modes[m]?.mode === 'live');
}

describe('streaming notifications', () => {
  it('an Outlook edit reaches changed(mailbox) within moments, over one grouped connection routed with affinity', async () => {
    const people = [AINO, MIKKO, SARA];
    const { sim, watch, rec } = await setup({ seed: seed({ mailboxServers: 3 }), mailboxes: people });
    await until('all live', () => allLive(watch, people));
    // One connection for the three, anchored on the alphabetically first; all subscriptions on its mailbox server
    // although the three live on three different servers.
    const [conn] = sim.streaming.connections();
    expect(sim.streaming.connections()).toHaveLength(1);
    expect(conn).toMatchObject({ anchorMailbox: AINO, impersonating: AINO, cookieSent: true, mailboxes: [...people].sort(), timeoutMinutes: 30 });
    expect(new Set(sim.streaming.subscriptions().map((s) => s.backend))).toEqual(new Set([conn.backend]));
    expect(watch.modes()[MIKKO]).toMatchObject({ mode: 'live', since: expect.stringMatching(/Z$/) });

    const before = Date.now();
    sim.mailbox(MIKKO).create({ subject: 'Dentist', start: '2026-12-01T08:00:00Z', end: '2026-12-01T09:00:00Z' });
    await until('changed(Mikko)', () => rec.changedFor(MIKKO) > 0, 2000);
    expect(rec.changed.find((c) => c.mailbox === MIKKO)!.at - before).toBeLessThan(1000);
    expect(rec.changedFor(AINO) + rec.changedFor(SARA)).toBe(0);
    // A meeting Aino organises also lands in Sara's calendar: both hear of it.
    sim.mailbox(AINO).create({ subject: 'Review', start: '2026-12-02T08:00:00Z', requiredAttendees: [SARA] });
    await until('changed(Aino) and changed(Sara)', () => rec.changedFor(AINO) > 0 && rec.changedFor(SARA) > 0);
    expect(rec.resync).toEqual([]);
  });

  it('missed events: resync(mailbox), a new subscription, live again, and later edits still arrive', async () => {
    const { sim, watch, rec } = await setup({ mailboxes: [AINO, MIKKO] });
    await until('live', () => allLive(watch, [AINO, MIKKO]));
    const oldId = sim.streaming.subscriptions().find((s) => s.mailbox === MIKKO)!.id;
    sim.streaming.missEvents(MIKKO);
    await until('resync(Mikko)', () => rec.resyncFor(MIKKO).length > 0);
    expect(rec.resyncFor(MIKKO)[0]).toMatch(/ErrorMissedNotificationEvents/);
    await until('live again with a new subscription', () => allLive(watch, [MIKKO]) && sim.streaming.subscriptions().some((s) => s.mailbox === MIKKO && s.id !== oldId && s.connectionId !== null));
    expect(sim.streaming.subscriptions().map((s) => s.id)).not.toContain(oldId); // the old one was let go
    expect(rec.resyncFor(AINO)).toEqual([]);
    sim.mailbox(MIKKO).create({ subject: 'After the gap', start: '2026-12-03T08:00:00Z' });
    await until('changed(Mikko)', () => rec.changedFor(MIKKO) > 0);
  });

  it('an expired subscription: resync(mailbox), subscribed again, live again', async () => {
    const { sim, watch, rec } = await setup({ mailboxes: [AINO, SARA] });
    await until('live', () => allLive(watch, [AINO, SARA]));
    sim.streaming.expire(SARA);
    await until('resync(Sara)', () => rec.resyncFor(SARA).length > 0);
    expect(rec.resyncFor(SARA)[0]).toMatch(/ErrorExpiredSubscription/);
    await until('live again', () => allLive(watch, [AINO, SARA]) && sim.streaming.subscriptions().filter((s) => s.mailbox === SARA && s.connectionId !== null).length === 1);
    sim.mailbox(SARA).create({ subject: 'Still heard', start: '2026-12-03T08:00:00Z' });
    await until('changed(Sara)', () => rec.changedFor(SARA) > 0);
  });

  it('a dropped connection: every mailbox on it gets resync after reconnecting, and edits arrive again', async () => {
    const { sim, watch, rec } = await setup({ mailboxes: [AINO, MIKKO, SARA] });
    await until('live', () => allLive(watch, [AINO, MIKKO, SARA]));
    const first = sim.streaming.connections()[0].id;
    sim.streaming.dropConnections();
    await until('resync for all three', () => [AINO, MIKKO, SARA].every((m) => rec.resyncFor(m).length > 0));
    expect(rec.resyncFor(AINO)[0]).toMatch(/dropped/);
    await until('reconnected', () => allLive(watch, [AINO, MIKKO, SARA]) && sim.streaming.connections().some((c) => c.id !== first));
    // The reconnect came after the drop, and the resync after the reconnect.
    const reconnectedAt = Date.parse(sim.streaming.connections()[0].openedAt);
    expect(rec.resync.every((r) => r.at >= reconnectedAt - 5)).toBe(true);
    sim.mailbox(AINO).create({ subject: 'After the drop', start: '2026-12-03T08:00:00Z' });
    await until('changed(Aino)', () => rec.changedFor(AINO) > 0);
  });

  it('a connection that goes silent (no keep-alive) is taken for dropped: reconnect, then resync', async () => {
    const { sim, watch, rec } = await setup({ mailboxes: [AINO], streaming: { keepAliveMs: 60_000 }, connector: { watch: { idleTimeoutMs: 300 } } });
    await until('live', () => allLive(watch, [AINO]));
    await until('resync(Aino)', () => rec.resyncFor(AINO).length > 0, 3000);
    expect(rec.resyncFor(AINO)[0]).toMatch(/no keep-alive/);
    expect(sim.streaming.history().length).toBeGreaterThanOrEqual(2);
  });

  it('works the same with a Basic login', async () => {
    const { sim, watch, rec } = await setup({ seed: seed({ basic: true }), mailboxes: [AINO, MIKKO], connector: { authMethod: 'basic' } });
    await until('live', () => allLive(watch, [AINO, MIKKO]));
    sim.mailbox(AINO).update(sim.mailbox(AINO).create({ subject: 'Basic', start: '2026-12-03T08:00:00Z' }).id, { location: 'Room 1' });
    await until('changed(Aino)', () => rec.changedFor(AINO) > 0);
    expect(sim.streaming.connections()[0]).toMatchObject({ account: 'svc-severa-sync', cookieSent: true });
  });

  it('a refused login leaves every mailbox off with the reason (and nothing is polled behind its back)', async () => {
    const { watch, requests } = await setup({ mailboxes: [AINO, MIKKO], connector: { password: 'wrong' } });
    await until('off', () => Object.values(watch.modes()).every((m) => m.mode === 'off' && /login/.test(m.reason ?? '')));
    expect(requests.every((r) => r.operation === 'Subscribe')).toBe(true);
  });

  it('a server restart (subscriptions not found): subscribed anew, resync, live again', async () => {
    const { sim, watch, rec } = await setup({ mailboxes: [AINO, MIKKO] });
    await until('live', () => allLive(watch, [AINO, MIKKO]));
    sim.streaming.restart();
    await until('resubscribed', () => sim.streaming.subscriptions().filter((s) => s.connectionId !== null).length === 2 && allLive(watch, [AINO, MIKKO]));
    expect(rec.resyncFor(AINO).length).toBeGreaterThan(0);
    expect(rec.resyncFor(MIKKO).some((r) => /ErrorSubscriptionNotFound|dropped/.test(r))).toBe(true);
    sim.mailbox(MIKKO).create({ subject: 'After the restart', start: '2026-12-03T08:00:00Z' });
    await until('changed(Mikko)', () => rec.changedFor(MIKKO) > 0);
  });

  it('renews each connection before its ConnectionTimeout: the server never has to close one, nothing is resynced', async () => {
    const minuteMs = 3000;
    const { sim, watch, rec } = await setup({ mailboxes: [AINO, MIKKO], streaming: { minuteMs, keepAliveMs: 300 }, connector: { watch: { connectionTimeoutMinutes: 1, minuteMs } } });
    await until('live', () => allLive(watch, [AINO, MIKKO]));
    let notLive = 0;
    const sampler = setInterval(() => {
      if (!allLive(watch, [AINO, MIKKO])) notLive++;
    }, 20);
    await new Promise((r) => setTimeout(r, 3500));
    sim.mailbox(AINO).create({ subject: 'Between renewals', start: '2026-12-03T08:00:00Z' });
    await new Promise((r) => setTimeout(r, 3000));
    clearInterval(sampler);
    const history = sim.streaming.history();
    expect(history.length).toBeGreaterThanOrEqual(3);
    expect(history.filter((c) => c.endedBy === 'timeout')).toEqual([]);
    expect(history.every((c) => c.timeoutMinutes === 1)).toBe(true);
    // Each renewal opened before the previous one ended: never two answers ahead of one.
    for (let i = 1; i < history.length; i++) expect(Date.parse(history[i].openedAt)).toBeLessThanOrEqual(Date.parse(history[i - 1].endedAt ?? new Date().toISOString()));
    expect(rec.changedFor(AINO)).toBeGreaterThan(0);
    expect(rec.resync).toEqual([]);
    expect(notLive).toBe(0);
  });

  it('many mailboxes share few connections: 25 at 10 per connection on 3 connections, never above the limit', async () => {
    const s = seed({ extra: 22, hangingConnectionLimit: 10 });
    const everyone = (s.mailboxes as Array<{ primarySmtp: string }>).map((m) => m.primarySmtp);
    const { sim, watch, requests } = await setup({ seed: s, mailboxes: everyone, connector: { watch: { subscriptionsPerConnection: 10 } } });
    await until('all live', () => allLive(watch, everyone), 15_000);
    const conns = sim.streaming.connections();
    expect(conns).toHaveLength(3);
    expect(conns.map((c) => c.mailboxes.length).sort()).toEqual([10, 10, 5]);
    const sorted = [...everyone].sort();
    expect(conns.map((c) => c.anchorMailbox).sort()).toEqual([sorted[0], sorted[10], sorted[20]]);
    expect(sim.streaming.peakConnections('svc-severa-sync')).toBeLessThanOrEqual(3);
    expect(requests.filter((r) => r.operation === 'Subscribe')).toHaveLength(25);
    expect(requests.filter((r) => r.operation === 'GetStreamingEvents')).toHaveLength(3);
  });

  it('ErrorExceededConnectionCount: stays within what Exchange allows and polls the mailboxes that do not fit', async () => {
    const s = seed({ extra: 22, hangingConnectionLimit: 2 });
    const everyone = (s.mailboxes as Array<{ primarySmtp: string }>).map((m) => m.primarySmtp);
    // Told it may open 3: Exchange allows 2.
    const { sim, watch, rec } = await setup({ seed: s, mailboxes: everyone, connector: { watch: { subscriptionsPerConnection: 10, maxConnections: 3, streamingRetryMs: 800 } }, pollIntervalMs: 60_000 });
    await until('settled', () => Object.values(watch.modes()).filter((m) => m.mode === 'live').length === 20 && Object.values(watch.modes()).filter((m) => m.mode === 'polling').length === 5, 15_000);
    expect(sim.streaming.connections()).toHaveLength(2);
    expect(sim.streaming.peakConnections('svc-severa-sync')).toBe(2);
    const polled = Object.entries(watch.modes()).filter(([, m]) => m.mode === 'polling');
    expect(polled[0][1].reason).toMatch(/streaming connection/);
    // The third group's subscriptions were let go.
    await until('the third group unsubscribed', () => sim.streaming.subscriptions().length === 20);

    // Room frees up (five mailboxes leave): on the next try the polled ones stream, and are told to sync once.
    const polledNames = polled.map(([name]) => name);
    const leaving = sim.streaming.connections()[0].mailboxes.slice(0, 5);
    watch.setMailboxes(everyone.filter((m) => !leaving.includes(m)));
    await until('the polled mailboxes live', () => polledNames.every((m) => watch.modes()[m]?.mode === 'live'), 5000);
    expect(sim.streaming.connections()).toHaveLength(2);
    expect(sim.streaming.peakConnections('svc-severa-sync')).toBe(2);
    for (const m of polledNames) expect(rec.resyncFor(m)).toEqual([expect.stringMatching(/Polling ended/)]);
  });

  it('adds and removes mailboxes, keeps the one it cannot impersonate off with the reason, and stops cleanly', async () => {
    const { sim, watch, rec } = await setup({ mailboxes: [AINO, SARA], connector: { username: 'svc-limited', password: 'demo-limited-password' } });
    await until('Aino live, Sara off', () => watch.modes()[AINO]?.mode === 'live' && watch.modes()[SARA]?.mode === 'off' && !/Starting/.test(watch.modes()[SARA]?.reason ?? 'Starting'));
    expect(watch.modes()[SARA].reason).toMatch(/impersonate/);
    watch.setMailboxes([AINO, MIKKO]);
    await until('Mikko live', () => allLive(watch, [AINO, MIKKO]) && !(SARA in watch.modes()));
    sim.mailbox(MIKKO).create({ subject: 'Joined', start: '2026-12-03T08:00:00Z' });
    await until('changed(Mikko)', () => rec.changedFor(MIKKO) > 0);
    watch.setMailboxes([MIKKO]);
    await until('Aino unsubscribed', () => !(AINO in watch.modes()) && sim.streaming.subscriptions().every((s) => s.mailbox === MIKKO));
    await watch.stop();
    expect(sim.streaming.subscriptions()).toEqual([]);
    await until('connection closed', () => sim.streaming.connections().length === 0);
    expect(watch.modes()[MIKKO]).toMatchObject({ mode: 'off', reason: 'The watch was stopped.' });
  });
});

describe.skipIf(!hasOpenssl())('over TLS with a private CA (skipped only where openssl is missing)', () => {
  it('subscribes and streams through HTTPS trusting the configured CA', async () => {
    const { sim, watch, rec } = await setup({ mailboxes: [AINO, MIKKO], tls: makeTestCertificates() });
    await until('live', () => allLive(watch, [AINO, MIKKO]));
    sim.mailbox(MIKKO).create({ subject: 'Over TLS', start: '2026-12-03T08:00:00Z' });
    await until('changed(Mikko)', () => rec.changedFor(MIKKO) > 0);
  });
});

describe('polling where Exchange has no streaming', () => {
  it('Exchange 2007 SP1: polls SyncFolderItems, one request per quiet poll, changed() for an Outlook edit', async () => {
    const { sim, watch, rec, requests } = await setup({ seed: seed({ version: 'Exchange2007_SP1' }), mailboxes: [AINO, MIKKO], connector: { serverType: 'Exchange2007_SP1' }, pollIntervalMs: 200 });
    await until('polling', () => Object.values(watch.modes()).every((m) => m.mode === 'polling') && requests.filter((r) => r.mailbox === MIKKO).length >= 2);
    expect(watch.modes()[AINO].reason).toMatch(/no streaming/);
    sim.mailbox(MIKKO).create({ subject: 'Dentist', start: '2026-12-01T08:00:00Z' });
    await until('changed(Mikko)', () => rec.changedFor(MIKKO) > 0, 3000);
    expect(rec.changedFor(AINO)).toBe(0);
    // Aino's calendar is quiet: each poll is one request, so consecutive requests are a poll interval apart.
    const start = Date.now();
    await until('three quiet polls', () => requests.filter((r) => r.mailbox === AINO && r.at > start).length >= 3, 5000);
    const times = requests.filter((r) => r.mailbox === AINO && r.at > start).map((r) => r.at);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(150);
    expect(new Set(requests.map((r) => r.operation))).toEqual(new Set(['SyncFolderItems']));
    expect(sim.counters().byOperation.Subscribe).toBeUndefined();
    expect(rec.resync).toEqual([]);
  });

  it('a server that refuses Subscribe (ErrorInvalidServerVersion) is polled instead', async () => {
    // Configured as 2016, the server is 2007: Subscribe is refused; polls then ask in the 2007 schema.
    const { sim, watch, rec, requests } = await setup({ seed: seed({ version: 'Exchange2007_SP1' }), mailboxes: [AINO, SARA], pollIntervalMs: 200, connector: { watch: { streamingRetryMs: 250 } } });
    await until('polling', () => Object.values(watch.modes()).every((m) => m.mode === 'polling'));
    expect(watch.modes()[SARA].reason).toMatch(/refused streaming notifications \(ErrorInvalidServerVersion\)/);
    // Each mailbox is refused on its own, and tried again later: polling goes on meanwhile, its state kept.
    await until('a second try for each', () => [AINO, SARA].every((m) => requests.filter((r) => r.operation === 'Subscribe' && r.mailbox === m).length >= 2));
    sim.mailbox(SARA).create({ subject: 'Seen by polling', start: '2026-12-01T08:00:00Z' });
    await until('changed(Sara)', () => rec.changedFor(SARA) > 0, 3000);
    expect(rec.changedFor(AINO)).toBe(0);
    expect(rec.resync).toEqual([]);
  });
});
