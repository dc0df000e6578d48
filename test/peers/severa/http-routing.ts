import type { IncomingMessage } from 'node:http';
import { StoreError, type ErrorType, type JsonRecord } from './activity-records.ts';
import type { SeveraOperation } from './severa-operations.ts';

/**
 * What the Severa simulator's route handlers share: the request context they get (with the caller's token grant), the
 * reply they give, the errors they throw (answered as the API's ExceptionModel) and the query parameters of listings.
 * The server that matches routes and runs the request pipeline: severa-simulator.ts.
 */

export interface ClientState {
  clientId: string;
  clientSecret: string;
  scopes: Set<string>;
  actAsUserGuid: string | null;
}

export interface TokenGrant {
  client: ClientState;
  scopes: Set<string>;
  expiresMs: number;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RequestContext {
  req: IncomingMessage;
  op: SeveraOperation;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  grant: TokenGrant | null;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  operationId: string;
  handler: Handler;
  /** Token routes: no Bearer token needed. */
  anonymous?: boolean;
}

/** Adds a handler for a documented operation to the server's route table (`anonymous`: no Bearer token needed). */
export type RouteAdder = (operationId: string, handler: Handler, anonymous?: boolean) => void;

/** A fault the API answers with, raised while handling a request; the same status and type as the store's own. */
export class HttpError extends StoreError {}

/** ExceptionModel as the API sends it. */
export function errorBody(status: number, type: ErrorType, message: string): JsonRecord {
  return { error: { httpStatusCode: status, type, details: [{ message }], stack: null } };
}

/** A path segment with a broken %-escape stays as sent (and then matches no activity) rather than failing the request. */
export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The user an API client acts as (`actAsUserGuid`), or null for an organization-wide client. */
export const actor = (ctx: RequestContext) => ctx.grant?.client.actAsUserGuid ?? null;

export function rowCountOf(query: Record<string, unknown>): number {
  const n = query.rowCount;
  if (n === undefined || n === null) return 20;
  if (typeof n !== 'number' || n < 1 || n > 100) throw new HttpError(400, 'InvalidParameter', 'rowCount must be from 1 to 100.');
  return n;
}

export const dateParam = (v: unknown): number | undefined => (typeof v === 'string' ? Date.parse(v) : undefined);
export const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.length ? (v as string[]) : undefined);

export const pageReply = (items: JsonRecord[], next: string | null): Reply => ({ status: 200, body: items, headers: next ? { NextPageToken: next } : {} });
