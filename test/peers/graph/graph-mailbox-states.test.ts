/**
 * The Graph simulator's side of moving mailboxes, over HTTPS: a user's Exchange Online mailbox state (none, moving,
 * active, moved-away) and what calendar calls answer in each, imports into a mailbox being moved in, users added at run
 * time, and all of it kept in state snapshots.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGraphSimulator } from './graph-simulator.ts';
import type { GraphSimulator } from './graph-simulator.ts';
import { appToken, graphCaller, testSeed } from './graph-test-client.ts';

const ANNA = 'anna@fabrikam.example';
const NOT_YET = 'REST API is not yet supported for this mailbox.';
const ON_PREMISES = 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.';

const sims: GraphSimulator[] = [];
async function start(state?: ReturnType<GraphSimulator['exportState']>): Promise<{ sim: GraphSimulator; call: ReturnType<typeof graphCaller> }> {
  const sim = state ? await startGraphSimulator({ state }) : await startGraphSimulator({ seed: testSeed() });
  sims.push(sim);
  return { sim, call: graphCaller(sim, await appToken(sim)) };
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const errorOf = (r: { status: number; body: Record<string, any> | null }) => [r.status, r.body?.error?.code, r.body?.error?.message];

describe('a mailbox being moved', () => {
  it('moving: 404 MailboxNotEnabledForRESTAPI as not yet enabled (batch too); moved-away: 404 "hosted on-premise", its events and delta states gone; back again: new ids', async () => {
    const { sim, call } = await start();
    const first = sim.mailbox(ANNA).create({ subject: 'Before the move', start: '2030-05-06T07:00:00Z', end: '2030-05-06T08:00:00Z', timeZone: 'Europe/Helsinki' });
    const delta = await call('GET', `/users/${ANNA}/calendarView/delta?startDateTime=2030-05-01T00:00:00Z&endDateTime=2030-06-01T00:00:00Z`);
    const deltaLink: string = delta.body!['@odata.deltaLink'];
    expect(deltaLink).toBeTruthy();
    const exported = sim.exportMailbox(ANNA);

    sim.setMailboxState(ANNA, 'moving');
    expect(sim.mailboxState('a.berg@fabrikam.example')).toBe('moving');
    expect(errorOf(await call('GET', `/users/${ANNA}/events`))).toEqual([404, 'MailboxNotEnabledForRESTAPI', NOT_YET]);
    expect(errorOf(await call('POST', `/users/${ANNA}/events`, { subject: 'x', start: { dateTime: '2030-05-07T10:00:00', timeZone: 'UTC' }, end: { dateTime: '2030-05-07T11:00:00', timeZone: 'UTC' } }))).toEqual([404, 'MailboxNotEnabledForRESTAPI', NOT_YET]);
    const batch = await call('POST', '/$batch', { requests: [{ id: '1', method: 'GET', url: `/users/${ANNA}/events` }, { id: '2', method: 'GET', url: '/users/ben@fabrikam.example/events' }] });
    expect(batch.body!.responses.map((r: { id: string; status: number }) => `${r.id}:${r.status}`).sort()).toEqual(['1:404', '2:200']);
    expect((await call('GET', `/users/${ANNA}`)).status).toBe(200);

    sim.setMailboxState(ANNA, 'moved-away');
    expect(errorOf(await call('GET', `/users/${ANNA}/calendarView?startDateTime=2030-05-01T00:00:00Z&endDateTime=2030-06-01T00:00:00Z`))).toEqual([404, 'MailboxNotEnabledForRESTAPI', ON_PREMISES]);
    expect(sim.mailbox(ANNA).list()).toEqual([]);

    sim.setMailboxState(ANNA, 'active');
    expect((await call('GET', `/users/${ANNA}/events`)).body!.value).toEqual([]);
    expect((await call('GET', deltaLink)).status).toBe(410);
    expect(sim.importMailbox(ANNA, exported)).toBe(1);
    const back = (await call('GET', `/users/${ANNA}/events`)).body!.value;
    expect(back.map((e: { subject: string; iCalUId: string }) => [e.subject, e.iCalUId])).toEqual([['Before the move', first.uid]]);
    expect(back[0].id).not.toBe(first.id);
  });

  it('a user without a mailbox takes an import while the move runs (calls still 404) and serves it once active, keeping UIDs and last-modified times; nobody is mailed', async () => {
    const { sim, call } = await start();
    const meeting = sim.mailbox(ANNA).create({ subject: 'Planning', start: '2030-05-08T07:00:00Z', end: '2030-05-08T08:00:00Z', timeZone: 'Europe/Helsinki', attendees: ['ben@fabrikam.example'] });
    const data = sim.exportMailbox(ANNA);
    data.items[0].lastModified = '2030-01-02T03:04:05.000Z'; // as if last changed long ago: the import must keep it
    sim.resetCounters();
    const benBefore = sim.mailbox('ben@fabrikam.example').list().length;

    expect(sim.mailboxState('onprem@fabrikam.example')).toBe('none');
    expect(() => sim.importMailbox('onprem@fabrikam.example', data)).toThrow(/has no mailbox here/);
    sim.setMailboxState('onprem@fabrikam.example', 'moving');
    sim.importMailbox('onprem@fabrikam.example', data);
    expect(errorOf(await call('GET', '/users/onprem@fabrikam.example/events'))).toEqual([404, 'MailboxNotEnabledForRESTAPI', NOT_YET]);
    sim.setMailboxState('onprem@fabrikam.example', 'active');
    const events = (await call('GET', '/users/onprem@fabrikam.example/events')).body!.value;
    expect(events.map((e: { iCalUId: string; lastModifiedDateTime: string }) => [e.iCalUId, Date.parse(e.lastModifiedDateTime)])).toEqual([[meeting.uid, Date.parse(data.items[0].lastModified)]]);
    expect(sim.mailSent()).toEqual([]);
    expect(sim.mailbox('ben@fabrikam.example').list()).toHaveLength(benBefore);
  });
});

describe('users added at run time', () => {
  it('a user synced in while it runs is readable at once; taken addresses are refused; snapshots keep users and mailbox states', async () => {
    const { sim, call } = await start();
    const dana = { id: 'aaaaaaaa-0000-4000-8000-0000000000d1', userPrincipalName: 'dana@fabrikam.example', aliases: ['d.evans@fabrikam.example'], displayName: 'Dana Evans', mailbox: false };
    sim.addUser(dana);
    expect((await call('GET', '/users/dana@fabrikam.example')).body).toMatchObject({ id: dana.id, displayName: 'Dana Evans' });
    expect(errorOf(await call('GET', '/users/dana@fabrikam.example/events'))).toEqual([404, 'MailboxNotEnabledForRESTAPI', NOT_YET]);
    expect(() => sim.addUser({ ...dana, id: 'aaaaaaaa-0000-4000-8000-0000000000d2', userPrincipalName: 'dana2@fabrikam.example', aliases: ['a.berg@fabrikam.example'] })).toThrow(/a\.berg@fabrikam\.example already belongs to anna@fabrikam\.example/);
    expect(() => sim.addUser({ ...dana, id: 'not-a-guid', userPrincipalName: 'x@fabrikam.example', aliases: [] })).toThrow(/id/);
    sim.setMailboxState('d.evans@fabrikam.example', 'active');
    sim.mailbox('dana@fabrikam.example').create({ subject: 'Dana starts', start: '2030-05-09T07:00:00Z', end: '2030-05-09T08:00:00Z', timeZone: 'UTC' });
    sim.setMailboxState(ANNA, 'moved-away');

    const { call: again } = await start(JSON.parse(JSON.stringify(sim.exportState())));
    expect((await again('GET', '/users/dana@fabrikam.example/events')).body!.value.map((e: { subject: string }) => e.subject)).toEqual(['Dana starts']);
    expect(errorOf(await again('GET', `/users/${ANNA}/events`))).toEqual([404, 'MailboxNotEnabledForRESTAPI', ON_PREMISES]);
    expect(errorOf(await again('GET', '/users/onprem@fabrikam.example/events'))).toEqual([404, 'MailboxNotEnabledForRESTAPI', NOT_YET]);
    expect((await again('GET', '/users/cleo@fabrikam.example/events')).status).toBe(200);
  });
});
