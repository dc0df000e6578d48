/**
 * Server behaviours seen on real Exchange installations that differ from the usual one, as the simulator offers them:
 * SOAP faults with HTTP 200 and/or without `detail` or with a generic faultcode (faults.faultStyle), GET refused
 * before any login with only Basic offered (seed server.refuseGet + authMethods), and no HTTP Date header
 * (seed server.sendDateHeader, setSendDateHeader). Raw HTTP, read with fast-xml-parser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEwsSimulator } from './ews-simulator.ts';
import type { EwsSeed, EwsSimulator } from './ews-simulator.ts';
import { basicAuth, bodyOf, calendarItemXml, createXml, envelope, faultCode, messages, pick, soap } from './ews-test-client.ts';

const AINO = 'aino.virtanen@contoso.example';
const MIKKO = 'mikko.lahtinen@contoso.example';
const RESOLVE = '<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>aino</m:UnresolvedEntry></m:ResolveNames>';
const SYNC = '<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>';

function seed(server: Record<string, unknown> = {}): EwsSeed {
  return {
    timeZone: 'Europe/Helsinki',
    server: { netbiosDomain: 'CONTOSO', dnsDomain: 'contoso.example', authMethods: ['Negotiate', 'NTLM', 'Basic'], ...server },
    delegates: [
      { username: 'svc-severa-sync', password: 'demo-delegate-password', impersonation: 'all' },
      { username: 'svc-limited', password: 'demo-limited-password', impersonation: [AINO] },
    ],
    mailboxes: [
      { primarySmtp: AINO, displayName: 'Aino Virtanen', username: 'aino.virtanen', password: 'demo-aino-password' },
      { primarySmtp: MIKKO, displayName: 'Mikko Lahtinen', username: 'mikko.lahtinen', password: 'demo-mikko-password' },
    ],
    items: [],
  } as EwsSeed;
}

const limited = { user: 'CONTOSO\\svc-limited', password: 'demo-limited-password' };

/** Text of faultcode/faultstring, which may carry attributes (xmlns:a, xml:lang). */
function faultText(r: Awaited<ReturnType<typeof soap>>, name: 'faultcode' | 'faultstring'): unknown {
  const v = pick(bodyOf(r), 'Fault', name);
  return v && typeof v === 'object' ? v['#text'] : v;
}

describe('SOAP faults as some servers send them (faults.faultStyle)', () => {
  let sim: EwsSimulator;
  beforeAll(async () => {
    sim = await startEwsSimulator({ seed: seed() });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("by default as Exchange: HTTP 500, faultcode a:<Code>, detail with the ResponseCode", async () => {
    sim.setFaults({});
    const r = await soap(sim.url, SYNC, { ...limited, impersonate: MIKKO });
    expect(r.status).toBe(500);
    expect(faultText(r, 'faultcode')).toBe('a:ErrorImpersonateUserDenied');
    expect(faultCode(r)).toBe('ErrorImpersonateUserDenied');
  });

  it('HTTP 200 without detail: the faultcode alone names the problem', async () => {
    sim.setFaults({ faultStyle: { httpStatus: 200, detail: false } });
    const r = await soap(sim.url, SYNC, { ...limited, impersonate: MIKKO });
    expect(r.status).toBe(200);
    expect(pick(bodyOf(r), 'Fault', 'detail')).toBeUndefined();
    expect(faultText(r, 'faultcode')).toBe('a:ErrorImpersonateUserDenied');
    expect(faultText(r, 'faultstring')).toBe('The account does not have permission to impersonate the requested user.');
    sim.setFaults({});
  });

  it('a generic s:Client faultcode with only the faultstring, with HTTP 500 or 200; throttling faults too', async () => {
    sim.setFaults({ faultStyle: { detail: false, faultCode: 'client' } });
    const r = await soap(sim.url, SYNC, { ...limited, impersonate: MIKKO });
    expect(r.status).toBe(500);
    expect(faultText(r, 'faultcode')).toBe('s:Client');
    expect(r.text).not.toContain('ErrorImpersonateUserDenied');
    sim.setFaults({ faultStyle: { httpStatus: 200, faultCode: 'server' }, forceNext: { kind: 'serverBusy', count: 1 } });
    const busy = await soap(sim.url, SYNC, { impersonate: AINO });
    expect(busy.status).toBe(200);
    expect(faultText(busy, 'faultcode')).toBe('s:Server');
    // With detail kept, the back-off is still there.
    expect(faultCode(busy)).toBe('ErrorServerBusy');
    expect(busy.text).toContain('BackOffMilliseconds');
    sim.setFaults({});
  });

  it('a partial rate picks the faults from the seeded PRNG: the same seed gives the same statuses', async () => {
    const statuses = async (): Promise<number[]> => {
      sim.setFaults({ seed: 42, faultStyle: { httpStatus: 200, rate: 0.5 } });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await soap(sim.url, SYNC, { ...limited, impersonate: MIKKO })).status);
      return out;
    };
    const first = await statuses();
    expect(await statuses()).toEqual(first);
    expect(first).toContain(200);
    expect(first).toContain(500);
    sim.setFaults({});
  });

  it('refuses a fault style it cannot send, naming the field', () => {
    expect(() => sim.setFaults({ faultStyle: { httpStatus: 404 as 200 } })).toThrow(/faultStyle\.httpStatus must be 200 or 500/);
    expect(() => sim.setFaults({ faultStyle: { faultCode: 'soap' as 'client' } })).toThrow(/faultStyle\.faultCode/);
    expect(() => sim.setFaults({ faultStyle: { rate: 2 } })).toThrow(/faultStyle\.rate/);
  });
});

describe('GET refused before any login, Basic only (seed server.refuseGet, authMethods)', () => {
  let sim: EwsSimulator;
  beforeAll(async () => {
    sim = await startEwsSimulator({ seed: seed({ authMethods: ['Basic'], refuseGet: true }) });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('answers GET with IIS 405 (Allow: POST) before asking for a login, with or without credentials', async () => {
    const variants: Array<Record<string, string>> = [{}, { Authorization: basicAuth('CONTOSO\\svc-severa-sync', 'demo-delegate-password') }];
    for (const headers of variants) {
      const res = await fetch(sim.url, { headers });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(await res.text()).toContain('405 - HTTP verb used to access this page is not allowed.');
    }
  });

  it('offers only Basic on a POST without credentials, refuses an NTLM negotiate, and serves Basic', async () => {
    const bare = await fetch(sim.url, { method: 'POST', body: envelope(RESOLVE) });
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Basic realm="exch01.contoso.example"');
    const ntlm = await fetch(sim.url, { method: 'POST', headers: { Authorization: 'NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==' }, body: '' });
    expect(ntlm.status).toBe(401);
    expect(ntlm.headers.get('www-authenticate')).toBe('Basic realm="exch01.contoso.example"');
    const ok = await soap(sim.url, RESOLVE);
    expect(ok.status).toBe(200);
    expect(messages(ok, 'ResolveNames')[0]?.['@ResponseClass']).toBe('Success');
  });
});

describe('no HTTP Date header (seed server.sendDateHeader, setSendDateHeader)', () => {
  it('leaves the Date header out of every answer (401, SOAP, 404), and the skewed clock still stamps the items', async () => {
    const sim = await startEwsSimulator({ seed: seed({ sendDateHeader: false }), clockSkewMs: 120_000 });
    try {
      const unauthenticated = await fetch(sim.url, { method: 'POST', body: envelope(RESOLVE) });
      expect(unauthenticated.status).toBe(401);
      expect(unauthenticated.headers.get('date')).toBeNull();
      expect((await fetch(sim.url.replace('/EWS/Exchange.asmx', '/owa/'))).headers.get('date')).toBeNull();
      const before = Date.now();
      const created = await soap(sim.url, createXml(calendarItemXml('Stamped', '2026-12-01T08:00:00Z', '2026-12-01T09:00:00Z')), { impersonate: AINO });
      expect(created.headers.get('date')).toBeNull();
      expect(messages(created, 'CreateItem')[0]?.ResponseCode).toBe('NoError');
      // The server's clock runs two minutes ahead: LastModifiedTime says so (whole seconds, as Exchange writes it).
      const stamped = Date.parse(sim.mailbox(AINO).items().find((i) => i.subject === 'Stamped')!.lastModifiedTime);
      expect(stamped - before).toBeGreaterThan(118_000);
      expect(stamped - Date.now()).toBeLessThan(121_000);
      sim.setSendDateHeader(true);
      const withDate = await soap(sim.url, RESOLVE);
      expect(Date.parse(withDate.headers.get('date')!) - Date.now()).toBeGreaterThan(115_000);
    } finally {
      await sim.close();
    }
  });

  it('sends the Date header by default', async () => {
    const sim = await startEwsSimulator({ seed: seed() });
    try {
      const r = await soap(sim.url, RESOLVE);
      expect(Math.abs(Date.parse(r.headers.get('date')!) - Date.now())).toBeLessThan(2_000);
    } finally {
      await sim.close();
    }
  });
});
