/**
 * The notification operations: Subscribe (streaming subscriptions only) and Unsubscribe as ordinary operations, and
 * the reading of a GetStreamingEvents request, whose answer the HTTP layer keeps open (see notification-hub.ts).
 */
import type { FolderKind } from './item-ids.ts';
import type { OperationHandler, RequestContext } from './operation-context.ts';
import { requireMailbox, resolveFolder } from './operation-context.ts';
import { EVENT_TYPES, MAX_IDS_PER_CONNECTION } from './notification-hub.ts';
import type { NotificationHub, Routing } from './notification-hub.ts';
import { EwsError, MESSAGES_NS, TYPES_NS, operationResponse, successMessage, versionAtLeast, xmlEscape } from './soap-envelope.ts';
import type { XmlElement } from './xml-parser.ts';
import { child, childText, childrenNamed } from './xml-parser.ts';

const T = TYPES_NS;
const M = MESSAGES_NS;

function hubOf(ctx: RequestContext): NotificationHub {
  if (!ctx.notifications) throw new EwsError('ErrorInvalidRequest', 'Notifications are not available on this server.', { fault: true });
  return ctx.notifications;
}

/** Streaming notifications came with Exchange 2010 SP1: an older RequestServerVersion does not have them. */
function requireStreamingVersion(ctx: RequestContext, what: string): void {
  if (!versionAtLeast(ctx.version, 'Exchange2010_SP1')) {
    throw new EwsError('ErrorInvalidRequest', `${what} needs RequestServerVersion Exchange2010_SP1 or later (this request asked for ${ctx.version}).`, { fault: true });
  }
}

/** Routes the request and remembers the affinity cookie for the answer when one was asked for. */
function routed(ctx: RequestContext, hub: NotificationHub): Routing {
  const routing = hub.route(ctx.requestHeaders ?? {}, ctx.mailbox);
  if (routing.setCookie && ctx.responseHeaders) ctx.responseHeaders['Set-Cookie'] = routing.setCookie;
  return routing;
}

const subscribe: OperationHandler = (body, ctx) => {
  const hub = hubOf(ctx);
  const request = child(body, M, 'StreamingSubscriptionRequest');
  if (!request) {
    const other = body.children.find((c) => c.ns === M)?.name ?? 'nothing';
    if (other === 'PullSubscriptionRequest' || other === 'PushSubscriptionRequest') {
      throw new EwsError('ErrorInvalidRequest', `${other} is not simulated; only streaming subscriptions are.`, { fault: true });
    }
    throw new EwsError('ErrorSchemaValidation', `The element 'Subscribe' has invalid child element '${other}'.`, { fault: true });
  }
  requireStreamingVersion(ctx, 'StreamingSubscriptionRequest');
  const mailbox = requireMailbox(ctx);
  const allFolders = request.attrs.SubscribeToAllFolders === 'true';
  const folderElements = (child(request, T, 'FolderIds')?.children ?? []).filter((c) => c.ns === T);
  if (!allFolders && folderElements.length === 0) throw new EwsError('ErrorSchemaValidation', 'The element StreamingSubscriptionRequest needs FolderIds (or SubscribeToAllFolders).', { fault: true });
  const folders = new Set<FolderKind>();
  for (const e of folderElements) {
    const explicit = childText(child(e, T, 'Mailbox'), T, 'EmailAddress');
    if (explicit && ctx.service.directory.mailboxByAddress(explicit) !== mailbox) {
      // Another mailbox's folder without impersonation: Exchange refuses notifications through delegate access.
      throw new EwsError('ErrorSubscriptionDelegateAccessNotSupported', 'Subscriptions are not supported for delegate user access.');
    }
    const ref = resolveFolder(e, ctx);
    if (ref.mailbox !== mailbox) throw new EwsError('ErrorInvalidSubscriptionRequest', 'A subscription can only cover folders of one mailbox.');
    folders.add(ref.kind);
  }
  const types = childrenNamed(child(request, T, 'EventTypes'), T, 'EventType').map((e) => e.text.trim());
  if (types.length === 0) throw new EwsError('ErrorSchemaValidation', 'The element EventTypes needs at least one EventType.', { fault: true });
  for (const t of types) {
    if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new EwsError('ErrorSchemaValidation', `The value '${t}' is invalid for EventType.`, { fault: true });
  }
  const result = hub.subscribe(ctx.principal, mailbox, allFolders ? 'all' : folders, new Set(types), routed(ctx, hub));
  if ('error' in result) throw new EwsError(result.error);
  return operationResponse('Subscribe', [successMessage('Subscribe', `<m:SubscriptionId>${xmlEscape(result.id)}</m:SubscriptionId>`)]);
};

const unsubscribe: OperationHandler = (body, ctx) => {
  const hub = hubOf(ctx);
  requireStreamingVersion(ctx, 'Unsubscribe of a streaming subscription');
  const id = childText(body, M, 'SubscriptionId')?.trim();
  if (!id) throw new EwsError('ErrorSchemaValidation', 'The element Unsubscribe needs a SubscriptionId.', { fault: true });
  const error = hub.unsubscribe(ctx.principal, id, routed(ctx, hub));
  if (error) throw new EwsError(error);
  return operationResponse('Unsubscribe', [successMessage('Unsubscribe', '')]);
};

export const NOTIFICATION_OPERATIONS: Record<string, OperationHandler> = {
  Subscribe: subscribe,
  Unsubscribe: unsubscribe,
};

export interface StreamingRequest {
  ids: string[];
  timeoutMinutes: number;
  routing: Routing;
}

/** Reads a GetStreamingEvents request (SubscriptionIds, ConnectionTimeout 1..30); throws a fault EwsError when invalid. */
export function readGetStreamingEvents(body: XmlElement, ctx: RequestContext): StreamingRequest {
  const hub = hubOf(ctx);
  requireStreamingVersion(ctx, 'GetStreamingEvents');
  const container = child(body, M, 'SubscriptionIds');
  const ids = childrenNamed(container, T, 'SubscriptionId').map((e) => e.text.trim()).filter((id) => id.length > 0);
  if (ids.length === 0) throw new EwsError('ErrorSchemaValidation', 'The element GetStreamingEvents needs SubscriptionIds with at least one SubscriptionId.', { fault: true });
  if (ids.length > MAX_IDS_PER_CONNECTION) {
    throw new EwsError('ErrorInvalidRequest', `A GetStreamingEvents request may name at most ${MAX_IDS_PER_CONNECTION} subscriptions (this one names ${ids.length}).`, { fault: true });
  }
  const timeoutText = (childText(body, M, 'ConnectionTimeout') ?? childText(body, T, 'ConnectionTimeout') ?? '').trim();
  const timeoutMinutes = Number(timeoutText);
  if (!/^\d+$/.test(timeoutText) || timeoutMinutes < 1 || timeoutMinutes > 30) {
    throw new EwsError('ErrorSchemaValidation', `ConnectionTimeout must be a whole number of minutes from 1 to 30, got '${timeoutText}'.`, { fault: true });
  }
  return { ids: [...new Set(ids)], timeoutMinutes, routing: routed(ctx, hub) };
}
