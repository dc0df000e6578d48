/**
 * What can go wrong talking to Severa, as a stable code the sync engine decides on, and one plain sentence a user
 * understands. Messages never carry the client secret or a token.
 */
export type SeveraErrorCode =
  | 'auth' // client id / secret refused, or a token that no refresh or new login fixes
  | 'forbidden' // a scope the API client lacks, or an action the API user may not do (e.g. delete someone else's activity)
  | 'not-found'
  | 'throttled' // 429 after the retries; retryAfterMs when the server said
  | 'transient' // 5xx, dropped connections, timeouts after the retries
  | 'bad-response' // a body that is not the API's: malformed JSON, wrong shape, too large
  | 'bad-request' // the server refused what was sent (400)
  | 'config' // settings that cannot work: bad address, unknown host
  | 'tls'; // certificate problems

export class SeveraError extends Error {
  readonly code: SeveraErrorCode;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** The API's ExceptionTypeEnum value when it sent one, e.g. 'InsufficientApiScope'. */
  readonly serverType: string | undefined;
  /** checkAuthorization: the scopes the sync needs that the API client was not granted. */
  readonly missingScopes: string[] | undefined;

  constructor(code: SeveraErrorCode, message: string, opts: { status?: number; retryAfterMs?: number; serverType?: string; missingScopes?: string[] } = {}) {
    super(message);
    this.name = 'SeveraError';
    this.code = code;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.serverType = opts.serverType;
    this.missingScopes = opts.missingScopes;
  }
}
