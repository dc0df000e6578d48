/**
 * python3-exchangelib (a real EWS client) meets a mailbox move: ErrorMailboxMoveInProgress and ErrorMailboxStoreUnavailable
 * while the mailbox moves, ErrorNonExistentMailbox once it left (as exchangelib users report after their mailbox moved
 * to Exchange Online) while its address still resolves, and on the new server the same items, found by their tag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEwsSimulator } from './ews-simulator.ts';
import type { EwsSimulator } from './ews-simulator.ts';
import { ExchangelibDriver } from './exchangelib-driver.ts';
import { AINO, AINO_ALIAS, MIKKO, ewsSeed } from '../mailbox-move-fixtures.ts';
import { startMailboxMove } from '../mailbox-move.ts';

let from: EwsSimulator;
let to: EwsSimulator;
let pyFrom: ExchangelibDriver;
let pyTo: ExchangelibDriver;

beforeAll(async () => {
  from = await startEwsSimulator({ seed: ewsSeed('Exchange2013_SP1') });
  const seed = ewsSeed('Exchange2016');
  to = await startEwsSimulator({ seed: { ...seed, mailboxes: seed.mailboxes.filter((m) => m.primarySmtp !== AINO), items: [] } });
  pyFrom = new ExchangelibDriver(from.url);
  pyTo = new ExchangelibDriver(to.url);
});

afterAll(async () => {
  pyFrom?.close();
  pyTo?.close();
  await from?.close();
  await to?.close();
});

describe('exchangelib and a mailbox move', () => {
  it('sees ErrorMailboxMoveInProgress, then ErrorMailboxStoreUnavailable, then ErrorNonExistentMailbox on the old server, and the items under their tag on the new one', async () => {
    const view = { step: 'view', mailbox: AINO, start: '2030-03-01T00:00:00Z', end: '2030-05-01T00:00:00Z' };
    expect((await pyFrom.ok({ step: 'login', mailbox: AINO })).item_count).toBe(3);
    await pyFrom.ok({ step: 'create', mailbox: AINO, subject: 'Tagged by the sync', start: '2030-04-20T10:00:00', end: '2030-04-20T11:00:00', severa_guid: 'moved-tag-1' });
    const before = (await pyFrom.ok(view)).items as Array<{ subject: string; start: string; uid: string; id: string }>;

    const move = startMailboxMove({ from: { kind: 'ews', sim: from }, to: { kind: 'ews', sim: to }, address: AINO });
    expect(await pyFrom.run(view)).toMatchObject({ ok: false, error: 'ErrorMailboxMoveInProgress' });
    move.complete();
    expect(await pyFrom.run(view)).toMatchObject({ ok: false, error: 'ErrorMailboxStoreUnavailable' });
    move.finish();
    expect(await pyFrom.run({ step: 'login', mailbox: AINO, fresh: true })).toMatchObject({ ok: false, error: 'ErrorNonExistentMailbox', message: 'No mailbox with such guid.' });
    expect((await pyFrom.ok({ step: 'resolve', mailbox: MIKKO, name: AINO_ALIAS })).resolved).toEqual([AINO]);
    expect((await pyFrom.ok({ step: 'login', mailbox: MIKKO })).item_count).toBe(2);

    expect((await pyTo.ok({ step: 'login', mailbox: AINO })).item_count).toBe(4);
    const after = (await pyTo.ok(view)).items as typeof before;
    expect(after.map(({ subject, start, uid }) => ({ subject, start, uid }))).toEqual(before.map(({ subject, start, uid }) => ({ subject, start, uid })));
    const tagged = (await pyTo.ok({ step: 'find_by_tag', mailbox: AINO, severa_guid: 'moved-tag-1' })).items as Array<{ id: string; subject: string }>;
    expect(tagged.map((i) => i.subject)).toEqual(['Tagged by the sync']);
    expect(tagged[0].id).not.toBe(before.find((i) => i.subject === 'Tagged by the sync')!.id);
  });
});
