/**
 * State snapshots: a Severa simulator started from another one's exportState() answers as the first one would have:
 * identical listings (guids, timestamps, page tokens, `changedSince`), occurrence guids handed out before still usable,
 * participants with their guids, the server clock's offset; tokens are the one thing a client has to get again.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeveraSeed, loadSeveraState, SeveraStateError, startSeveraSimulator, type SeveraSimulator, type SeveraState } from './severa-simulator.ts';
import { contractCheckingFetch } from './contract-checking-fetch.ts';

const DEMO = fileURLToPath(new URL('../demo/severa-demo.json', import.meta.url));
const AINO = '00000000-0000-4000-8000-0000000000a1';
const MIKKO = '00000000-0000-4000-8000-0000000000a2';
const LEENA = '00000000-0000-4000-8000-0000000000a5';
const MEETING = '00000000-0000-4000-8000-0000000000b1';
const VISIT = '00000000-0000-4000-8000-0000000000c1';
const WEEKLY = '00000000-0000-4000-8000-0000000000c2';

type Json = Record<string, unknown>;

interface Api {
  token: string;
  get(path: string): Promise<{ status: number; body: unknown; next: string | null; date: string | null }>;
  send(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

const checker = contractCheckingFetch();

async function login(sim: SeveraSimulator): Promise<Api> {
  const res = await checker.fetch(`${sim.baseUrl}/v1/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Client_Id: 'demo-client-id' },
    body: JSON.stringify({ client_id: 'demo-client-id', client_secret: 'demo-client-secret', scope: 'activities:read activities:write activities:delete users:read settings:read' }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  const token = ((await res.json()) as { access_token: string }).access_token;
  return apiWith(sim, token);
}

function apiWith(sim: SeveraSimulator, token: string): Api {
  const headers = { Authorization: `Bearer ${token}`, Client_Id: 'demo-client-id', 'Content-Type': 'application/json' };
  const bodyOf = async (res: Response) => (res.status === 204 || res.headers.get('content-length') === '0' ? null : ((await res.json()) as unknown));
  return {
    token,
    get: async (path) => {
      const res = await checker.fetch(`${sim.baseUrl}${path}`, { headers });
      return { status: res.status, body: await bodyOf(res), next: res.headers.get('NextPageToken'), date: res.headers.get('date') };
    },
    send: async (method, path, body) => {
      const res = await checker.fetch(`${sim.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: await bodyOf(res) };
    },
  };
}

/** Every page of a listing: the bodies and page tokens, for word-for-word comparison. */
async function pages(api: Api, query: string, rowCount = 3): Promise<Array<{ body: unknown; next: string | null }>> {
  const out: Array<{ body: unknown; next: string | null }> = [];
  let token: string | null = null;
  for (let i = 0; i < 200; i++) {
    const r = await api.get(`${query}${query.includes('?') ? '&' : '?'}rowCount=${rowCount}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
    if (r.status !== 200) throw new Error(`${query}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    out.push({ body: r.body, next: r.next });
    token = r.next;
    if (!token) return out;
  }
  throw new Error('paging did not end');
}

const withoutSavedAt = (s: SeveraState) => ({ ...s, savedAt: undefined });

let original: SeveraSimulator;
let restored: SeveraSimulator;
let exported: SeveraState;
let before: Api;
let after: Api;
/** A changedSince value from before the writes, and one after the last of them. */
let since: string;
let caughtUp: string;
let created: Json;
let changedOccurrence: string;
let untouchedOccurrence: string;
let participantGuid: string;
/** A page token the first simulator gave, in the middle of a changedSince listing. */
let midwayToken: string;
let midwayQuery: string;

beforeAll(async () => {
  original = await startSeveraSimulator({ seed: loadSeveraSeed(DEMO), rateLimitPerSecond: 0 });
  before = await login(original);
  since = new Date(Date.now() - 1000).toISOString();
  original.advanceClock(60_000);

  // Occurrences are handed out by a listing; change one, delete one, keep one for later.
  const occurrences = (await before.get(`/v1/activities?rowCount=100&userGuids=${AINO}&recurrenceType=Occurrence`)).body as Json[];
  const weekly = occurrences.filter((o) => o.recurrenceParentActivityGuid === WEEKLY);
  expect(weekly.length).toBeGreaterThan(4);
  changedOccurrence = weekly[2].guid as string;
  untouchedOccurrence = weekly[4].guid as string;
  expect((await before.send('PATCH', `/v1/activities/${changedOccurrence}`, [{ op: 'Replace', path: '/location', value: 'Kota' }])).status).toBe(200);
  expect((await before.send('DELETE', `/v1/activities/${weekly[3].guid}`)).status).toBe(204);

  const post = await before.send('POST', '/v1/activities', {
    name: 'Made before the snapshot', startDateTime: '2026-09-01T09:00:00+03:00', endDateTime: '2026-09-01T10:00:00+03:00',
    activityType: { guid: MEETING }, ownerUser: { guid: AINO },
  });
  expect(post.status).toBe(201);
  created = post.body as Json;
  expect((await before.send('PATCH', `/v1/activities/${created.guid}`, [{ op: 'Replace', path: '/name', value: 'Made and renamed before the snapshot' }])).status).toBe(200);
  const joined = await before.send('POST', '/v1/activityparticipants', { activityGuid: created.guid, participantGuid: MIKKO });
  expect(joined.status).toBe(201);
  participantGuid = (joined.body as Json).guid as string;
  await before.send('POST', '/v1/activityparticipants', { activityGuid: created.guid, participantGuid: LEENA });
  const leena = ((await before.get(`/v1/activities/${created.guid}/activityparticipants`)).body as Json[]).find((p) => p.participantGuid === LEENA)!;
  expect((await before.send('DELETE', `/v1/activities/${created.guid}/activityparticipants/${leena.guid}`)).status).toBe(204);
  expect((await before.send('DELETE', `/v1/activities/${VISIT}`)).status).toBe(204);
  original.updateActivity(WEEKLY, { notes: 'Agenda in Teams' });

  midwayQuery = `/v1/activities?changedSince=${encodeURIComponent(since)}&rowCount=2`;
  midwayToken = (await before.get(midwayQuery)).next!;
  expect(midwayToken).toBeTruthy();
  const stamps = ((await before.get('/v1/activities?rowCount=100')).body as Json[]).map((a) => Date.parse(a.lastUpdatedDateTime as string));
  // lastUpdatedDateTime has whole seconds: the next second is after every change.
  caughtUp = new Date(Math.max(...stamps) + 1000).toISOString();

  // Through JSON text, as it goes to a file.
  exported = JSON.parse(JSON.stringify(original.exportState())) as SeveraState;
  restored = await startSeveraSimulator({ state: exported, rateLimitPerSecond: 0 });
  after = await login(restored);
}, 60_000);

afterAll(async () => {
  await Promise.all([original?.close(), restored?.close()]);
});

describe('a Severa simulator started from an exported state', () => {
  it('lists everything word for word as the first one: activities, occurrences, changedSince, users and types, with the same page tokens', async () => {
    const queries = [
      '/v1/activities',
      `/v1/activities?userGuids=${AINO}&includeAsMember=true`,
      `/v1/activities?userGuids=${MIKKO}&includeAsMember=true&recurrenceType=Occurrence`,
      `/v1/activities?changedSince=${encodeURIComponent(since)}`,
      '/v1/activities?recurrenceType=Series',
      '/v1/users',
      '/v1/activitytypes',
    ];
    for (const q of queries) {
      const [a, b] = await Promise.all([pages(before, q), pages(after, q)]);
      expect(b, q).toEqual(a);
    }
    const resumed = await Promise.all([before.get(`${midwayQuery}&pageToken=${encodeURIComponent(midwayToken)}`), after.get(`${midwayQuery}&pageToken=${encodeURIComponent(midwayToken)}`)]);
    expect(resumed[1].status).toBe(200);
    expect(resumed[1].body).toEqual(resumed[0].body);
    expect(checker.problems()).toEqual([]);
  });

  it('reports no changes for a changedSince after the last change', async () => {
    const r = await after.get(`/v1/activities?changedSince=${encodeURIComponent(caughtUp)}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([]);
  });

  it('knows the activities, participants and occurrence guids the first one handed out, before listing anything', async () => {
    // Its own simulator: a listing would hand the occurrences out again and hide a lost one.
    const sim = await startSeveraSimulator({ state: exported, rateLimitPerSecond: 0 });
    try {
      const api = await login(sim);
      for (const guid of [created.guid as string, changedOccurrence, untouchedOccurrence]) {
        const [a, b] = await Promise.all([before.get(`/v1/activities/${guid}`), api.get(`/v1/activities/${guid}`)]);
        expect(b.status, guid).toBe(200);
        expect(b.body, guid).toEqual(a.body);
      }
      expect((await api.get(`/v1/activityparticipants/${participantGuid}`)).body).toMatchObject({ guid: participantGuid, participantGuid: MIKKO, activityGuid: created.guid });
      const patched = await api.send('PATCH', `/v1/activities/${untouchedOccurrence}`, [{ op: 'Replace', path: '/location', value: 'Sauna' }]);
      expect(patched.status).toBe(200);
      expect((patched.body as Json[])[0]).toMatchObject({ guid: untouchedOccurrence, recurrenceType: 'Exception', location: 'Sauna' });
    } finally {
      await sim.close();
    }
  });

  it('keeps the server clock where the first one had moved it', async () => {
    const r = await after.get('/v1/activitytypes?rowCount=1');
    const offset = Date.parse(r.date!) - Date.now();
    expect(offset).toBeGreaterThan(50_000);
    expect(offset).toBeLessThan(70_000);
  });

  it('drops the tokens: a client logs in again', async () => {
    expect((await apiWith(restored, before.token).get('/v1/users')).status).toBe(401);
  });

  it('exports again exactly what it was started from (until it is changed)', async () => {
    const again = await startSeveraSimulator({ state: exported });
    try {
      expect(withoutSavedAt(again.exportState())).toEqual(withoutSavedAt(exported));
    } finally {
      await again.close();
    }
  });

  it('is what makes those guids known: a simulator started from the seed again does not know them', async () => {
    const fresh = await startSeveraSimulator({ seed: loadSeveraSeed(DEMO), rateLimitPerSecond: 0 });
    try {
      const api = await login(fresh);
      for (const guid of [created.guid as string, untouchedOccurrence]) expect((await api.get(`/v1/activities/${guid}`)).status, guid).toBe(404);
      expect((await api.get(`/v1/activities/${VISIT}`)).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});

describe('a Severa snapshot that cannot be loaded', () => {
  const copy = (): any => structuredClone(exported);
  const refuse = (state: unknown) => startSeveraSimulator({ state: state as SeveraState });

  it('needs exactly one of seed and state', async () => {
    await expect(startSeveraSimulator({})).rejects.toThrow(/either a seed or a state/);
    await expect(startSeveraSimulator({ seed: loadSeveraSeed(DEMO), state: exported })).rejects.toThrow(/either a seed or a state/);
  });

  it('names a wrong format or version', async () => {
    await expect(refuse({ ...copy(), version: 2 })).rejects.toThrow(/format version 2; this simulator reads version 1 only/);
    await expect(refuse({ ...copy(), format: 'ews-simulator-state' })).rejects.toThrow(/not a Severa simulator state snapshot/);
    await expect(refuse('text')).rejects.toThrow(SeveraStateError);
  });

  it('names the field that is missing or wrong', async () => {
    const s = copy();
    delete s.activities[0].logId;
    await expect(refuse(s)).rejects.toThrow(/activities\.0\.logId/);
    const t = copy();
    t.activities.find((a: Json) => a.guid === WEEKLY).recurrence.pattern = { weekly: { interval: 0 } };
    await expect(refuse(t)).rejects.toThrow(/interval must be a whole number/);
  });

  it('refuses records whose references do not resolve', async () => {
    const owner = copy();
    owner.activities[0].ownerGuid = 'nobody';
    await expect(refuse(owner)).rejects.toThrow(new RegExp(`activity ${owner.activities[0].guid} .*owner nobody is not in users`));
    const orphan = copy();
    const weekly = orphan.activities.find((a: Json) => a.guid === WEEKLY);
    weekly.exceptionGuids = [];
    await expect(refuse(orphan)).rejects.toThrow(/its series 00000000-0000-4000-8000-0000000000c2 does not list it as an exception/);
    const counter = copy();
    counter.nextSeq = 1;
    await expect(refuse(counter)).rejects.toThrow(/is not below nextSeq 1/);
  });

  it('reports a file that is missing or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'severa-state-'));
    try {
      writeFileSync(join(dir, 'broken.json'), '{"format":');
      expect(() => loadSeveraState(join(dir, 'broken.json'))).toThrow(/broken\.json is not valid JSON/);
      expect(() => loadSeveraState(join(dir, 'missing.json'))).toThrow(/Cannot read the Severa simulator state file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Severa simulator command line', () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

  /** Starts the CLI, waits for its listening line, runs `during`, then stops it with SIGTERM. */
  function runUntilStopped(args: string[], during: (baseUrl: string) => Promise<void>): Promise<{ code: number | null; err: string }> {
    return new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [cli, ...args]);
      let out = '';
      let err = '';
      let started = false;
      p.stderr.on('data', (d: Buffer) => (err += d));
      p.stdout.on('data', (d: Buffer) => {
        out += d;
        const base = /listening on (\S+)/.exec(out)?.[1];
        if (base && !started) {
          started = true;
          during(`${base}/rest-api`).then(() => p.kill('SIGTERM'), (e: unknown) => (p.kill('SIGKILL'), reject(e)));
        }
      });
      p.on('close', (code) => resolve({ code, err }));
    });
  }

  const asSim = (baseUrl: string) => ({ baseUrl }) as SeveraSimulator;

  it('saves the state on SIGTERM with --save-state and starts from it with --state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'severa-state-cli-'));
    const file = join(dir, 'severa-state.json');
    try {
      let guid = '';
      const first = await runUntilStopped(['--data', DEMO, '--save-state', file], async (baseUrl) => {
        const api = await login(asSim(baseUrl));
        const r = await api.send('POST', '/v1/activities', { name: 'Made before the stop', startDateTime: '2026-09-01T09:00:00+03:00', activityType: { guid: MEETING }, ownerUser: { guid: AINO } });
        guid = (r.body as Json).guid as string;
      });
      expect(first.code).toBe(0);
      const saved = JSON.parse(readFileSync(file, 'utf8')) as SeveraState;
      expect(saved.activities.some((a) => a.guid === guid)).toBe(true);

      let name: unknown;
      const second = await runUntilStopped(['--state', file], async (baseUrl) => {
        name = ((await (await login(asSim(baseUrl))).get(`/v1/activities/${guid}`)).body as Json).name;
      });
      expect(second.code).toBe(0);
      expect(name).toBe('Made before the stop');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
