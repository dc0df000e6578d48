/**
 * State snapshots (export, restore, identical answers, tokens still valid, bad snapshots), mailboxes moved as neutral
 * JSON (between Graph simulators, and from the EWS simulator's items), the seed's checks, and the command line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGraphSeed, startGraphSimulator } from './graph-simulator.ts';
import { GraphStateError } from './graph-state.ts';
import { GraphSeedError, validateGraphSeed } from './graph-seed.ts';
import { neutralFromEwsItems } from './neutral-mailbox.ts';
import { appToken, fetchTrusting, graphCaller, testSeed } from './graph-test-client.ts';
import { loadEwsSeed, startEwsSimulator } from '../ews/ews-simulator.ts';

const PROP = 'String {8b5e2f1c-0d3a-4c1e-9f3b-5a6d7e8f9a0b} Name SeveraGuid';
const WINDOW = 'startDateTime=2030-05-01T00:00:00Z&endDateTime=2030-06-01T00:00:00Z';

describe('state snapshots', () => {
  it('a restored simulator answers as the first did: same ids and etags, old tokens and delta links still valid, next id continues', async () => {
    const a = await startGraphSimulator({ seed: testSeed() });
    const token = await appToken(a);
    const callA = graphCaller(a, token);
    const made = await callA('POST', '/users/anna@fabrikam.example/events', { subject: 'Kept', start: { dateTime: '2030-05-02T08:00:00', timeZone: 'UTC' }, end: { dateTime: '2030-05-02T09:00:00', timeZone: 'UTC' } });
    const delta = await callA('GET', `/users/anna@fabrikam.example/calendarView/delta?${WINDOW}`);
    const state = JSON.parse(JSON.stringify(a.exportState()));
    await a.close();

    const b = await startGraphSimulator({ state });
    const callB = graphCaller(b, token);
    const again = await callB('GET', `/users/anna@fabrikam.example/events/${made.body!.id}`);
    expect(again.body).toMatchObject({ subject: 'Kept', changeKey: made.body!.changeKey, iCalUId: made.body!.iCalUId });
    const link = String(delta.body!['@odata.deltaLink']).replace(/^https:\/\/127\.0\.0\.1:\d+/, b.url);
    const quiet = await callB('GET', link);
    expect([quiet.status, quiet.body!.value]).toEqual([200, []]);
    const next = await callB('POST', '/users/anna@fabrikam.example/events', { subject: 'Next', start: { dateTime: '2030-05-03T08:00:00', timeZone: 'UTC' }, end: { dateTime: '2030-05-03T09:00:00', timeZone: 'UTC' } });
    expect(next.body!.id).not.toBe(made.body!.id);
    expect((await callB('GET', link)).body!.value.map((e: { subject: string }) => e.subject)).toEqual(['Next']);
    await b.close();

    // A simulator started from the seed again has other keys: the old token and delta link are refused.
    const c = await startGraphSimulator({ seed: testSeed() });
    expect((await graphCaller(c, token)('GET', '/users/anna@fabrikam.example/events')).status).toBe(401);
    const fresh = graphCaller(c, await appToken(c));
    expect((await fresh('GET', link.replace(/^https:\/\/127\.0\.0\.1:\d+/, c.url))).status).toBe(410);
    await c.close();
  });

  it('a bad snapshot is refused naming the first problem', async () => {
    const a = await startGraphSimulator({ seed: testSeed() });
    a.mailbox('ben@fabrikam.example').create({ subject: 'Item', start: '2030-01-01T08:00:00Z', end: '2030-01-01T09:00:00Z' });
    const good = a.exportState();
    await a.close();
    await expect(startGraphSimulator({ state: { ...good, format: 'ews-simulator-state' } as never })).rejects.toThrow(GraphStateError);
    const tampered = structuredClone(good);
    tampered.calendars.find((c) => c.events.length)!.events[0].changeKey = 'AAAA';
    await expect(startGraphSimulator({ state: tampered })).rejects.toThrow(/events\[0\] \('Item'\): its changeKey does not match/);
    await expect(startGraphSimulator({ seed: testSeed(), state: good })).rejects.toThrow(/exactly one/);
  });
});

describe('mailboxes as neutral JSON', () => {
  it('a mailbox exported from one Graph simulator is imported into another under new ids, items intact', async () => {
    const a = await startGraphSimulator({ seed: testSeed() });
    const s = a.mailbox('anna@fabrikam.example').create({
      subject: 'Series',
      start: '2030-05-06T07:00:00Z',
      end: '2030-05-06T07:30:00Z',
      timeZone: 'Europe/Helsinki',
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] }, range: { type: 'numbered', startDate: '2030-05-06', numberOfOccurrences: 4 } },
      extendedProperties: [{ id: PROP, value: 'abc' }],
    });
    a.mailbox('anna@fabrikam.example').updateOccurrence(s.id, '2030-05-13T07:00:00Z', { subject: 'Series (special)' });
    a.mailbox('anna@fabrikam.example').cancelOccurrence(s.id, '2030-05-20T07:00:00Z');
    const exported = a.exportMailbox('anna@fabrikam.example');
    await a.close();
    const b = await startGraphSimulator({ seed: testSeed() });
    expect(b.importMailbox('ben@fabrikam.example', JSON.parse(JSON.stringify(exported)))).toBe(1);
    const call = graphCaller(b, await appToken(b));
    const view = await call('GET', `/users/ben@fabrikam.example/calendarView?${WINDOW}`);
    expect(view.body!.value.map((e: { subject: string; type: string }) => `${e.type}:${e.subject}`)).toEqual(['occurrence:Series', 'exception:Series (special)', 'occurrence:Series']);
    const found = await call('GET', `/users/ben@fabrikam.example/events?$filter=${encodeURIComponent(`singleValueExtendedProperties/any(ep: ep/id eq '${PROP}' and ep/value eq 'abc')`)}`);
    expect(found.body!.value[0]).toMatchObject({ iCalUId: s.uid, type: 'seriesMaster' });
    expect(found.body!.value[0].id).not.toBe(s.id);
    expect(b.mailSent()).toEqual([]);
    await b.close();
  });

  it('the EWS simulator\'s items of the demo firm import into the Graph simulator: UIDs, series with moved and cancelled occurrences, extended properties', async () => {
    const ews = await startEwsSimulator({ seed: loadEwsSeed('test/peers/demo/ews-demo.json') });
    const aino = ews.mailbox('aino.virtanen@contoso.example');
    aino.create({ subject: 'Tagged in EWS', start: '2030-05-07T08:00:00Z', end: '2030-05-07T09:00:00Z', timeZone: 'Europe/Helsinki', extendedProperties: [{ propertySetId: '8b5e2f1c-0d3a-4c1e-9f3b-5a6d7e8f9a0b', propertyName: 'SeveraGuid', propertyType: 'String', value: 'from-ews' }] });
    const items = aino.items();
    await ews.close();
    const neutral = neutralFromEwsItems({ address: 'aino.virtanen@contoso.example', displayName: 'Aino Virtanen' }, items);
    const g = await startGraphSimulator({ seed: testSeed() });
    g.importMailbox('anna@fabrikam.example', neutral);
    const call = graphCaller(g, await appToken(g));
    const team = items.find((i) => i.subject === 'Weekly team meeting')!;
    const master = (await call('GET', `/users/anna@fabrikam.example/events?$filter=${encodeURIComponent("subject eq 'Weekly team meeting'")}`)).body!.value[0];
    expect(master).toMatchObject({ iCalUId: team.uid, type: 'seriesMaster', recurrence: { pattern: { type: 'weekly', daysOfWeek: ['monday'] }, range: { type: 'numbered', numberOfOccurrences: 26 } }, start: { dateTime: `${team.start.slice(0, 19)}.0000000` } });
    const inst = await call('GET', `/users/anna@fabrikam.example/events/${master.id}/instances?startDateTime=${team.start}&endDateTime=${new Date(Date.parse(team.start) + 8 * 7 * 86_400_000).toISOString()}`);
    expect(inst.body!.value.map((e: { type: string }) => e.type)).toEqual(['occurrence', 'occurrence', 'occurrence', 'exception', 'occurrence', 'occurrence', 'occurrence']);
    expect(inst.body!.value[3].subject).toBe('Weekly team meeting (moved)');
    const tagged = await call('GET', `/users/anna@fabrikam.example/events?$filter=${encodeURIComponent(`singleValueExtendedProperties/any(ep: ep/id eq '${PROP}' and ep/value eq 'from-ews')`)}`);
    expect(tagged.body!.value.map((e: { subject: string }) => e.subject)).toEqual(['Tagged in EWS']);
    expect(g.contractViolations()).toEqual([]);
    await g.close();
  });
});

describe('seed and command line', () => {
  it('the demo seed loads; seed mistakes name the field', () => {
    expect(loadGraphSeed('test/peers/demo/graph-demo.json').users).toHaveLength(5);
    expect(() => validateGraphSeed({ ...testSeed(), users: [{ id: 'x', userPrincipalName: 'a@b', displayName: 'A' }] })).toThrow(/users\.0\.id/);
    expect(() => validateGraphSeed({ ...testSeed(), events: [{ mailbox: 'ghost@fabrikam.example', subject: 's', start: 'today', end: 'today' }] })).toThrow(GraphSeedError);
  });

  it('npm run peer:graph prints listening on https://127.0.0.1:P and the CA file; --save-state then --state carries on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-cli-'));
    const run = (args: string[]) =>
      new Promise<{ url: string; ca: string; stop: () => Promise<number> }>((resolve, reject) => {
        const child = spawn(process.execPath, ['test/peers/graph/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
          const ca = /CA certificate: (.+)/.exec(out)?.[1];
          if (url && ca) resolve({ url, ca: ca.trim(), stop: () => new Promise((r) => (child.once('exit', (code) => r(code ?? -1)), child.kill('SIGTERM'))) });
        });
        child.once('exit', (code) => reject(new Error(`cli exited ${code}: ${out}`)));
      });
    const first = await run(['--data', 'test/peers/demo/graph-demo.json', '--ca-out', join(dir, 'ca.pem'), '--save-state', join(dir, 'state.json')]);
    expect(first.ca).toBe(join(dir, 'ca.pem'));
    const f = fetchTrusting(readFileSync(first.ca, 'utf8'));
    expect((await f(`${first.url}/contoso.example/v2.0/.well-known/openid-configuration`)).status).toBe(200);
    expect(await first.stop()).toBe(0);
    const second = await run(['--state', join(dir, 'state.json')]);
    const f2 = fetchTrusting(readFileSync(second.ca, 'utf8'));
    expect((await f2(`${second.url}/00000000-0000-4000-8000-0000000a0000/discovery/v2.0/keys`)).status).toBe(200);
    expect(await second.stop()).toBe(0);
  });
});
