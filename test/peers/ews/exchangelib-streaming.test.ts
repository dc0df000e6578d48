/**
 * python3-exchangelib's own streaming notifications against the simulator: it subscribes to a calendar (the affinity
 * cookie it receives is the simulator's), holds a GetStreamingEvents connection, receives the notifications of edits
 * made "in Outlook" (the back door), sees the server close the connection at its timeout, and sees the subscription
 * errors a real server sends (missed events, expired, not found after a restart, unsubscribed).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEwsSeed, startEwsSimulator } from './ews-simulator.ts';
import type { EwsSimulator } from './ews-simulator.ts';
import { ExchangelibDriver } from './exchangelib-driver.ts';
import type { StepResult } from './exchangelib-driver.ts';

const DEMO = fileURLToPath(new URL('../demo/ews-demo.json', import.meta.url));
const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
/** One ConnectionTimeout minute lasts this long here, so a timeout is seen in seconds. */
const MINUTE_MS = 2500;

type StreamEvent = { type: string; item_id?: string; folder_id?: string; parent_folder_id?: string; old_item_id?: string; timestamp?: string };
type StreamResult = StepResult & { notifications: Array<{ subscription_id: string; events: StreamEvent[] }>; seconds: number };

let sim: EwsSimulator;
let py: ExchangelibDriver;

beforeAll(async () => {
  const demo = loadEwsSeed(DEMO);
  // Three mailbox servers: without the affinity cookie a GetStreamingEvents could land where the subscription is not.
  sim = await startEwsSimulator({ seed: { ...demo, server: { ...(demo.server ?? {}), mailboxServers: 3 } }, streaming: { minuteMs: MINUTE_MS, keepAliveMs: 400 } });
  py = new ExchangelibDriver(sim.url);
});

afterAll(async () => {
  py?.close();
  await sim?.close();
});

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts a stream in exchangelib and waits until the simulator holds its connection open (exchangelib then blocks). */
async function streaming(cmd: Record<string, unknown>, subscriptionId: string): Promise<{ result: Promise<StepResult> }> {
  const before = sim.streaming.history().length;
  const result = py.run({ step: 'stream', mailbox: AINO, ...cmd });
  await until('the GetStreamingEvents connection', () => sim.streaming.history().slice(before).some((c) => c.subscriptionIds.includes(subscriptionId)));
  return { result };
}

describe('exchangelib streaming notifications against the EWS simulator', () => {
  let subscriptionId: string;

  it('subscribes to the calendar and receives the affinity cookie of the mailbox server that holds the subscription', async () => {
    await py.ok({ step: 'login', mailbox: AINO });
    const r = await py.ok({ step: 'subscribe', mailbox: AINO });
    subscriptionId = r.subscription_id as string;
    const held = sim.streaming.subscriptions().find((s) => s.id === subscriptionId);
    expect(held).toMatchObject({ mailbox: AINO, owner: 'svc-severa-sync' });
    expect(r.affinity_cookie).toMatch(new RegExp(`^${held!.backend.toLowerCase().replace(/\./g, '\\.')}~\\d+$`));
    expect(sim.counters().byOperation.Subscribe).toBe(1);
  });

  it('receives a CreatedEvent for an item Aino adds in Outlook, over a connection routed by the cookie', async () => {
    const { result: pending } = await streaming({ subscription_ids: [subscriptionId], max: 1 }, subscriptionId);
    const added = sim.mailbox(AINO).create({ subject: 'Dentist (streamed)', start: '2026-12-02T08:00:00Z', end: '2026-12-02T09:00:00Z' });
    const r = (await pending) as StreamResult;
    expect(r.ok, String(r.message)).toBe(true);
    expect(r.notifications).toHaveLength(1);
    expect(r.notifications[0].subscription_id).toBe(subscriptionId);
    expect(r.notifications[0].events).toContainEqual(expect.objectContaining({ type: 'CreatedEvent', item_id: added.id }));
    const conn = sim.streaming.history().find((c) => c.subscriptionIds.includes(subscriptionId))!;
    expect(conn).toMatchObject({ anchorMailbox: AINO, impersonating: AINO, cookieSent: true, timeoutMinutes: 1 });
  });

  it('receives a ModifiedEvent for an edit and a MovedEvent (to Deleted Items) for a delete', async () => {
    const item = sim.mailbox(AINO).items().find((i) => i.subject === 'Dentist (streamed)')!;
    const { result: pending } = await streaming({ subscription_ids: [subscriptionId], max: 2 }, subscriptionId);
    sim.mailbox(AINO).update(item.id, { location: 'Room 2' });
    await new Promise((r) => setTimeout(r, 100));
    sim.mailbox(AINO).delete(item.id);
    const r = (await pending) as StreamResult;
    expect(r.ok, String(r.message)).toBe(true);
    const events = r.notifications.flatMap((n) => n.events);
    expect(events).toContainEqual(expect.objectContaining({ type: 'ModifiedEvent', item_id: item.id }));
    const moved = events.find((e) => e.type === 'MovedEvent');
    expect(moved).toMatchObject({ old_item_id: item.id, item_id: sim.mailbox(AINO).deletedItems().find((d) => d.subject === 'Dentist (streamed)')!.id });
  });

  it('is closed by the server at ConnectionTimeout (ConnectionStatus Closed) when nothing happens', async () => {
    const r = (await py.ok({ step: 'stream', mailbox: AINO, subscription_ids: [subscriptionId], max: 5, timeout: 1 })) as StreamResult;
    expect(r.notifications).toEqual([]);
    expect(r.seconds).toBeGreaterThanOrEqual((MINUTE_MS / 1000) * 0.8);
    expect(sim.streaming.history().at(-1)).toMatchObject({ endedBy: 'timeout' });
  });

  it('sees ErrorMissedNotificationEvents when events were lost', async () => {
    const { result: pending } = await streaming({ subscription_ids: [subscriptionId], max: 1 }, subscriptionId);
    sim.streaming.missEvents(AINO);
    expect(await pending).toMatchObject({ ok: false, error: 'ErrorMissedNotificationEvents' });
  });

  it('sees ErrorExpiredSubscription for an expired subscription', async () => {
    sim.streaming.expire(AINO);
    expect(await py.run({ step: 'stream', mailbox: AINO, subscription_ids: [subscriptionId], max: 1 })).toMatchObject({ ok: false, error: 'ErrorExpiredSubscription' });
  });

  it('sees ErrorSubscriptionNotFound after the server restarted, and after unsubscribing', async () => {
    const fresh = (await py.ok({ step: 'subscribe', mailbox: AINO })).subscription_id as string;
    sim.streaming.restart();
    expect(await py.run({ step: 'stream', mailbox: AINO, subscription_ids: [fresh], max: 1 })).toMatchObject({ ok: false, error: 'ErrorSubscriptionNotFound' });

    const again = (await py.ok({ step: 'subscribe', mailbox: MIKKO })).subscription_id as string;
    await py.ok({ step: 'unsubscribe', mailbox: MIKKO, subscription_id: again });
    expect(sim.streaming.subscriptions().map((s) => s.id)).not.toContain(again);
    expect(await py.run({ step: 'stream', mailbox: MIKKO, subscription_ids: [again], max: 1 })).toMatchObject({ ok: false, error: 'ErrorSubscriptionNotFound' });
  });
});
