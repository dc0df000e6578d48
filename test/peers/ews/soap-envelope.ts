/**
 * SOAP 1.1 envelopes, EWS response messages and SOAP faults, written the way Exchange writes them
 * (prefixes s:/m:/t:, `ServerVersionInfo` in every header, fault details in the errors namespace).
 */

export const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const TYPES_NS = 'http://schemas.microsoft.com/exchange/services/2006/types';
export const MESSAGES_NS = 'http://schemas.microsoft.com/exchange/services/2006/messages';
export const ERRORS_NS = 'http://schemas.microsoft.com/exchange/services/2006/errors';

export function xmlEscape(value: string): string {
  return value.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

export function attrEscape(value: string): string {
  return value.replace(/[&<>"\r\n\t]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : `&#${c.charCodeAt(0)};`,
  );
}

/** `<t:Name>value</t:Name>` with the value escaped. */
export function el(name: string, value: string | number | boolean): string {
  return `<${name}>${xmlEscape(String(value))}</${name}>`;
}

/** Versions a client may ask for, oldest first; the index is the order used to compare them. */
export const API_VERSIONS = [
  'Exchange2007',
  'Exchange2007_SP1',
  'Exchange2010',
  'Exchange2010_SP1',
  'Exchange2010_SP2',
  'Exchange2013',
  'Exchange2013_SP1',
  'Exchange2016',
] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export function isApiVersion(v: string): v is ApiVersion {
  return (API_VERSIONS as readonly string[]).includes(v);
}

export function versionAtLeast(v: ApiVersion, min: ApiVersion): boolean {
  return API_VERSIONS.indexOf(v) >= API_VERSIONS.indexOf(min);
}

/** Build numbers a server of each version reports (a late cumulative update of each). */
const SERVER_BUILDS: Record<ApiVersion, [number, number, number, number]> = {
  Exchange2007: [8, 0, 685, 24],
  Exchange2007_SP1: [8, 3, 485, 1],
  Exchange2010: [14, 0, 639, 21],
  Exchange2010_SP1: [14, 1, 438, 0],
  Exchange2010_SP2: [14, 3, 513, 0],
  Exchange2013: [15, 0, 516, 32],
  Exchange2013_SP1: [15, 0, 1497, 48],
  Exchange2016: [15, 1, 2507, 39],
};

export function serverVersionInfo(serverVersion: ApiVersion, requested: ApiVersion): string {
  const [major, minor, majorBuild, minorBuild] = SERVER_BUILDS[serverVersion];
  return (
    `<h:ServerVersionInfo MajorVersion="${major}" MinorVersion="${minor}" MajorBuildNumber="${majorBuild}" ` +
    `MinorBuildNumber="${minorBuild}" Version="${requested}" xmlns:h="${TYPES_NS}" xmlns="${TYPES_NS}" ` +
    `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>`
  );
}

export function envelope(header: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<s:Envelope xmlns:s="${SOAP_NS}"><s:Header>${header}</s:Header>` +
    `<s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
    `${body}</s:Body></s:Envelope>`
  );
}

/** `<m:FooResponse>` wrapping the per-item response messages. */
export function operationResponse(operation: string, messages: string[]): string {
  return (
    `<m:${operation}Response xmlns:m="${MESSAGES_NS}" xmlns:t="${TYPES_NS}">` +
    `<m:ResponseMessages>${messages.join('')}</m:ResponseMessages></m:${operation}Response>`
  );
}

export function successMessage(operation: string, content: string): string {
  return (
    `<m:${operation}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>` +
    `${content}</m:${operation}ResponseMessage>`
  );
}

/** A per-item error: Exchange keeps answering the other items of the batch. */
export function errorMessage(operation: string, code: string, text?: string, trailing = '', messageXml = ''): string {
  const cls = WARNING_CODES.has(code) ? 'Warning' : 'Error';
  return (
    `<m:${operation}ResponseMessage ResponseClass="${cls}">` +
    `<m:MessageText>${xmlEscape(text ?? messageFor(code))}</m:MessageText>` +
    `<m:ResponseCode>${code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>` +
    (messageXml ? `<m:MessageXml>${messageXml}</m:MessageXml>` : '') +
    `${trailing}</m:${operation}ResponseMessage>`
  );
}

const WARNING_CODES = new Set(['ErrorNameResolutionMultipleResults']);

/**
 * A SOAP fault as Exchange sends it (HTTP 500): faultcode in the types namespace, the EWS ResponseCode and message
 * in `detail` (errors namespace), optional `t:MessageXml` (e.g. BackOffMilliseconds for ErrorServerBusy).
 */
/**
 * How a fault is written. Exchange: `faultcode a:<Code>` with `detail` (the default). Servers seen in the field also
 * leave `detail` out, or put a generic `s:Client`/`s:Server` faultcode, so only the faultstring says what happened.
 */
export interface SoapFaultShape {
  /** false: no `detail` element (no ResponseCode, Message or MessageXml). Default true. */
  detail?: boolean;
  /** 'ews': `a:<Code>` (default); 'client'/'server': `s:Client`/`s:Server`. */
  faultCode?: 'ews' | 'client' | 'server';
}

export function soapFault(code: string, message: string | undefined, messageXml = '', header = '', shape: SoapFaultShape = {}): string {
  const text = message ?? messageFor(code);
  const faultCode =
    shape.faultCode === 'client' ? 's:Client' : shape.faultCode === 'server' ? 's:Server' : null;
  const detail =
    shape.detail === false
      ? ''
      : `<detail><e:ResponseCode xmlns:e="${ERRORS_NS}">${code}</e:ResponseCode>` +
        `<e:Message xmlns:e="${ERRORS_NS}">${xmlEscape(text)}</e:Message>` +
        (messageXml ? `<t:MessageXml xmlns:t="${TYPES_NS}">${messageXml}</t:MessageXml>` : '') +
        `</detail>`;
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<s:Envelope xmlns:s="${SOAP_NS}">${header ? `<s:Header>${header}</s:Header>` : ''}<s:Body><s:Fault>` +
    (faultCode ? `<faultcode>${faultCode}</faultcode>` : `<faultcode xmlns:a="${TYPES_NS}">a:${code}</faultcode>`) +
    `<faultstring xml:lang="en-US">${xmlEscape(text)}</faultstring>` +
    detail +
    `</s:Fault></s:Body></s:Envelope>`
  );
}

/** The messages Exchange uses for the codes the simulator returns. */
const MESSAGES: Record<string, string> = {
  ErrorAccessDenied: 'Access is denied. Check credentials and try again.',
  ErrorCalendarViewRangeTooBig: 'The time window specified is larger than the maximum allowed time window.',
  ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange: 'Occurrence index is out of recurrence range.',
  ErrorCalendarOccurrenceIsDeletedFromRecurrence: 'Occurrence with this index was previously deleted from the recurrence.',
  ErrorCalendarIsNotOrganizer: 'The user is not the organizer of this meeting.',
  ErrorChangeKeyRequiredForWriteOperations: 'ChangeKey is required for this operation.',
  ErrorIrresolvableConflict: 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.',
  ErrorImpersonateUserDenied: 'The account does not have permission to impersonate the requested user.',
  ErrorImpersonationFailed: 'Impersonation failed.',
  ErrorInvalidChangeKey: 'The change key is invalid.',
  ErrorInvalidIdMalformed: 'Id is malformed.',
  ErrorInvalidOccurrenceId: 'The occurrence ID is invalid.',
  ErrorInvalidPropertyRequest: 'The property request is invalid.',
  ErrorInvalidRecurrence: 'The recurrence pattern is invalid.',
  ErrorInvalidRequest: 'The request is invalid.',
  ErrorInvalidRestriction: 'The restriction is invalid.',
  ErrorInvalidServerVersion: 'The specified server version is invalid.',
  ErrorInvalidSyncStateData: 'Synchronization state data is corrupt or otherwise invalid.',
  ErrorInvalidOperation: 'The operation is invalid.',
  ErrorItemNotFound: 'The specified object was not found in the store.',
  ErrorFolderNotFound: 'The specified folder could not be found in the store.',
  ErrorMailboxMoveInProgress: 'The mailbox is being moved. Try again later.',
  ErrorMailboxStoreUnavailable: 'The mailbox database is temporarily unavailable.',
  ErrorNameResolutionMultipleResults: 'Multiple results were found.',
  ErrorNameResolutionNoResults: 'No results were found.',
  ErrorNonExistentMailbox: 'The SMTP address has no mailbox associated with it.',
  ErrorSchemaValidation: 'The request failed schema validation.',
  ErrorSendMeetingInvitationsRequired: 'SendMeetingInvitations attribute is required for calendar items.',
  ErrorSendMeetingInvitationsOrCancellationsRequired: 'SendMeetingInvitationsOrCancellations attribute is required for calendar items.',
  ErrorSendMeetingCancellationsRequired: 'SendMeetingCancellations attribute is required for calendar items.',
  ErrorServerBusy: 'The server cannot service this request right now. Try again later.',
  ErrorStaleObject: 'The item was changed by another user after it was read.',
  ErrorTimeZone: 'The time zone definition is invalid or unsupported.',
  ErrorInvalidExtendedPropertyValue: 'The extended property value is inconsistent with its type.',
  ErrorInvalidPropertySet: 'The property cannot be set.',
  ErrorUnsupportedPathForQuery: 'The property path is not supported for queries.',
  ErrorInvalidValueForProperty: 'The value is invalid for the property.',
  ErrorCorruptData: 'The data is corrupt.',
  ErrorMissingInformationSharingFolderId: 'The folder cannot be used for this operation.',
  ErrorInvalidFolderId: 'The folder id is invalid.',
  ErrorInvalidOperationForCalendarView: 'The operation is not supported for a calendar view.',
};

export function messageFor(code: string): string {
  return MESSAGES[code] ?? code.replace(/^Error/, '').replace(/([a-z])([A-Z])/g, '$1 $2') + '.';
}

/** ISO instant as EWS writes it: seconds precision, `Z`. */
export function ewsDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * An EWS error. `fault`: reported as a SOAP fault for the whole request (header, schema, throttling problems);
 * otherwise as the ResponseCode of the one item's response message.
 */
export class EwsError extends Error {
  readonly code: string;
  readonly fault: boolean;
  readonly messageXml: string;
  constructor(code: string, message?: string, opts: { fault?: boolean; messageXml?: string } = {}) {
    super(message ?? messageFor(code));
    this.name = 'EwsError';
    this.code = code;
    this.fault = opts.fault ?? false;
    this.messageXml = opts.messageXml ?? '';
  }
}
