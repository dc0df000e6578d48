/**
 * Attendees and organizer in CalendarItem XML: reading RequiredAttendees/OptionalAttendees, writing Mailbox and
 * Attendee elements, and the meeting state (IsMeeting, AppointmentState) the attendee lists and organizer imply.
 */
import type { SimCalendarItem } from './calendar-model.ts';
import type { XmlElement } from './xml-parser.ts';
import { child, childText, childrenNamed } from './xml-parser.ts';
import type { ApiVersion } from './soap-envelope.ts';
import { TYPES_NS, el, versionAtLeast } from './soap-envelope.ts';
import type { RenderContext } from './calendar-item-rendering.ts';

const T = TYPES_NS;

export function readAttendees(e: XmlElement): string[] {
  const out: string[] = [];
  for (const a of childrenNamed(e, T, 'Attendee')) {
    const addr = childText(child(a, T, 'Mailbox'), T, 'EmailAddress');
    if (addr && addr.trim()) out.push(addr.trim().toLowerCase());
  }
  return out;
}

export function mailboxXml(address: string, nameFor: (a: string) => string, version: ApiVersion): string {
  return (
    `<t:Mailbox>${el('t:Name', nameFor(address))}${el('t:EmailAddress', address)}<t:RoutingType>SMTP</t:RoutingType>` +
    (versionAtLeast(version, 'Exchange2007_SP1') ? '<t:MailboxType>Mailbox</t:MailboxType>' : '') +
    `</t:Mailbox>`
  );
}

export function attendeesXml(tag: string, list: string[], ctx: RenderContext, responses: (a: string) => string): string {
  if (!list.length) return '';
  return `<t:${tag}>${list.map((a) => `<t:Attendee>${mailboxXml(a, ctx.nameFor, ctx.version)}${el('t:ResponseType', responses(a))}</t:Attendee>`).join('')}</t:${tag}>`;
}

export function isMeeting(d: SimCalendarItem): boolean {
  return d.requiredAttendees.length + d.optionalAttendees.length > 0;
}

export function appointmentState(d: SimCalendarItem): number {
  let s = 0;
  if (isMeeting(d)) s |= 1;
  if (d.organizer !== d.mailbox) s |= 3;
  if (d.isCancelled) s |= 4;
  return s;
}
