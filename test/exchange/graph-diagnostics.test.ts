import { afterEach, describe, expect, it } from 'vitest';
import { runGraphDiagnostics } from '../../src-main/exchange/graph/graph-diagnostics.ts';
import { DEMO_APP, DEMO_TENANT, startGraphHarness, type GraphHarness } from './graph-harness.ts';

/**
 * Exchange Online's Test connection with no mailbox to ask: the first run (nobody enrolled yet), or a hybrid
 * organization's Exchange Online connection checked on its own. Graph's clock is still read (one directory request
 * brings its Date header) instead of failing as if a proxy had removed the header.
 */

let h: GraphHarness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const run = (harness: GraphHarness) =>
  runGraphDiagnostics({
    tenant: DEMO_TENANT,
    clientId: DEMO_APP,
    authorityHost: harness.sim.url,
    credential: { kind: 'secret', expires: '2099-01-01' },
    signIn: harness.connection.signIn,
    client: harness.connection.client,
    transport: harness.connection.transport,
    mailboxes: [],
  });

describe('Exchange Online checks without a mailbox to ask', () => {
  it('read the clock from Graph with one directory request, and pass', async () => {
    h = await startGraphHarness();
    const results = await run(h);
    expect(results.map((r) => `${r.id} ${r.ok ? 'ok' : 'failed'}`)).toEqual(['graph-tenant ok', 'graph-app ok', 'graph-credential ok', 'graph-expiry ok', 'graph-consent ok', 'exchange-clock ok']);
    expect(results.at(-1)?.message).toMatch(/^Exchange Online's clock agrees with this computer's/);
    expect(h.requests()).toBe(1);
  });

  it('a clock that is off is said so', async () => {
    h = await startGraphHarness();
    h.sim.setClockSkewMs(90_000);
    const clock = (await run(h)).find((r) => r.id === 'exchange-clock');
    expect(clock).toMatchObject({ ok: false, message: expect.stringMatching(/^This computer's clock is 9\d s behind Exchange Online's/) });
  });
});
