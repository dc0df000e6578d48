import { XMLParser } from 'fast-xml-parser';

/**
 * Reads a SOAP 1.1 fault out of an EWS answer, whatever its HTTP status. Exchange sends faults as HTTP 500 with
 * `faultcode a:<ResponseCode>` and `detail/e:ResponseCode`, but real servers (and proxies in front of them) also send
 * them with HTTP 200, without `detail`, or with a generic `soap:Client`/`soap:Server` faultcode and only a faultstring.
 * ews-javascript-api reads none of those: a 200 fault ends as "Cannot read properties of undefined (reading
 * 'ResponseMessages')". So the transport reads every fault itself, here, before the library sees the answer.
 */

export interface SoapFaultInfo {
  /** HTTP status the fault came with. */
  status: number;
  /** The faultcode as sent, e.g. 'a:ErrorImpersonateUserDenied' or 'soap:Client'. */
  faultCode: string;
  faultString: string;
  /**
   * The EWS ResponseCode: detail/ResponseCode, else the faultcode's local name when it is one (Error...), else a code
   * recognised from Exchange's own English faultstring; null when none of them names one.
   */
  responseCode: string | null;
  /** detail/Message, when present. */
  message: string | null;
  /** detail/MessageXml/Value[@Name="BackOffMilliseconds"] (ErrorServerBusy). */
  backOffMs?: number;
  /** 'Client' or 'Server' for the generic SOAP faultcodes, null for an EWS one. */
  genericKind: 'Client' | 'Server' | null;
}

/**
 * The fault strings Exchange uses for the codes that change what the admin is told, for faults that carry nothing
 * else (generic faultcode, no detail). Matched on Exchange's English wording only; other languages keep the text.
 */
const KNOWN_FAULT_STRINGS: Array<[RegExp, string]> = [
  [/does not have permission to impersonate/i, 'ErrorImpersonateUserDenied'],
  [/SMTP address has no mailbox associated with it/i, 'ErrorNonExistentMailbox'],
  [/server cannot service this request right now/i, 'ErrorServerBusy'],
  [/mailbox move is in progress/i, 'ErrorMailboxMoveInProgress'],
];

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: false,
  isArray: (name) => name === 'Value',
});

function text(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && '#text' in value) return text((value as Record<string, unknown>)['#text']);
  return '';
}

function localName(qualified: string): string {
  const colon = qualified.lastIndexOf(':');
  return colon >= 0 ? qualified.slice(colon + 1) : qualified;
}

function backOffFrom(messageXml: unknown): number | undefined {
  const values = (messageXml as { Value?: unknown[] } | undefined)?.Value;
  if (!Array.isArray(values)) return undefined;
  for (const v of values) {
    if (v && typeof v === 'object' && (v as Record<string, unknown>)['@Name'] === 'BackOffMilliseconds') {
      const ms = Number(text(v));
      if (Number.isFinite(ms) && ms >= 0) return ms;
    }
  }
  return undefined;
}

/**
 * The fault in a well-formed SOAP envelope (checked by the caller), or null when its Body holds no Fault.
 * Never throws: an answer it cannot read as a fault is simply not one.
 */
export function readSoapFault(body: string, status: number): SoapFaultInfo | null {
  if (!/<(?:[\w.-]+:)?Fault[\s>/]/.test(body)) return null;
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(body) as Record<string, unknown>;
  } catch {
    return null;
  }
  const envelope = doc.Envelope as Record<string, unknown> | undefined;
  const soapBody = envelope?.Body as Record<string, unknown> | undefined;
  const fault = soapBody?.Fault as Record<string, unknown> | undefined;
  if (!fault || typeof fault !== 'object') return null;
  const faultCode = text(fault.faultcode);
  const faultString = text(fault.faultstring);
  const detail = (fault.detail && typeof fault.detail === 'object' ? fault.detail : {}) as Record<string, unknown>;
  const detailCode = text(detail.ResponseCode);
  const local = localName(faultCode);
  const generic = /^(?:Client|Server)(?:\.|$)/.test(local) ? (local.startsWith('Client') ? 'Client' : 'Server') : null;
  const fromString = KNOWN_FAULT_STRINGS.find(([re]) => re.test(faultString))?.[1] ?? null;
  const responseCode = /^Error\w+$/.test(detailCode) ? detailCode : /^Error\w+$/.test(local) ? local : fromString;
  const message = text(detail.Message) || null;
  const backOffMs = backOffFrom(detail.MessageXml);
  return {
    status,
    faultCode,
    faultString,
    responseCode,
    message,
    genericKind: generic,
    ...(backOffMs !== undefined ? { backOffMs } : {}),
  };
}
