import { SEVERA_CONTRACT_AVAILABLE, severaContract, type OperationContract } from './openapi-contract.ts';

/**
 * A fetch that checks, on the wire, every request it sends and every answer it gets against the OpenAPI document:
 * what the product's client sends and what the simulator answers are both held to the contract, independently of the
 * simulator's own checks. Problems are collected (not thrown) so a test can send a bad request on purpose.
 * Where the document is absent (a user's clone), it passes requests through unchecked and says so (`enabled: false`);
 * the tests that assert on what it saw are then skipped with the reason (see `contractTestTitle`).
 */

export interface CheckedExchange {
  operationId: string | null;
  method: string;
  path: string;
  status: number | null;
  requestProblems: string[];
  responseProblems: string[];
}

export interface ContractCheckingFetch {
  /** False where the document is absent: nothing is checked. */
  enabled: boolean;
  fetch: typeof fetch;
  exchanges: CheckedExchange[];
  /** Every problem seen so far, one line each. */
  problems(): string[];
  /** operationIds seen with a 2xx answer. */
  coveredOperations(): Set<string>;
}

function matchOperation(ops: OperationContract[], method: string, apiPath: string): OperationContract | null {
  for (const op of ops) {
    if (op.method !== method) continue;
    const pattern = new RegExp(`^${op.path.replace(/\{\w+\}/g, '[^/]+')}$`);
    if (pattern.test(apiPath)) return op;
  }
  return null;
}

export function contractCheckingFetch(inner: typeof fetch = fetch): ContractCheckingFetch {
  if (!SEVERA_CONTRACT_AVAILABLE) return { enabled: false, fetch: inner, exchanges: [], problems: () => [], coveredOperations: () => new Set() };
  const contract = severaContract();
  const exchanges: CheckedExchange[] = [];
  const checked = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const apiPath = url.pathname.replace(/^.*?\/rest-api/, '');
    const op = matchOperation(contract.operations, method, apiPath);
    const exchange: CheckedExchange = { operationId: op?.operationId ?? null, method, path: apiPath, status: null, requestProblems: [], responseProblems: [] };
    exchanges.push(exchange);
    if (!op) exchange.requestProblems.push(`${method} ${apiPath} is not an operation of the document.`);
    else {
      const queryProblem = contract.checkQuery(op, contract.typedQuery(op, url.searchParams));
      if (queryProblem) exchange.requestProblems.push(queryProblem);
      if (op.validateBody) {
        let body: unknown = null;
        if (typeof init?.body === 'string' && init.body.length) {
          try {
            body = JSON.parse(init.body);
          } catch {
            exchange.requestProblems.push('request body is not JSON');
          }
        }
        const bodyProblem = contract.checkBody(op, body);
        if (bodyProblem) exchange.requestProblems.push(bodyProblem);
      }
    }
    const res = await inner(input, init);
    exchange.status = res.status;
    const text = await res.clone().text();
    if (op) {
      // Only the API's own answers are held to the document; injected gateway faults (plain-text 503) are not the API.
      const isJson = /application\/json/i.test(res.headers.get('content-type') ?? '');
      if (!(res.status === 503 && !isJson)) {
        let body: unknown = undefined;
        if (text.length) {
          try {
            body = JSON.parse(text);
          } catch {
            exchange.responseProblems.push('response body is not JSON');
          }
        }
        const headers: Record<string, string> = {};
        res.headers.forEach((v, k) => {
          headers[k] = v;
        });
        try {
          contract.checkResponse(op, res.status, body, text.length > 0, headers);
        } catch (e) {
          exchange.responseProblems.push((e as Error).message);
        }
      }
    }
    return res;
  }) as typeof fetch;
  return {
    enabled: true,
    fetch: checked,
    exchanges,
    problems: () => exchanges.flatMap((e) => [...e.requestProblems.map((p) => `request ${e.method} ${e.path}: ${p}`), ...e.responseProblems.map((p) => `response ${e.method} ${e.path} ${e.status}: ${p}`)]),
    coveredOperations: () => new Set(exchanges.filter((e) => e.operationId && e.status !== null && e.status < 300).map((e) => e.operationId!)),
  };
}
