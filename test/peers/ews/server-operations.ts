/**
 * The EWS operations that ask the server rather than a calendar: ResolveNames (the directory), ConvertId and
 * GetServerTimeZones.
 */
import { decodeItemId } from './item-ids.ts';
import type { OperationHandler } from './operation-context.ts';
import { perItem } from './operation-context.ts';
import { schemaError } from './schema-validation.ts';
import { EwsError, MESSAGES_NS, TYPES_NS, attrEscape, el, errorMessage, operationResponse, successMessage, xmlEscape } from './soap-envelope.ts';
import { ianaForWindowsId, windowsZoneFor } from './time-zones.ts';
import { child, childText, childrenNamed } from './xml-parser.ts';

const T = TYPES_NS;
const M = MESSAGES_NS;

// ---------------------------------------------------------------------------------------------------------------
// ResolveNames

export const resolveNames: OperationHandler = (body, ctx) => {
  const entry = childText(body, M, 'UnresolvedEntry');
  if (entry === undefined || !entry.trim()) throw schemaError("The element 'ResolveNames' has incomplete content. List of possible elements expected: 'UnresolvedEntry'.");
  const full = body.attrs.ReturnFullContactData === 'true';
  const found = ctx.service.directory.resolve(entry);
  if (!found.length) return operationResponse('ResolveNames', [errorMessage('ResolveNames', 'ErrorNameResolutionNoResults')]);
  const resolutions = found
    .map((m) => {
      const mailbox = `<t:Mailbox>${el('t:Name', m.displayName)}${el('t:EmailAddress', m.primary)}<t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox>`;
      const contact = full
        ? `<t:Contact>${el('t:DisplayName', m.displayName)}<t:EmailAddresses>${[m.primary, ...m.aliases]
            .slice(0, 3)
            .map((a, i) => `<t:Entry Key="EmailAddress${i + 1}">${xmlEscape(`${i === 0 ? 'SMTP' : 'smtp'}:${a}`)}</t:Entry>`)
            .join('')}</t:EmailAddresses><t:ContactSource>ActiveDirectory</t:ContactSource></t:Contact>`
        : '';
      return `<t:Resolution>${mailbox}${contact}</t:Resolution>`;
    })
    .join('');
  const set = `<m:ResolutionSet TotalItemsInView="${found.length}" IncludesLastItemInRange="true">${resolutions}</m:ResolutionSet>`;
  if (found.length > 1) return operationResponse('ResolveNames', [errorMessage('ResolveNames', 'ErrorNameResolutionMultipleResults', undefined, set)]);
  return operationResponse('ResolveNames', [successMessage('ResolveNames', set)]);
};

// ---------------------------------------------------------------------------------------------------------------
// ConvertId (exchangelib probes the server version with it) and GetServerTimeZones

export const convertId: OperationHandler = (body, ctx) => {
  const dest = body.attrs.DestinationFormat ?? '';
  const formats = ['EwsId', 'EwsLegacyId', 'EntryId', 'HexEntryId', 'StoreId', 'OwaId'];
  if (!formats.includes(dest)) throw schemaError(`The value '${dest}' is invalid for DestinationFormat.`);
  const ids = childrenNamed(child(body, M, 'SourceIds'), T, 'AlternateId');
  if (!ids.length) throw schemaError("The element 'SourceIds' has incomplete content.");
  const messages = perItem('ConvertId', ids, (e) => {
    const id = e.attrs.Id ?? '';
    const decoded = e.attrs.Format === 'EwsId' || e.attrs.Format === 'EwsLegacyId' ? decodeItemId(id) : null;
    if (!decoded) throw new EwsError('ErrorInvalidIdMalformed');
    const mb = ctx.service.directory.mailboxByGuid(decoded.mailboxGuid);
    if (!mb) throw new EwsError('ErrorItemNotFound');
    const raw = Buffer.from(id, 'base64');
    const out = dest === 'HexEntryId' ? raw.toString('hex').toUpperCase() : dest === 'EntryId' || dest === 'StoreId' ? raw.toString('base64') : id;
    return successMessage('ConvertId', `<m:AlternateId xsi:type="t:AlternateIdType" Format="${dest}" Id="${attrEscape(out)}" Mailbox="${attrEscape(mb.primary)}"/>`);
  });
  return operationResponse('ConvertId', messages);
};

export const getServerTimeZones: OperationHandler = (body) => {
  const wanted = childrenNamed(child(body, M, 'Ids'), T, 'Id').map((e) => e.text.trim());
  const zones = ['UTC', 'GMT Standard Time', 'W. Europe Standard Time', 'FLE Standard Time', 'Eastern Standard Time', 'Pacific Standard Time', 'Tokyo Standard Time'];
  const list = (wanted.length ? wanted : zones)
    .map((id) => {
      const iana = ianaForWindowsId(id);
      if (!iana) return '';
      const z = windowsZoneFor(iana);
      return `<t:TimeZoneDefinition Id="${attrEscape(id)}" Name="${attrEscape(z.name)}"/>`;
    })
    .join('');
  return operationResponse('GetServerTimeZones', [successMessage('GetServerTimeZones', `<m:TimeZoneDefinitions>${list}</m:TimeZoneDefinitions>`)]);
};
