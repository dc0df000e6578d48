/**
 * Graph's error responses: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`, and the
 * handful of codes the simulator uses, with their HTTP statuses. Handlers throw GraphError; the server writes it.
 */

export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'GraphError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export interface GraphResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** innerError.date is the UTC time without fraction or zone, as Graph writes it. */
export function errorBody(code: string, message: string, requestId: string, clientRequestId: string | null, dateMs: number): Record<string, unknown> {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date(dateMs).toISOString().slice(0, 19),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
      },
    },
  };
}

export const notFoundItem = (): GraphError => new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
export const malformedId = (): GraphError => new GraphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
export const badRequest = (message: string, code = 'BadRequest'): GraphError => new GraphError(400, code, message);
export const accessDenied = (): GraphError => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');

/** Unknown property in a request body, worded as OData's reader words it. */
export const unknownProperty = (name: string, type: string): GraphError =>
  new GraphError(
    400,
    'RequestBodyRead',
    `The property '${name}' does not exist on type 'microsoft.graph.${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
  );
