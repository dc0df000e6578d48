/**
 * JSON batching (POST /v1.0/$batch, learn.microsoft.com/graph/json-batching): up to 20 requests, each answered with its
 * own status, headers and body (a 429 inside a batch carries its own Retry-After); `dependsOn` orders requests and a
 * request whose dependency failed gets 424 Failed Dependency. Independent requests run up to four at a time, as Graph
 * runs them, so they count against the mailbox concurrency limit like separate requests.
 */
import { GraphError } from './graph-errors.ts';
import type { GraphResult } from './graph-errors.ts';

export const MAX_BATCH_REQUESTS = 20;
const PARALLEL = 4;

export interface SubRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface SubResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the batch envelope; problems with the whole batch are a 400 for the batch. */
export function readBatch(body: unknown): Array<SubRequest & { dependsOn: string[] }> {
  if (!isObj(body) || !Array.isArray(body.requests)) throw new GraphError(400, 'BadRequest', 'Invalid batch payload format.');
  if (body.requests.length === 0) throw new GraphError(400, 'BadRequest', 'Invalid batch payload format: the requests collection is empty.');
  if (body.requests.length > MAX_BATCH_REQUESTS) throw new GraphError(400, 'BadRequest', `Number of requests in batch exceeds the maximum of ${MAX_BATCH_REQUESTS}.`);
  const seen = new Set<string>();
  const out = body.requests.map((r: unknown) => {
    if (!isObj(r) || (typeof r.id !== 'string' && typeof r.id !== 'number') || typeof r.method !== 'string' || typeof r.url !== 'string') {
      throw new GraphError(400, 'BadRequest', 'Invalid batch payload format: every request needs id, method and url.');
    }
    const id = String(r.id);
    if (seen.has(id.toLowerCase())) throw new GraphError(400, 'BadRequest', `Batch request contains duplicate request id '${id}'.`);
    seen.add(id.toLowerCase());
    const headers: Record<string, string> = {};
    if (isObj(r.headers)) for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = String(v);
    const dependsOn = Array.isArray(r.dependsOn) ? r.dependsOn.map(String) : [];
    return { id, method: r.method.toUpperCase(), url: r.url, headers, body: r.body, dependsOn };
  });
  for (const r of out) {
    for (const d of r.dependsOn) if (!seen.has(d.toLowerCase())) throw new GraphError(400, 'BadRequest', `Request '${r.id}' depends on '${d}', which is not in the batch.`);
  }
  return out;
}

/** Runs the sub-requests through `exec` (the same path a single request takes) and assembles the batch answer. */
export async function runBatch(body: unknown, exec: (r: SubRequest) => Promise<SubResponse>): Promise<GraphResult> {
  const requests = readBatch(body);
  const results = new Map<string, SubResponse>();
  const done = new Map<string, Promise<SubResponse>>();
  let running = 0;
  const waiters: Array<() => void> = [];
  const slot = async (): Promise<void> => {
    if (running < PARALLEL) {
      running++;
      return;
    }
    await new Promise<void>((resolve) => waiters.push(resolve));
    running++;
  };
  const free = (): void => {
    running--;
    waiters.shift()?.();
  };
  const start = (r: (typeof requests)[number]): Promise<SubResponse> => {
    let p = done.get(r.id);
    if (p) return p;
    p = (async () => {
      const deps = await Promise.all(r.dependsOn.map((d) => start(requests.find((x) => x.id.toLowerCase() === d.toLowerCase())!)));
      if (deps.some((d) => d.status >= 400)) {
        return { id: r.id, status: 424, headers: { 'Content-Type': 'application/json' }, body: { error: { code: 'FailedDependency', message: 'Failed dependency: a request this one depends on did not succeed.' } } };
      }
      if (r.body !== undefined && r.body !== null && !r.headers['content-type']) {
        return { id: r.id, status: 400, headers: { 'Content-Type': 'application/json' }, body: { error: { code: 'BadRequest', message: `Write request id : ${r.id} does not contain Content-Type header or body.` } } };
      }
      await slot();
      try {
        return await exec(r);
      } finally {
        free();
      }
    })();
    done.set(r.id, p);
    return p;
  };
  // A dependency cycle would wait forever: refuse it up front.
  const visiting = new Set<string>();
  const check = (id: string, path: string[]): void => {
    if (path.includes(id)) throw new GraphError(400, 'BadRequest', `Batch requests form a dependency cycle: ${[...path, id].join(' -> ')}.`);
    if (visiting.has(id)) return;
    visiting.add(id);
    const r = requests.find((x) => x.id.toLowerCase() === id.toLowerCase())!;
    for (const d of r.dependsOn) check(d, [...path, id]);
  };
  for (const r of requests) check(r.id, []);
  await Promise.all(requests.map(start));
  for (const r of requests) results.set(r.id, await done.get(r.id)!);
  return { status: 200, body: { responses: requests.map((r) => results.get(r.id)!) } };
}
