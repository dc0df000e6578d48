/**
 * Proven by clients nobody here wrote: Microsoft's JavaScript Graph SDK (@microsoft/microsoft-graph-client, its
 * middleware chain with the retry handler, PageIterator and BatchRequestContent) with tokens from @azure/identity
 * (ClientSecretCredential, ClientCertificateCredential; msal-node inside) drive the simulator over HTTPS. The SDK trusts
 * the test CA through options only (an https.Agent for identity, an undici dispatcher for the SDK's fetch); TLS
 * checks stay on. Every request and response is held to Microsoft's OpenAPI subset when it is present.
 */
import { Agent as HttpsAgent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import { BatchRequestContent, BatchResponseContent, Client, PageIterator } from '@microsoft/microsoft-graph-client';
import type { PageCollection } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { startGraphSimulator } from './graph-simulator.ts';
import type { GraphSimulator } from './graph-simulator.ts';
import { createClientCertificate } from './test-ca.ts';
import type { IssuedCertificate } from './test-ca.ts';
import { GRAPH_CONTRACT_AVAILABLE, GRAPH_CONTRACT_SKIP_REASON } from './graph-contract.ts';
import { APP_ID, SECRET, TENANT_ID, testSeed } from './graph-test-client.ts';

let sim: GraphSimulator;
let cert: IssuedCertificate;
let client: Client;
const PROP = 'String {8b5e2f1c-0d3a-4c1e-9f3b-5a6d7e8f9a0b} Name SeveraGuid';

function identityOptions() {
  return { authorityHost: sim.url, disableInstanceDiscovery: true, agent: new HttpsAgent({ ca: sim.caCertificatePem }) };
}

function graphClient(credential: TokenCredential): Client {
  return Client.initWithMiddleware({
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: ['https://graph.microsoft.com/.default'] }),
    baseUrl: `${sim.url}/`,
    customHosts: new Set(['127.0.0.1']),
    fetchOptions: { dispatcher: new Agent({ connect: { ca: sim.caCertificatePem } }) } as never,
  });
}

beforeAll(async () => {
  cert = createClientCertificate();
  sim = await startGraphSimulator({ seed: testSeed({ certificatePem: cert.certPem }) });
  client = graphClient(new ClientSecretCredential(TENANT_ID, APP_ID, SECRET, identityOptions()));
  if (!GRAPH_CONTRACT_AVAILABLE) console.log(`graph-sdk.test.ts: contract checks ${GRAPH_CONTRACT_SKIP_REASON}`);
});
afterAll(async () => {
  await sim.close();
});

describe('Microsoft Graph JavaScript SDK + @azure/identity against the simulator', () => {
  it('gets a token with a client secret and with a certificate, and looks users up by UPN and by proxy address', async () => {
    const me = await client.api('/users/anna@fabrikam.example').select('id,mail,userPrincipalName').get();
    expect(me).toMatchObject({ id: 'aaaaaaaa-0000-4000-8000-000000000001', mail: 'anna@fabrikam.example' });
    const certClient = graphClient(new ClientCertificateCredential(TENANT_ID, APP_ID, { certificate: `${cert.certPem}${cert.keyPem}` }, identityOptions()));
    const byAlias = await certClient.api('/users').filter("proxyAddresses/any(x:x eq 'smtp:a.berg@fabrikam.example')").select('id,displayName').get();
    expect(byAlias.value).toEqual([{ id: 'aaaaaaaa-0000-4000-8000-000000000001', displayName: 'Anna Berg' }]);
    expect(sim.counters().tokens.client_credentials).toBe(2);
    await expect(client.api('/users/ghost@fabrikam.example').get()).rejects.toMatchObject({ statusCode: 404, code: 'Request_ResourceNotFound' });
  });

  it('creates, reads (with $expand of an extended property), updates and deletes an event; a stale If-Match is 412', async () => {
    const created = await client.api('/users/ben@fabrikam.example/events').post({
      subject: 'SDK event',
      start: { dateTime: '2030-09-02T09:00:00', timeZone: 'Europe/Helsinki' },
      end: { dateTime: '2030-09-02T10:00:00', timeZone: 'Europe/Helsinki' },
      body: { contentType: 'text', content: 'Created by the SDK' },
      singleValueExtendedProperties: [{ id: PROP, value: 'sdk-1' }],
      transactionId: 'sdk-tx-1',
    });
    expect(created).toMatchObject({ subject: 'SDK event', type: 'singleInstance' });
    const read = await client
      .api(`/users/ben@fabrikam.example/events/${created.id}`)
      .header('Prefer', 'outlook.timezone="FLE Standard Time"')
      .expand(`singleValueExtendedProperties($filter=id eq '${PROP}')`)
      .get();
    expect(read.start).toEqual({ dateTime: '2030-09-02T09:00:00.0000000', timeZone: 'FLE Standard Time' });
    expect(read.singleValueExtendedProperties).toEqual([{ id: PROP, value: 'sdk-1' }]);
    const found = await client.api('/users/ben@fabrikam.example/events').filter(`singleValueExtendedProperties/any(ep: ep/id eq '${PROP}' and ep/value eq 'sdk-1')`).select('id').get();
    expect(found.value.map((e: { id: string }) => e.id)).toEqual([created.id]);
    const updated = await client.api(`/users/ben@fabrikam.example/events/${created.id}`).header('If-Match', created['@odata.etag']).patch({ subject: 'SDK event (renamed)' });
    expect(updated.subject).toBe('SDK event (renamed)');
    await expect(client.api(`/users/ben@fabrikam.example/events/${created.id}`).header('If-Match', created['@odata.etag']).patch({ subject: 'stale' })).rejects.toMatchObject({ statusCode: 412 });
    await client.api(`/users/ben@fabrikam.example/events/${created.id}`).delete();
    await expect(client.api(`/users/ben@fabrikam.example/events/${created.id}`).get()).rejects.toMatchObject({ statusCode: 404, code: 'ErrorItemNotFound' });
  });

  it('runs a delta round with PageIterator (odata.maxpagesize), then a second round with a change and a deletion', async () => {
    const cleo = sim.mailbox('cleo@fabrikam.example');
    const ids = Array.from({ length: 5 }, (_, i) => cleo.create({ subject: `Delta ${i}`, start: `2030-10-0${i + 1}T08:00:00Z`, end: `2030-10-0${i + 1}T09:00:00Z` }).id);
    const options = { headers: { Prefer: 'odata.maxpagesize=2' } };
    const roundFrom = async (response: PageCollection) => {
      const seen: Array<Record<string, unknown>> = [];
      const it = new PageIterator(client, response, (e) => {
        seen.push(e as Record<string, unknown>);
        return true;
      }, options);
      await it.iterate();
      return { seen, deltaLink: it.getDeltaLink() };
    };
    const first = await roundFrom(await client.api('/users/cleo@fabrikam.example/calendarView/delta').query({ startDateTime: '2030-10-01T00:00:00Z', endDateTime: '2030-11-01T00:00:00Z' }).headers(options.headers).get());
    expect(first.seen.map((e) => e.subject).sort()).toEqual(['Delta 0', 'Delta 1', 'Delta 2', 'Delta 3', 'Delta 4']);
    expect(first.deltaLink).toContain('$deltatoken=');
    cleo.update(ids[1], { subject: 'Delta 1 (changed)' });
    cleo.delete(ids[3]);
    const second = await roundFrom(await client.api(first.deltaLink!).headers(options.headers).get());
    expect(second.seen.filter((e) => !e['@removed']).map((e) => e.subject)).toEqual(['Delta 1 (changed)']);
    expect(second.seen.filter((e) => e['@removed']).map((e) => e.id)).toEqual([ids[3]]);
  });

  it('sends a serial $batch with BatchRequestContent (dependsOn) and reads each answer with BatchResponseContent', async () => {
    const create = new Request(`${sim.graphUrl}/users/anna@fabrikam.example/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ subject: 'Batched by the SDK', start: { dateTime: '2030-09-03T08:00:00', timeZone: 'UTC' }, end: { dateTime: '2030-09-03T09:00:00', timeZone: 'UTC' } }),
    });
    const list = new Request(`${sim.graphUrl}/users/anna@fabrikam.example/events?$select=subject`, { method: 'GET' });
    const missing = new Request(`${sim.graphUrl}/users/anna@fabrikam.example/events/AAMkAGhvc3Q=`, { method: 'GET' });
    const batch = new BatchRequestContent([{ id: '1', request: create }, { id: '2', request: list, dependsOn: ['1'] }, { id: '3', request: missing, dependsOn: ['2'] }]);
    const answer = new BatchResponseContent(await client.api('/$batch').post(await batch.getContent()));
    expect(answer.getResponseById('1').status).toBe(201);
    const listed = await answer.getResponseById('2').json();
    expect(listed.value.map((e: { subject: string }) => e.subject)).toContain('Batched by the SDK');
    expect(answer.getResponseById('3').status).toBe(400);
  });

  it('a 429 with Retry-After is waited out and retried by the SDK\'s retry handler', async () => {
    sim.resetCounters();
    sim.setFaults({ forceNext: { kind: 'throttle', count: 1 }, retryAfterSeconds: 1, onlyRoutes: ['events.list'] });
    const started = Date.now();
    const r = await client.api('/users/anna@fabrikam.example/events').select('subject').get();
    expect(Array.isArray(r.value)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sim.counters().byStatus['429']).toBe(1);
    expect(sim.faultsInjected().throttle).toBe(1);
    sim.setFaults({});
  });

  it.skipIf(!GRAPH_CONTRACT_AVAILABLE)(`all of it within Microsoft's OpenAPI description (${GRAPH_CONTRACT_AVAILABLE ? 'present' : GRAPH_CONTRACT_SKIP_REASON})`, () => {
    expect(sim.contractViolations()).toEqual([]);
  });
});
