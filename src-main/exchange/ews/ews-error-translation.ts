import { ServiceError, ServiceResponseException, ServiceResult, SoapFaultDetails } from 'ews-javascript-api';
import type { ServiceResponse } from 'ews-javascript-api';
import { CalendarError, type CalendarErrorCode } from '../calendar-connector.ts';
import type { SoapFaultInfo } from './ews-soap-fault.ts';
import { t, type TextKey } from '../../common/i18n/i18n.ts';

/**
 * EWS ResponseCodes -> the connector's CalendarError codes, so the engine can retry, resync or report without
 * knowing EWS. Codes not listed become 'other' and keep the server's code for the log.
 */
const CODE_BY_RESPONSE: Record<string, CalendarErrorCode> = {
  ErrorImpersonateUserDenied: 'impersonation-denied',
  ErrorImpersonationDenied: 'impersonation-denied',
  ErrorImpersonationFailed: 'impersonation-denied',
  ErrorNonExistentMailbox: 'no-mailbox',
  ErrorMailboxNotFound: 'no-mailbox',
  ErrorIrresolvableConflict: 'conflict',
  ErrorStaleObject: 'conflict',
  ErrorChangeKeyRequiredForWriteOperations: 'conflict',
  ErrorInvalidSyncStateData: 'invalid-sync-state',
  ErrorItemNotFound: 'not-found',
  ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange: 'not-found',
  ErrorCalendarOccurrenceIsDeletedFromRecurrence: 'not-found',
  ErrorServerBusy: 'throttled',
  ErrorMailboxMoveInProgress: 'transient',
  ErrorMailboxStoreUnavailable: 'transient',
  ErrorInternalServerTransientError: 'transient',
  ErrorConnectionFailed: 'transient',
  ErrorTimeoutExpired: 'transient',
  ErrorExceededConnectionCount: 'transient',
  ErrorBatchProcessingStopped: 'transient',
  ErrorInternalServerError: 'transient',
  // The login worked; this account may not open that mailbox or item.
  ErrorAccessDenied: 'impersonation-denied',
  ErrorInvalidServerVersion: 'config',
  ErrorIncorrectSchemaVersion: 'config',
};

/** What the admin or the engine reads in the log for the common cases. */
const PLAIN_MESSAGE: Record<string, TextKey> = {
  ErrorImpersonateUserDenied: 'report.ews.plain.impersonateUserDenied',
  ErrorImpersonationFailed: 'report.ews.plain.impersonationFailed',
  ErrorNonExistentMailbox: 'report.ews.plain.nonExistentMailbox',
  ErrorIrresolvableConflict: 'report.ews.plain.changedSinceRead',
  ErrorStaleObject: 'report.ews.plain.changedSinceRead',
  ErrorInvalidSyncStateData: 'report.ews.plain.invalidSyncState',
  ErrorItemNotFound: 'report.ews.plain.itemNotFound',
  ErrorServerBusy: 'report.ews.plain.serverBusy',
  ErrorMailboxMoveInProgress: 'report.ews.plain.mailboxMoving',
  ErrorMailboxStoreUnavailable: 'report.ews.plain.storeUnavailable',
  ErrorInvalidServerVersion: 'report.ews.plain.invalidServerVersion',
  ErrorAccessDenied: 'report.ews.plain.accessDenied',
};

export function responseCodeName(code: unknown): string | undefined {
  if (typeof code === 'string') return code;
  if (typeof code === 'number') {
    const name = (ServiceError as unknown as Record<number, string>)[code];
    return typeof name === 'string' ? name : undefined;
  }
  return undefined;
}

export function calendarErrorFor(responseCode: string, serverMessage: string | undefined, context: string, retryAfterMs?: number, cause?: unknown): CalendarError {
  const code = CODE_BY_RESPONSE[responseCode] ?? 'other';
  const plain = Object.hasOwn(PLAIN_MESSAGE, responseCode) ? t(PLAIN_MESSAGE[responseCode]) : serverMessage ? serverMessage.trim() : t('report.ews.returned', { code: responseCode });
  return new CalendarError(code, `${context}: ${plain} (${responseCode})`, { serverCode: responseCode, retryAfterMs, cause });
}

/** The error a per-item response carries, or null when it succeeded. */
export function responseError(response: ServiceResponse): string | null {
  if (response.Result !== ServiceResult.Error) return null;
  return responseCodeName(response.ErrorCode) ?? 'ErrorInternalServerError';
}

/**
 * A SOAP fault the transport read (any HTTP status, with or without detail) as a CalendarError: its ResponseCode is
 * mapped like any other; a generic faultcode with a faultstring nobody recognises keeps the server's words
 * (soap:Server as a passing server problem, soap:Client as a refused request).
 */
export function calendarErrorForFault(fault: SoapFaultInfo, context: string): CalendarError {
  if (fault.responseCode) {
    const retry = fault.responseCode === 'ErrorServerBusy' ? fault.backOffMs : undefined;
    return calendarErrorFor(fault.responseCode, fault.message ?? (fault.faultString || undefined), context, retry);
  }
  const said = fault.faultString || fault.message || t('report.ews.noReason');
  const code = fault.faultCode || 'no faultcode';
  if (fault.genericKind === 'Server') {
    return new CalendarError('transient', t('report.ews.serverError', { what: context, said, code, status: fault.status }), { serverCode: code });
  }
  return new CalendarError('other', t('report.ews.refused', { what: context, said, code, status: fault.status }), { serverCode: code });
}

function backOffFrom(details: unknown): number | undefined {
  const dict = details as { containsKey?(k: string): boolean; get?(k: string): unknown } | undefined;
  if (!dict || typeof dict.containsKey !== 'function' || typeof dict.get !== 'function') return undefined;
  if (!dict.containsKey('BackOffMilliseconds')) return undefined;
  const value = Number(dict.get('BackOffMilliseconds'));
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Turns whatever ews-javascript-api rejected with into a CalendarError. What the transport found wins: a SOAP fault it
 * read (named with `context`), or the failure it refused the response for; the library only ever saw a neutral stand-in.
 */
export function translateEwsError(error: unknown, context: string, transportFailure: CalendarError | null, transportFault: SoapFaultInfo | null = null): CalendarError {
  if (transportFault) return calendarErrorForFault(transportFault, context);
  if (transportFailure) return transportFailure;
  if (error instanceof CalendarError) return error;
  if (error instanceof SoapFaultDetails) {
    const name = responseCodeName(error.ResponseCode) ?? 'ErrorInternalServerError';
    const message = error.Message || error.FaultString || undefined;
    const backOff = backOffFrom(error.ErrorDetails);
    // The library defaults ResponseCode to ErrorInternalServerError when the fault carries none.
    if (!error.FaultCode && !error.FaultString && name === 'ErrorInternalServerError') {
      return new CalendarError('transient', `${context}: ${message ?? t('report.ews.requestFailed')}`, { cause: error });
    }
    return calendarErrorFor(name, message, context, name === 'ErrorServerBusy' ? backOff : undefined, error);
  }
  if (error instanceof ServiceResponseException) {
    const name = responseCodeName(error.ErrorCode) ?? 'ErrorInternalServerError';
    const backOff = backOffFrom(error.Response?.ErrorDetails);
    return calendarErrorFor(name, error.Response?.ErrorMessage ?? error.Message, context, name === 'ErrorServerBusy' ? backOff : undefined, error);
  }
  const message = error instanceof Error ? error.message : (error as { message?: string })?.message ?? String(error);
  // Anything carrying a request configuration (HTTP client errors) may hold the Authorization header: keep only the text.
  const safe = error instanceof Error && !('config' in error) && !('headers' in error) ? error : new Error(message);
  return new CalendarError('other', `${context}: ${message}`, { cause: safe });
}
