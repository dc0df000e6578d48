import { DateTime, DateTimeKind, ExchangeVersion, ExtendedPropertyDefinition, Guid, MapiPropertyType } from 'ews-javascript-api';
import type { ExchangeServerType } from '../../common/settings-schema.ts';
import { CalendarError } from '../calendar-connector.ts';

/**
 * EWS CalendarItem <-> the neutral EventFields. Reading and writing go through ews-javascript-api's Appointment
 * object; every decision about time (zones, all-day dates, recurrence dates) is made with the platform's tz database
 * in time-zone-conversion.ts, never with the library's DateTime arithmetic.
 *
 * This file holds what every part of the mapping shares: the server version, the sync tag, DateTime <-> instants,
 * safe property access and addresses. The parts: ews-time-zone-mapping.ts (IANA <-> Windows zones), ews-recurrence-mapping.ts
 * (patterns and exception keys), ews-appointment-reading.ts (Appointment -> SideEvent), ews-appointment-writing.ts
 * (EventFields -> Appointment) and ews-event-validation.ts (what the engine asks us to write).
 */

// ---- server version ----

export function exchangeVersionFor(serverType: ExchangeServerType): ExchangeVersion {
  switch (serverType) {
    case 'Exchange2007_SP1':
      return ExchangeVersion.Exchange2007_SP1;
    case 'Exchange2010':
      return ExchangeVersion.Exchange2010_SP2;
    case 'Exchange2013':
      return ExchangeVersion.Exchange2013_SP1;
    case 'Exchange2016':
    case 'Exchange2019':
    case 'ExchangeServerSE':
      return ExchangeVersion.Exchange2016;
    case 'Office365':
      throw new CalendarError('config', 'Exchange Online no longer accepts a delegate password over EWS; it needs the Microsoft Graph connector (app registration).');
    default:
      throw new CalendarError('config', `Unknown Exchange server type "${String(serverType)}".`);
  }
}

// ---- the sync tag ----

/** Our own MAPI property set: nothing else writes into it. */
export const SYNC_TAG_PROPERTY_SET_ID = '8b5e2f1c-3d4a-4c6b-9e7f-5a1d2c3b4e60';
export const SYNC_TAG_PROPERTY_NAME = 'SeveraActivityGuid';

export function syncTagDefinition(): ExtendedPropertyDefinition {
  return new ExtendedPropertyDefinition(new Guid(SYNC_TAG_PROPERTY_SET_ID), SYNC_TAG_PROPERTY_NAME, MapiPropertyType.String);
}

// ---- DateTime helpers ----

/**
 * An instant for Start/End. Kind Unspecified on purpose: the library scopes Start/End to the item's StartTimeZone and
 * refuses a Utc-kind value there ("DateTime Kind mismatch"); an Unspecified value built from the instant keeps the
 * instant through that conversion and is written as UTC.
 */
export function toEwsDateTime(instantMs: number): DateTime {
  return new DateTime(instantMs, DateTimeKind.Unspecified);
}

export function instantOf(value: DateTime | null | undefined): number | null {
  if (!value) return null;
  const ms = value.TotalMilliSeconds;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
}

export function isoOf(value: DateTime | null | undefined): string | null {
  const ms = instantOf(value);
  return ms === null ? null : new Date(ms).toISOString();
}

// ---- safe property access (unloaded properties throw in the library) ----

export function read<T>(get: () => T | null | undefined, fallback: T): T {
  try {
    const value = get();
    return value === undefined || value === null ? fallback : value;
  } catch {
    return fallback;
  }
}

/** An attendee's or organizer's address, trimmed and lower-cased; null when there is none. */
export function addressOf(value: { Address?: string } | null | undefined): string | null {
  const address = value?.Address;
  return typeof address === 'string' && address.length > 0 ? address.trim().toLowerCase() : null;
}
